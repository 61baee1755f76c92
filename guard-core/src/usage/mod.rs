//! Usage: the words for how often each credential is used, by what, with what outcome
//! ([`Subject`], [`UsageOutcome`], [`Counters`], [`Rollup`], …), and where one credential
//! gathers its uses ([`UsageSlot`]).
//!
//! On the request path a use is a few operations under the credential's own lock
//! ([`UsageSlot`]): its counters go up (exact, at once), the count of its (route, method,
//! outcome) cell for this minute goes up, and the use joins a short ring of its last requests.
//! Nothing is allocated per request: a cell is created the first time a credential meets a
//! route in a flush interval, and routes are interned. Recording a use and writing what was
//! gathered is `recording`'s; the store keeps it (`UsageStore`).

mod counts;
pub(crate) mod limit;
mod outcome;
mod slot;
mod subject;

pub use self::counts::{Counters, RecentUse, Rollup, SubjectUsage, UsageBatch};
pub use self::limit::{InvalidRateLimit, MAX_PER_SECONDS, MAX_REQUESTS, RateLimit, RateLimiter};
pub use self::outcome::{RequestMethod, UsageOutcome};
pub(crate) use self::slot::Use;
pub use self::slot::{Detail, Tracked, UsageSlot};
pub use self::subject::{CredentialKind, Subject};
