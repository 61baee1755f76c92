//! Several instances of the demo on one PostgreSQL schema, each with its own guard, its own
//! connections and its own server on 127.0.0.1, as replicas behind a load balancer.

use std::time::{Duration, Instant};

use guard_axum::{Guard, GuardBuilder, UsageConfig};
use guard_postgres::testing::TestDatabase;

use crate::{ADMIN_SECRET, TestServer};

pub use guard_postgres::testing::database;

/// One running instance.
pub struct Instance {
    /// Its guard.
    pub guard: Guard,
    /// Its server.
    pub server: TestServer,
}

impl Instance {
    /// The URL of `path` on this instance.
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// Stops it as a deploy does: no new connections, in-flight requests finish, then its
    /// gathered usage is written.
    pub async fn stop(self) {
        self.server.stop().await.expect("the server stops");
        self.guard.shutdown();
    }
}

/// The demo's guard on `schema` of `db`, named `name` in `pg_stat_activity`, with usage
/// written every 100 ms, and no admin secret configured.
pub fn unsecured_builder(db: &TestDatabase, schema: &str, name: &str) -> GuardBuilder {
    let builder = Guard::builder(&demo::POLICY)
        .database_url(db.url())
        .postgres(db.config(schema).application_name(name))
        .usage(UsageConfig::default().flush_interval(Duration::from_millis(100)));
    demo::configure(builder)
}

/// [`unsecured_builder`] with the test admin secret.
pub fn builder(db: &TestDatabase, schema: &str, name: &str) -> GuardBuilder {
    unsecured_builder(db, schema, name).admin_secret(ADMIN_SECRET)
}

/// Builds the guard and serves the demo's routes with it.
pub async fn serve(builder: GuardBuilder) -> Instance {
    let guard = builder.build().expect("an instance's guard");
    let server = TestServer::start(demo::app(&guard)).await.expect("a server on 127.0.0.1");
    Instance { guard, server }
}

/// Starts an instance of the demo's routes on `schema`; `configure` adds to its builder.
pub async fn start(
    db: &TestDatabase,
    schema: &str,
    name: &str,
    configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
) -> Instance {
    serve(configure(builder(db, schema, name))).await
}

/// Waits until `check` holds, trying every 10 ms for up to 10 s; panics saying `what`
/// otherwise. How long it took is what `bench/revocation` measures; here only that it
/// happens.
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "after 10 s, still not: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Ends every connection of the instance named `name`, as an operator or a failover does.
pub fn kill_connections(db: &TestDatabase, name: &str) {
    db.execute(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{name}'"
    ));
}

/// `GET path` with an API key; the status.
pub async fn get_with_key(
    client: &reqwest::Client,
    instance: &Instance,
    path: &str,
    key: &str,
) -> u16 {
    match client.get(instance.url(path)).header("x-api-key", key).send().await {
        Ok(response) => response.status().as_u16(),
        Err(error) => panic!("GET {path}: {error}"),
    }
}

/// `GET path` with a header; the status.
pub async fn get_with(
    client: &reqwest::Client,
    instance: &Instance,
    path: &str,
    header: (&str, &str),
) -> u16 {
    match client.get(instance.url(path)).header(header.0, header.1).send().await {
        Ok(response) => response.status().as_u16(),
        Err(error) => panic!("GET {path}: {error}"),
    }
}
