//! Listening for the changes other instances make: a task on the store's runtime receives
//! `NOTIFY` on the schema's channel and raises the change signal, which wakes the guard's
//! follower. A lost connection is made again (with a growing wait while the database is
//! away), and the signal is raised then too, since notifications sent meanwhile are lost:
//! the follower then reads every change after its cursors, which loses nothing.

use std::sync::Arc;
use std::time::Duration;

use guard_core::store::{ChangeSignal, StoreError};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// The longest wait between two attempts to listen again.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Starts listening (the first connection must work), then keeps listening in a task.
pub(crate) async fn start(
    pool: PgPool,
    channel: Arc<str>,
    signal: Arc<ChangeSignal>,
    location: &str,
) -> Result<(), StoreError> {
    // Its own connection, not one of the pool's: it is held for good.
    let own = pool.connect_options();
    let listening_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(MAX_WAIT)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with((*own).clone());
    let listener = listen(&listening_pool, &channel)
        .await
        .map_err(|e| StoreError::Open { location: location.to_owned(), source: Box::new(e) })?;
    tokio::spawn(keep_listening(listener, listening_pool, channel, signal));
    Ok(())
}

async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

async fn keep_listening(
    first: PgListener,
    pool: PgPool,
    channel: Arc<str>,
    signal: Arc<ChangeSignal>,
) {
    let mut listening = Some(first);
    let mut wait = Duration::from_millis(100);
    loop {
        let mut listener = match listening.take() {
            Some(listener) => listener,
            None => match listen(&pool, &channel).await {
                Ok(listener) => {
                    tracing::info!("listening for PostgreSQL notifications again");
                    signal.raise();
                    wait = Duration::from_millis(100);
                    listener
                }
                Err(_) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(MAX_WAIT);
                    continue;
                }
            },
        };
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => signal.raise(),
                Ok(None) => {
                    tracing::warn!(
                        "the PostgreSQL notification connection was lost and made again"
                    );
                    signal.raise();
                }
                Err(error) => {
                    tracing::warn!(%error, "lost the PostgreSQL notification connection");
                    // Dropped here, so that its connection goes back before the next.
                    break;
                }
            }
        }
    }
}
