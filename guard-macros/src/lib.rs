//! Procedural macros of guard. Use them through `guard_axum`, which re-exports them:
//! `policy!`, `#[protected]` and `#[api_key]`.

mod errors;
mod handler;
mod krate;
mod policy;
mod requirement;
mod suggest;

use proc_macro::TokenStream;

use requirement::Kind;

/// Declares the application's roles and permissions, once, at the crate root.
///
/// ```ignore
/// guard_axum::policy! {
///     roles {
///         viewer: [view_reports],
///         editor: viewer + [edit_reports],   // editor inherits viewer
///         admin: editor + [manage_keys],
///     }
/// }
/// ```
///
/// An optional `permissions { view_reports, edit_reports, manage_keys }` section declares the
/// permissions up front; roles may then only grant those. Without it, the permissions are the
/// ones the roles name.
///
/// Emits `POLICY` (pass it to `Guard::builder`) and the hidden macro through which
/// `#[protected]` and `#[api_key]` check role and permission names at compile time.
/// Duplicates, undeclared roles and inheritance cycles are compile errors.
#[proc_macro]
pub fn policy(input: TokenStream) -> TokenStream {
    policy::policy(input.into()).into()
}

/// Protects an `async fn` axum handler.
///
/// ```ignore
/// #[protected]                                  // any authenticated caller
/// #[protected(roles = "admin")]                 // holding `admin` (or a role inheriting it)
/// #[protected(roles = ["admin", "editor"])]     // any of these roles
/// #[protected(permissions = "view_reports")]    // every one of these permissions
/// ```
///
/// No or invalid credentials answer 401; a caller without the role answers 403. A role or
/// permission the policy does not declare is a compile error pointing at the string. The
/// handler may take `Principal` and any other extractor (a body extractor still goes last).
///
/// Other arguments: `policy = path::to::module` when `policy!` is not at the crate root;
/// `crate = "path"` when guard is reached through a re-exporting crate.
#[proc_macro_attribute]
pub fn protected(attr: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(Kind::Protected, attr.into(), item.into()).into()
}

/// Requires a valid API key (in header `X-API-Key` or query parameter `api-key`).
///
/// ```ignore
/// #[api_key]                        // any valid key
/// #[api_key(roles = "admin")]       // a key holding `admin`
/// ```
/// Takes the same arguments as `#[protected]`.
#[proc_macro_attribute]
pub fn api_key(attr: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(Kind::ApiKey, attr.into(), item.into()).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn resolve(input: TokenStream) -> TokenStream {
    requirement::resolve::resolve(input.into()).into()
}
