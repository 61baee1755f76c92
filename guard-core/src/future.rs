//! The boxed future of the object-safe twins of async traits (the store's, an authenticator's
//! answer given later, a requirement's check).

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future, as object-safe async traits return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
