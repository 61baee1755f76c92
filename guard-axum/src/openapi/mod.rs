//! The OpenAPI document of a guarded application (feature `openapi`, on [utoipa]): every
//! route's lock comes from its guard attribute, so the document says what the server enforces
//! and is never written twice.
//!
//! ```ignore
//! let (router, api) = utoipa_axum::router::OpenApiRouter::new()
//!     .routes(guard_axum::openapi::routes!(index))     // instead of utoipa_axum::routes!
//!     .routes(guard_axum::openapi::routes!(secure))
//!     .split_for_parts();
//! let api = guard.openapi(api, "/auth");               // where the guard's routers are nested
//! ```
//!
//! - [`routes!`](crate::openapi::routes) is `utoipa_axum::routes!` that also notes, for each
//!   handler, the requirement its `#[protected]` or `#[api_key]` put on it (a handler without
//!   one is public). Like utoipa's, it needs `utoipa` and `axum` among the application's
//!   dependencies, and the handlers' `#[utoipa::path]`; the two attributes may come in either
//!   order.
//! - [`Guard::openapi`](crate::Guard::openapi) turns the notes into the document's security:
//!   the schemes of the guard's authenticators (each describes its own, through
//!   `Authenticator::describe`), each requirement's roles and permissions as its scopes, and
//!   the 401, 403 and (with Basic) 429 answers with the guard's error body. It also documents
//!   the admin and auth routes, unless `GUARD_HIDE_DOCS` or [`GuardBuilder::hide_docs`] say
//!   not to.
//!
//! [utoipa]: https://docs.rs/utoipa
//! [`GuardBuilder::hide_docs`]: crate::GuardBuilder::hide_docs

mod document;
mod note;
mod probe;

pub(crate) use document::hide_docs_from_env;

/// `utoipa_axum::routes!` that also notes each handler's guard requirement for
/// [`Guard::openapi`](crate::Guard::openapi). Use it wherever `utoipa_axum::routes!` would
/// be used: `OpenApiRouter::new().routes(guard_axum::openapi::routes!(handler))`.
pub use crate::__guard_openapi_routes as routes;

/// What [`routes!`] expands to. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use super::note::note;
    pub use super::probe::{Probe, Public, Secured};
    pub use utoipa_axum;
}

#[doc(hidden)]
#[macro_export]
macro_rules! __guard_openapi_routes {
    ($handler:path $(, $tail:path)* $(,)?) => {{
        let (mut schemas, mut paths, mut router) =
            $crate::openapi::__private::utoipa_axum::routes!($handler);
        $crate::openapi::__private::note(&mut paths, {
            #[allow(unused_imports)]
            use $crate::openapi::__private::{Public as _, Secured as _};
            (&$crate::openapi::__private::Probe($handler)).requirement()
        });
        $(
            let (more_schemas, mut more_paths, more_router) =
                $crate::openapi::__private::utoipa_axum::routes!($tail);
            $crate::openapi::__private::note(&mut more_paths, {
                #[allow(unused_imports)]
                use $crate::openapi::__private::{Public as _, Secured as _};
                (&$crate::openapi::__private::Probe($tail)).requirement()
            });
            schemas.extend(more_schemas);
            paths.merge(more_paths);
            router = router.merge(more_router);
        )*
        (schemas, paths, router)
    }};
}

/// [`Principal`](crate::Principal) as the document shows it: `body = Principal` in a
/// handler's `#[utoipa::path]` responses.
mod principal_schema {
    use std::borrow::Cow;

    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};

    use crate::Principal;

    impl utoipa::PartialSchema for Principal {
        fn schema() -> RefOr<Schema> {
            let text = || ObjectBuilder::new().schema_type(Type::String);
            let kinds = ["user", "api_key", "session", "token", "jwt", "custom"];
            ObjectBuilder::new()
                .description(Some("The authenticated caller."))
                .property(
                    "id",
                    text().description(Some("Unique and stable: an API key's or a user's id")),
                )
                .property("name", text().description(Some("For display")))
                .property("kind", text().enum_values(Some(kinds)))
                .property("roles", ArrayBuilder::new().items(text()))
                .required("id")
                .required("name")
                .required("kind")
                .required("roles")
                .into()
        }
    }

    impl utoipa::ToSchema for Principal {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("GuardPrincipal")
        }
    }
}
