//! Usage: how often each credential is used, by what, with what outcome.
//!
//! On the request path a use is a few operations under the credential's own lock
//! ([`UsageSlot`]): its counters go up (exact, at once), the count of its (route, method,
//! outcome) cell for this minute goes up, and the use joins a short ring of its last requests.
//! Nothing is allocated per request: a cell is created the first time a credential meets a
//! route in a flush interval, and routes are interned.
//!
//! A writer thread ([`Usage`]) wakes every [`UsageConfig::flush_interval`] and writes what
//! every credential used since the last flush gathered: a counter delta, one row per cell and
//! minute, and at most [`UsageConfig::recent_per_credential`] recent requests. Its work grows
//! with the distinct (credential, route, outcome) seen, not with the number of requests, so a
//! flood of requests with a revoked key grows counters, not the file.
//!
//! A crash loses at most what was gathered since the last completed flush: the uses of the
//! last flush interval, plus those of the flush then being written.

mod config;
mod counts;
mod outcome;
mod recorder;
mod slot;
mod subject;
mod writer;

pub use self::config::UsageConfig;
pub(crate) use self::counts::load_counters;
pub use self::counts::{Counters, RecentUse, Rollup, SubjectUsage, UsageBatch};
pub use self::outcome::{RequestMethod, UsageOutcome};
pub use self::recorder::Usage;
pub use self::slot::{Detail, Tracked, UsageSlot};
pub use self::subject::{CredentialKind, Subject};
