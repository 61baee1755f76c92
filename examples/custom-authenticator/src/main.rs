//! `cargo run -p custom-authenticator`: serves the example on 127.0.0.1:8081 (`GUARD_ADDR`),
//! trusting identities signed with `PROXY_KEY` (64 hex characters; a fixed demo key if unset).
//!
//! ```sh
//! curl -H 'X-Forwarded-User: ann' -H 'X-Forwarded-Roles: editor' \
//!      -H "X-Proxy-Signature: $(…the signature the proxy computes…)" http://127.0.0.1:8081/edit
//! ```

use std::process::ExitCode;

use custom_authenticator::{ProxySignature, app, guard};

const DEMO_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("custom-authenticator: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let hex = std::env::var("PROXY_KEY").unwrap_or_else(|_| DEMO_KEY.to_owned());
    let key =
        *blake3::Hash::from_hex(hex.trim()).map_err(|e| format!("PROXY_KEY: {e}"))?.as_bytes();
    let db = std::env::var("GUARD_DB").unwrap_or_else(|_| "custom-authenticator.redb".into());
    let guard = guard(db.as_ref(), key)?;
    let addr = std::env::var("GUARD_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    tracing::info!(
        "try: curl -H 'X-Forwarded-User: ann' -H 'X-Forwarded-Roles: editor' -H 'X-Proxy-Signature: {}' http://{}/edit",
        ProxySignature::sign(&key, "ann", "editor"),
        listener.local_addr()?
    );
    axum::serve(listener, app(&guard)).await?;
    guard.shutdown();
    Ok(())
}
