//! The routes the guard serves, mounted by the application: the admin API
//! (`router.nest("/auth", guard.admin_router())`). Contract: see DESIGN.md, "Admin routes".
//!
//! Bodies are JSON, capped in size, with unknown fields refused; every error is a JSON body in
//! the contract's shape.

mod admin;
mod auth;
mod body;
mod error;
mod keys;
mod login;
mod no_store;
mod paging;
mod policy;
mod rate_limit;
mod register;
mod token;
mod usage;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};

pub use self::admin::ADMIN_SECRET_HEADER;
pub use self::error::ApiError;
use crate::Guard;

/// The largest admin request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl Guard {
    /// The admin routes, to nest under a prefix of the application's choice (`/auth` in the
    /// examples):
    ///
    /// | route | does |
    /// |---|---|
    /// | `POST /keys` | create a key; the only response that shows it |
    /// | `GET /keys` | list keys with usage, most recently used first (`?limit=&offset=`) |
    /// | `GET /keys/{id}` | one key with its usage |
    /// | `POST /keys/{id}/revoke` | revoke |
    /// | `POST /keys/{id}/renew` | new expiry (`{expires_at?, ttl_days?, never_expires?, rate_limit?}`); reactivates |
    /// | `PATCH /keys/{id}` | a new rate limit `{rate_limit}` (`null` removes it) |
    /// | `DELETE /keys/{id}` | delete, with its usage |
    /// | `GET /keys/{id}/usage` | its last requests and rollups (`?limit=&since=&until=&granularity=`) |
    /// | `POST /users`, `GET /users` | create a user `{name, password, roles?}`; list them |
    /// | `GET/PATCH/DELETE /users/{id}` | one user; change `{name?, roles?, disabled?, rate_limit?}`; delete |
    /// | `PUT /users/{id}/password` | set the password `{password}`; ends the user's sessions and tokens |
    /// | `GET /users/{id}/sessions`, `DELETE /sessions/{id}` | a user's sessions; end one |
    /// | `DELETE /users/{id}/sessions` | end all of a user's sessions |
    /// | `POST /users/{id}/verify-password` | whether `{password}` is the user's (throttled as a login) |
    /// | `GET /roles` | the policy: each role, what it inherits, and its permissions with them |
    /// | `POST /admin-secret/rotate` | replace a generated admin secret; shows the new one once |
    pub fn admin_router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/keys", post(keys::create).get(keys::list))
            .route("/keys/{id}", get(keys::get).patch(keys::patch).delete(keys::delete))
            .route("/keys/{id}/revoke", post(keys::revoke))
            .route("/keys/{id}/renew", post(keys::renew))
            .route("/keys/{id}/usage", get(usage::usage))
            .route("/users", post(users::create).get(users::list))
            .route("/users/{id}", get(users::get).patch(users::patch).delete(users::delete))
            .route("/users/{id}/password", put(users::set_password))
            .route("/users/{id}/sessions", get(users::sessions).delete(users::end_sessions))
            .route("/users/{id}/verify-password", post(users::verify_password))
            .route("/roles", get(policy::roles))
            .route("/sessions/{id}", delete(users::end_session))
            .route("/admin-secret/rotate", post(admin::rotate_secret))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            // Its own guard layer: the admin API works, and its errors go through the error
            // hook, even where the application layers the guard only around other routes.
            .layer(self.layer())
            .with_state(self.clone())
    }
}
