//! A background thread for what must happen now and then, off the request path: dropping
//! expired sessions and tokens, from memory and from the store, and forgetting idle login
//! failures. (The usage writer has its own thread.)

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::accounts::Accounts;

/// How often the maintenance runs.
const EVERY: Duration = Duration::from_secs(60);

/// The maintenance thread; stopped by [`Maintenance::stop`] or when dropped.
pub(crate) struct Maintenance {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Maintenance {
    pub(crate) fn start(accounts: Arc<Accounts>) -> std::io::Result<Self> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&stop);
        let thread =
            std::thread::Builder::new().name("guard-maintenance".into()).spawn(move || {
                let (stopped, wake) = &*signal;
                loop {
                    let guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
                    let (guard, _) = wake
                        .wait_timeout_while(guard, EVERY, |stopped| !*stopped)
                        .unwrap_or_else(PoisonError::into_inner);
                    if *guard {
                        return;
                    }
                    drop(guard);
                    match pollster::block_on(accounts.sweep()) {
                        Ok((expired, forgotten)) => tracing::debug!(
                            expired,
                            forgotten,
                            "expired sessions and tokens dropped, idle login failures forgotten"
                        ),
                        Err(error) => {
                            tracing::error!(%error, "maintenance could not finish; will retry")
                        }
                    }
                }
            })?;
        Ok(Maintenance { stop, thread: Mutex::new(Some(thread)) })
    }

    pub(crate) fn stop(&self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if thread.is_some_and(|t| t.join().is_err()) {
            tracing::error!("the maintenance thread panicked");
        }
    }
}

impl Drop for Maintenance {
    fn drop(&mut self) {
        self.stop();
    }
}
