//! The built-in HTTP authenticators.

pub(crate) mod api_key;

pub use api_key::{
    ApiKeyAuthenticator, HEADER as API_KEY_HEADER, QUERY_PARAM as API_KEY_QUERY_PARAM,
};
