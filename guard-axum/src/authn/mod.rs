//! The built-in HTTP authenticators, at the positions of `guard_core::authn::positions`:
//! API keys (100), bearer tokens (200), JWT (250), session cookies (300), Basic (400).

pub(crate) mod api_key;
mod basic;
pub(crate) mod bearer;
pub(crate) mod cookie;
mod jwt;
pub(crate) mod origin;
mod session;

pub use api_key::{
    ApiKeyAuthenticator, HEADER as API_KEY_HEADER, QUERY_PARAM as API_KEY_QUERY_PARAM,
};
pub use basic::BasicAuthenticator;
pub use bearer::BearerAuthenticator;
pub use cookie::{COOKIE as SESSION_COOKIE, SECURE_COOKIE as SECURE_SESSION_COOKIE};
pub use jwt::JwtAuthenticator;
pub use session::SessionAuthenticator;
