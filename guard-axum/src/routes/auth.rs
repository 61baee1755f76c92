//! The routes people use: logging in and out, tokens, and who they are.

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use super::{MAX_BODY_BYTES, login, register, token};
use crate::{Guard, Principal};

/// `GET /me`: the caller, with the kind of credential that proved who they are.
async fn me(who: Principal) -> Json<Principal> {
    Json(who)
}

impl Guard {
    /// The routes people use, to nest under a prefix of the application's choice (`/auth` in
    /// the examples), next to [`Guard::admin_router`]:
    ///
    /// | route | does | when |
    /// |---|---|---|
    /// | `GET /login` | a login page | sessions are on |
    /// | `POST /login` | form or JSON `{username, password, next?}` → a session cookie | sessions are on |
    /// | `POST /logout` | ends the session, clears the cookie | sessions are on |
    /// | `POST /token` | OAuth2 password grant → `{access_token, token_type, expires_in}` | bearer tokens or JWT issuing are on |
    /// | `POST /token/revoke` | RFC 7009 revocation | bearer tokens are on |
    /// | `POST /register` | form or JSON `{username, password}` → 201 with the new user | registration is on |
    /// | `GET /me` | the caller | always |
    pub fn auth_router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let logins = self.logins();
        let mut router = Router::new().route("/me", get(me));
        if logins.sessions {
            router = router
                .route("/login", get(login::show).post(login::login))
                .route("/logout", post(login::logout));
        }
        if logins.tokens || logins.issue_jwts {
            router = router.route("/token", post(token::token));
        }
        if logins.tokens {
            router = router.route("/token/revoke", post(token::revoke));
        }
        if logins.registration.is_some() {
            router = router.route("/register", post(register::register));
        }
        router
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(self.layer())
            .with_state(self.clone())
    }
}
