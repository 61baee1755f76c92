//! How usage is recorded and kept.

use std::time::Duration;

/// How usage is recorded and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UsageConfig {
    /// How often gathered usage is written (default 1 s): the most a crash can lose.
    pub flush_interval: Duration,
    /// How many of each credential's last requests are kept (default 100).
    pub recent_per_credential: u32,
    /// Delete per-minute rollups older than this many days; `None` keeps them forever
    /// (default 30). Counters and the last requests are kept as long as the credential.
    pub retention_days: Option<u32>,
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig {
            flush_interval: Duration::from_secs(1),
            recent_per_credential: 100,
            retention_days: Some(30),
        }
    }
}

impl UsageConfig {
    /// Sets [`UsageConfig::flush_interval`].
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// Sets [`UsageConfig::recent_per_credential`] (at least 1).
    pub fn recent_per_credential(mut self, n: u32) -> Self {
        self.recent_per_credential = n.max(1);
        self
    }

    /// Sets [`UsageConfig::retention_days`].
    pub fn retention_days(mut self, days: Option<u32>) -> Self {
        self.retention_days = days;
        self
    }
}
