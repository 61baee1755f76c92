//! Credentials: what a caller presents to prove who they are, and what the guard keeps of
//! them (never the secret itself).

pub mod admin_secret;
pub mod api_key;
mod counters;
pub mod format;
pub mod issued;
pub mod jwt;
pub mod password;
pub mod shown;
mod table;
pub mod throttle;
pub mod user;
