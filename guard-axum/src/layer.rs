//! `guard.layer()`: makes the [`Guard`] reachable from every request, whatever the router's
//! state type, by putting it in the request extensions, together with the slot where the
//! request's caller is memoised (one extension per request: each insert allocates).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::Request;
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::Guard;
use crate::guard::RequestAuth;
use crate::rejection::{ErrorHook, apply_hook};

/// The layer returned by [`Guard::layer`].
#[derive(Clone, Debug)]
pub struct GuardLayer {
    guard: Guard,
    /// Test mode: every request is this caller, whatever its credentials.
    preset: Option<guard_core::Principal>,
}

impl GuardLayer {
    pub(crate) fn new(guard: Guard) -> Self {
        GuardLayer { guard, preset: None }
    }

    #[cfg(any(debug_assertions, feature = "test-mode"))]
    pub(crate) fn with_principal(guard: Guard, principal: guard_core::Principal) -> Self {
        GuardLayer { guard, preset: Some(principal) }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService { inner, guard: self.guard.clone(), preset: self.preset.clone() }
    }
}

/// The service of [`GuardLayer`].
#[derive(Clone, Debug)]
pub struct GuardService<S> {
    inner: S,
    guard: Guard,
    preset: Option<guard_core::Principal>,
}

impl<S, B> Service<Request<B>> for GuardService<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let auth = match &self.preset {
            #[cfg(any(debug_assertions, feature = "test-mode"))]
            Some(principal) => RequestAuth::preset(self.guard.clone(), principal.clone()),
            _ => RequestAuth::new(self.guard.clone()),
        };
        request.extensions_mut().insert(auth);
        ResponseFuture { inner: self.inner.call(request), hook: self.guard.error_hook().cloned() }
    }
}

pin_project! {
    /// The future of [`GuardService`]: the inner response, with guard errors handed to the
    /// application's error hook if it set one.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        hook: Option<ErrorHook>,
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        Poll::Ready(Ok(match this.hook {
            Some(hook) => apply_hook(hook, response),
            None => response,
        }))
    }
}
