//! Recording usage: the recorder every use is handed to on the request path ([`Usage`]), and
//! the writer thread that stores what each credential gathered.
//!
//! The writer wakes every [`UsageConfig::flush_interval`] and writes what every credential
//! used since the last flush gathered: a counter delta, one row per cell and minute, and at
//! most [`UsageConfig::recent_per_credential`] recent requests. Its work grows with the
//! distinct (credential, route, outcome) seen, not with the number of requests, so a flood of
//! requests with a revoked key grows counters, not the store.
//!
//! A crash loses at most what was gathered since the last completed flush: the uses of the
//! last flush interval, plus those of the flush then being written.

mod config;
mod limits;
mod recorder;
mod writer;

pub use self::config::UsageConfig;
pub use self::limits::RateLimits;
pub use self::recorder::Usage;
