//! `cargo run -p demo`: serves the demo on `GUARD_ADDR` (default 127.0.0.1:8080) with its keys
//! in `GUARD_DB` (default `guard.redb`).
//!
//! It serves as an application exposed to the internet should: a client that does not send
//! its request's head within `GUARD_HEADER_TIMEOUT_SECONDS` (30), whether it sends half of it
//! or nothing, or stays idle that long between requests, is disconnected; at most
//! `GUARD_MAX_CONNECTIONS` (1024) connections are served at once, further ones waiting to be
//! accepted; a head is at most 64 KiB and 100 headers; a request not answered within
//! `GUARD_REQUEST_TIMEOUT_SECONDS` (30) of its head, a body trickled a byte at a time, is
//! answered 408. It speaks HTTP/1.1.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;
use tower::Service;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A whole number from the environment, or `default`.
fn setting(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(value) => value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name}={value:?} is not a whole number above 0")),
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("GUARD_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8080".into())
        .parse()
        .map_err(|e| format!("GUARD_ADDR is not an address: {e}"))?;
    let header_timeout = Duration::from_secs(setting("GUARD_HEADER_TIMEOUT_SECONDS", 30)?);
    let max_connections = usize::try_from(setting("GUARD_MAX_CONNECTIONS", 1024)?)?;
    let request_timeout = Duration::from_secs(setting("GUARD_REQUEST_TIMEOUT_SECONDS", 30)?);
    let guard = demo::guard_from_env()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    // The routes are built once, not per request.
    let app = demo::app(&guard)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .with_state::<()>(());

    // HTTP/1.1, as browsers speak it without TLS. The header timer runs from the moment the
    // server waits for a request's head, so it is also the limit on an idle connection, new
    // or kept alive between requests.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(64 * 1024)
        .max_headers(100);
    let connections = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        // A connection is accepted only when one may be served.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit?,
            () = &mut stop => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let app = app.clone();
        // With the client's address, which login throttling counts by.
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().call(request)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that breaks off or times out is nothing to report.
            let _ = connection.await;
            drop(permit);
        });
    }
    // Finish what is in flight, for at most ten seconds.
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    // Write the usage records still buffered before exiting.
    guard.shutdown();
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
