//! The usage aggregate: counters, per-minute rollups and the last requests of each
//! credential, and the trait a backend implements for them. Never a secret, never a query
//! string.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::clock::Timestamp;

/// The kind of credential whose use is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialKind {
    /// An API key.
    ApiKey,
    /// A login session.
    Session,
    /// A bearer token.
    Token,
}

impl CredentialKind {
    /// Its stable one-byte code, for storage.
    pub fn code(self) -> u8 {
        match self {
            CredentialKind::ApiKey => 1,
            CredentialKind::Session => 2,
            CredentialKind::Token => 3,
        }
    }

    /// The kind with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => CredentialKind::ApiKey,
            2 => CredentialKind::Session,
            3 => CredentialKind::Token,
            _ => return None,
        })
    }
}

/// Whose usage: a credential, by kind and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    /// What kind of credential.
    pub kind: CredentialKind,
    /// Its public id.
    pub id: String,
}

impl Subject {
    /// The subject for a credential.
    pub fn new(kind: CredentialKind, id: impl Into<String>) -> Self {
        Subject { kind, id: id.into() }
    }
}

/// What became of one authentication attempt with a known credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UsageOutcome {
    /// Authenticated and allowed.
    Ok,
    /// The credential was revoked.
    Revoked,
    /// The credential had expired.
    Expired,
    /// Authenticated, but the credential lacks what the route requires.
    Forbidden,
}

impl UsageOutcome {
    /// Its stable one-byte code, for storage.
    pub fn code(self) -> u8 {
        match self {
            UsageOutcome::Ok => 0,
            UsageOutcome::Revoked => 1,
            UsageOutcome::Expired => 2,
            UsageOutcome::Forbidden => 3,
        }
    }

    /// The outcome with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => UsageOutcome::Ok,
            1 => UsageOutcome::Revoked,
            2 => UsageOutcome::Expired,
            3 => UsageOutcome::Forbidden,
            _ => return None,
        })
    }
}

/// A request method, as usage keeps it: the standard ones by name, anything else as `OTHER`,
/// so that a client inventing methods cannot make the usage tables grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RequestMethod {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// CONNECT
    Connect,
    /// TRACE
    Trace,
    /// Any extension method.
    Other,
}

impl RequestMethod {
    const ALL: [RequestMethod; 10] = [
        RequestMethod::Get,
        RequestMethod::Head,
        RequestMethod::Post,
        RequestMethod::Put,
        RequestMethod::Patch,
        RequestMethod::Delete,
        RequestMethod::Options,
        RequestMethod::Connect,
        RequestMethod::Trace,
        RequestMethod::Other,
    ];

    /// The method's name (`OTHER` for extension methods).
    pub fn as_str(self) -> &'static str {
        match self {
            RequestMethod::Get => "GET",
            RequestMethod::Head => "HEAD",
            RequestMethod::Post => "POST",
            RequestMethod::Put => "PUT",
            RequestMethod::Patch => "PATCH",
            RequestMethod::Delete => "DELETE",
            RequestMethod::Options => "OPTIONS",
            RequestMethod::Connect => "CONNECT",
            RequestMethod::Trace => "TRACE",
            RequestMethod::Other => "OTHER",
        }
    }

    /// Its stable one-byte code, for storage.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The method with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }
}

impl From<&http::Method> for RequestMethod {
    fn from(method: &http::Method) -> Self {
        match *method {
            http::Method::GET => RequestMethod::Get,
            http::Method::HEAD => RequestMethod::Head,
            http::Method::POST => RequestMethod::Post,
            http::Method::PUT => RequestMethod::Put,
            http::Method::PATCH => RequestMethod::Patch,
            http::Method::DELETE => RequestMethod::Delete,
            http::Method::OPTIONS => RequestMethod::Options,
            http::Method::CONNECT => RequestMethod::Connect,
            http::Method::TRACE => RequestMethod::Trace,
            _ => RequestMethod::Other,
        }
    }
}

impl Serialize for RequestMethod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A credential's use counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Authentication attempts with the credential, whatever their outcome.
    pub uses: u64,
    /// The latest of them; `None` if never used.
    pub last_used_at: Option<Timestamp>,
}

/// One of the last requests made with a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentUse {
    /// Which use of the credential this was (1 for the first): orders its uses.
    pub n: u64,
    /// When.
    pub at: Timestamp,
    /// The request method.
    pub method: RequestMethod,
    /// What became of it.
    pub outcome: UsageOutcome,
    /// The matched route pattern (e.g. `/reports/{id}`), never the path or query.
    pub route: String,
}

/// How many requests with one credential, in one minute, had one route, method and outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollup {
    /// The start of the minute.
    pub minute: Timestamp,
    /// The matched route pattern.
    pub route: String,
    /// The request method.
    pub method: RequestMethod,
    /// What became of them.
    pub outcome: UsageOutcome,
    /// How many.
    pub count: u64,
}

/// What one subject did since the last flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectUsage {
    /// Whose.
    pub subject: Subject,
    /// Uses to add (a delta: several instances add theirs) and the latest use.
    pub counters: Counters,
    /// Counts to add, per minute, route, method and outcome.
    pub rollups: Vec<Rollup>,
    /// The newest uses, to keep among the last ones.
    pub recent: Vec<RecentUse>,
}

/// One flush of the usage writer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageBatch {
    /// How many recent uses to keep per subject.
    pub recent_capacity: u32,
    /// Per subject, what to add.
    pub subjects: Vec<SubjectUsage>,
}

/// Where a backend keeps usage.
///
/// Writes are additive, so several instances can write their own counts: counters and
/// rollups are added to, never overwritten.
pub trait UsageStore: Send + Sync + 'static {
    /// Adds a batch in one durable transaction. Usage of a credential that does not exist
    /// (any more) is dropped.
    fn apply_usage(&self, batch: UsageBatch)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The counters of the credentials of `kind` with an id after `after`, in id order, at
    /// most `limit` of them.
    fn counters(
        &self,
        kind: CredentialKind,
        after: Option<String>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(String, Counters)>, StoreError>> + Send;

    /// The last `limit` uses of a credential, newest first.
    fn recent_uses(
        &self,
        subject: Subject,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecentUse>, StoreError>> + Send;

    /// The rollups of a credential with a minute in `from..until`, oldest first.
    fn rollups(
        &self,
        subject: Subject,
        from: Timestamp,
        until: Timestamp,
    ) -> impl Future<Output = Result<Vec<Rollup>, StoreError>> + Send;

    /// Forgets all usage of a credential.
    fn delete_usage(&self, subject: Subject)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the rollups of minutes before `before`; returns how many.
    fn prune_usage(
        &self,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
