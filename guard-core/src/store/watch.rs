//! Following a store that other processes write to: the store wakes its followers when a
//! write may have happened elsewhere, and they read what changed through the change cursors.
//! The signal only makes them prompt; completeness comes from the cursors, which they also
//! read on a timer, so a lost wake-up delays a change, never loses it.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Wakes the followers of a store when another process may have written to it.
#[derive(Debug, Default)]
pub struct ChangeSignal {
    /// How many times it was raised.
    raised: Mutex<u64>,
    wake: Condvar,
}

impl ChangeSignal {
    /// A new signal, never raised.
    pub fn new() -> Self {
        ChangeSignal::default()
    }

    /// Something may have changed: a notification arrived, or the connection that receives
    /// them was lost and made again (so some may have been missed).
    pub fn raise(&self) {
        *self.raised.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.wake.notify_all();
    }

    /// How many times it was raised so far.
    pub(crate) fn raised(&self) -> u64 {
        *self.raised.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until it is raised after `seen` raises, or `timeout` passes; returns how many
    /// times it was raised by then.
    pub(crate) fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let raised = self.raised.lock().unwrap_or_else(PoisonError::into_inner);
        let (raised, _) = self
            .wake
            .wait_timeout_while(raised, timeout, |raised| *raised == seen)
            .unwrap_or_else(PoisonError::into_inner);
        *raised
    }
}

/// How a store says whether other processes write to it.
pub trait WatchStore: Send + Sync + 'static {
    /// The signal that wakes its followers, for a store that other processes write to; `None`
    /// (the default) for a store only this process writes, whose indexes follow it by
    /// themselves.
    fn watch(&self) -> Option<Arc<ChangeSignal>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_a_raise_or_the_timeout() {
        let signal = Arc::new(ChangeSignal::new());
        let seen = signal.raised();
        assert_eq!(signal.wait(seen, Duration::from_millis(10)), seen, "timed out");
        let raiser = Arc::clone(&signal);
        let thread = std::thread::spawn(move || raiser.raise());
        assert_eq!(signal.wait(seen, Duration::from_secs(30)), seen + 1);
        thread.join().unwrap();
        assert_eq!(signal.wait(seen, Duration::from_secs(30)), seen + 1, "already raised");
    }
}
