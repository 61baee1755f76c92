//! What usage adds up to: a credential's counters, its per-minute rollups and its last
//! requests, and what one flush of the writer hands the store.

use super::{RequestMethod, Subject, UsageOutcome};
use crate::clock::Timestamp;

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
