//! The chain: every authenticator of a guard, in position order.

use super::authenticator::{AuthRequest, Authenticator, Description, Outcome, Verdict};
use crate::error::Error;
use crate::future::BoxFuture;

/// The authenticators of a guard, lower positions first. Each runs only if all before it
/// answered "not mine"; the first other answer decides.
pub struct Chain {
    links: Vec<(u32, Box<dyn Authenticator>)>,
    challenge: Option<String>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let links: Vec<(u32, &str)> = self.links.iter().map(|(p, a)| (*p, a.name())).collect();
        f.debug_struct("Chain").field("links", &links).finish()
    }
}

/// Where a run of the chain stands.
#[non_exhaustive]
pub enum Progress<'a> {
    /// The chain's answer ([`Outcome::NotMine`] if nobody claimed the request).
    Decided(Outcome),
    /// An authenticator answers later: await `future`, then go on from link `next`.
    Waiting {
        /// The authenticator's answer, to come.
        future: BoxFuture<'a, Outcome>,
        /// The link after it.
        next: usize,
    },
}

/// Fails if two of the (position, name) pairs share a position, naming both.
pub fn check_positions<'a>(links: impl IntoIterator<Item = (u32, &'a str)>) -> Result<(), Error> {
    let mut links: Vec<(u32, &str)> = links.into_iter().collect();
    // Stable: among equal positions the registration order is kept, for the error.
    links.sort_by_key(|(position, _)| *position);
    match links.windows(2).find(|w| w[0].0 == w[1].0) {
        Some(pair) => Err(Error::DuplicatePosition {
            position: pair[0].0,
            first: pair[0].1.to_owned(),
            second: pair[1].1.to_owned(),
        }),
        None => Ok(()),
    }
}

impl Chain {
    /// Orders the authenticators by position. Two at one position are an error: their order
    /// would be arbitrary.
    pub fn new(mut links: Vec<(u32, Box<dyn Authenticator>)>) -> Result<Self, Error> {
        check_positions(links.iter().map(|(p, a)| (*p, a.name())))?;
        links.sort_by_key(|(position, _)| *position);
        // One challenge per scheme: opaque bearer tokens and JWTs share `Bearer`.
        let mut challenges: Vec<String> = Vec::new();
        for challenge in links.iter().filter_map(|(_, a)| a.describe().challenge()) {
            if !challenges.contains(&challenge) {
                challenges.push(challenge);
            }
        }
        let challenge = (!challenges.is_empty()).then(|| challenges.join(", "));
        Ok(Chain { links, challenge })
    }

    /// Runs the authenticators in order; [`Outcome::NotMine`] if none claimed the request.
    pub async fn authenticate(&self, request: &AuthRequest<'_>) -> Outcome {
        self.finish(self.begin(request), request).await
    }

    /// Runs the authenticators in order for as long as they answer at once: the request
    /// path's common case, decided without building or awaiting any future. What is left,
    /// if an authenticator must wait, is [`Chain::finish`]ed.
    pub fn begin<'a>(&'a self, request: &'a AuthRequest<'a>) -> Progress<'a> {
        self.run_from(0, request)
    }

    /// Awaits what [`Chain::begin`] left, and runs the rest of the chain.
    pub async fn finish<'a>(
        &'a self,
        mut progress: Progress<'a>,
        request: &'a AuthRequest<'a>,
    ) -> Outcome {
        loop {
            match progress {
                Progress::Decided(outcome) => return outcome,
                Progress::Waiting { future, next } => match future.await {
                    Outcome::NotMine => progress = self.run_from(next, request),
                    decided => return decided,
                },
            }
        }
    }

    fn run_from<'a>(&'a self, start: usize, request: &'a AuthRequest<'a>) -> Progress<'a> {
        for (i, (_, authenticator)) in self.links.iter().enumerate().skip(start) {
            match authenticator.authenticate(request) {
                Verdict::Now(Outcome::NotMine) => continue,
                Verdict::Now(decided) => return Progress::Decided(decided),
                Verdict::Later(future) => return Progress::Waiting { future, next: i + 1 },
            }
        }
        Progress::Decided(Outcome::NotMine)
    }

    /// Every authenticator's challenge, in chain order, joined: the `WWW-Authenticate` of a
    /// request that needs credentials.
    pub fn challenge(&self) -> Option<&str> {
        self.challenge.as_deref()
    }

    /// Each authenticator's position, name and description, in chain order.
    pub fn describe(&self) -> impl Iterator<Item = (u32, &str, Description)> {
        self.links.iter().map(|(p, a)| (*p, a.name(), a.describe()))
    }
}
