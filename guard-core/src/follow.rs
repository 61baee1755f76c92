//! Following a store that other instances write to (PostgreSQL): a thread that applies their
//! writes to this instance's indexes, promptly when the store raises its change signal (a
//! `NOTIFY`, or a reconnection after which notifications may have been lost), and every
//! `interval` in any case, so that a lost signal delays a change, never loses it. Each pass
//! reads the changes after the indexes' cursors, so it applies every write exactly once,
//! however many passes overlap.
//!
//! While the store cannot be reached, requests go on being served from the indexes as they
//! are; the first pass that succeeds afterwards brings them up to date.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::accounts::Accounts;
use crate::credentials::admin_secret::AdminGate;
use crate::credentials::api_key::KeyRing;
use crate::recording::RateLimits;
use crate::store::{ChangeSignal, SharedStore, StoreError};

/// What a pass brings up to date.
pub(crate) struct Followed {
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) accounts: Arc<Accounts>,
    /// The admin gate, once the secret is established.
    pub(crate) admin: Arc<OnceLock<Arc<AdminGate>>>,
    /// The rate limits, whose counts are exchanged with the other instances.
    pub(crate) limits: Arc<RateLimits>,
    pub(crate) store: SharedStore,
}

impl Followed {
    async fn catch_up(&self) -> Result<(), StoreError> {
        self.accounts.sync().await?;
        self.keys.sync().await?;
        if let Some(admin) = self.admin.get() {
            admin.reload().await?;
        }
        self.limits.share(&self.store).await
    }
}

/// The follower thread; stopped by [`Follower::stop`] or when dropped.
pub(crate) struct Follower {
    stopped: Arc<AtomicBool>,
    signal: Arc<ChangeSignal>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Follower {
    pub(crate) fn start(
        signal: Arc<ChangeSignal>,
        interval: Duration,
        followed: Followed,
    ) -> std::io::Result<Self> {
        let stopped = Arc::new(AtomicBool::new(false));
        let (stop, wake) = (Arc::clone(&stopped), Arc::clone(&signal));
        let interval = interval.max(Duration::from_millis(10));
        let thread = std::thread::Builder::new().name("guard-follower".into()).spawn(move || {
            let mut seen = wake.raised();
            let mut failing = false;
            loop {
                seen = wake.wait(seen, interval);
                if stop.load(Ordering::Acquire) {
                    return;
                }
                match pollster::block_on(followed.catch_up()) {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("the store answers again; caught up with its changes");
                    }
                    Ok(()) => {}
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(
                            %error,
                            "cannot read the store's changes; serving from memory until it answers"
                        );
                    }
                    Err(_) => {}
                }
            }
        })?;
        Ok(Follower { stopped, signal, thread: Mutex::new(Some(thread)) })
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.signal.raise();
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if thread.is_some_and(|t| t.join().is_err()) {
            tracing::error!("the follower thread panicked");
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop();
    }
}
