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
/// ```
/// guard_axum::policy! {
///     permissions { view_reports, edit_reports, manage_keys }   // optional
///     roles {
///         viewer: [view_reports],
///         editor: viewer + [edit_reports],   // editor inherits viewer
///         admin: editor + [manage_keys],
///     }
/// }
/// # fn main() { let _ = guard_axum::Guard::builder(&POLICY); }
/// ```
///
/// Grammar:
///
/// ```text
/// policy   := section*
/// section  := "permissions" "{" ident,* "}"      declare permissions up front (optional)
///           | "roles" "{" role,* "}"
///           | "crate" "=" "path" ";"?            guard_axum's path, for re-exporting crates
/// role     := ident ":" term ("+" term)*
/// term     := ident                              inherit that role's permissions and name
///           | "[" ident,* "]"                    grant these permissions
/// ```
///
/// With a `permissions` section, roles may only grant the permissions it declares; without
/// one, the permissions are those the roles name. A name is a role's or a permission's, never
/// both. Each mistake is one compile error, spanned on the name at fault (the `tests/ui` case
/// of each is named in brackets):
///
/// - a role declared twice (`duplicate_role`), a permission declared twice
///   (`permission_declared_twice`) or granted twice by one role (`permission_granted_twice`);
/// - a permission named like a role (`role_and_permission_share_a_name`);
/// - a permission the `permissions` section does not declare, with "did you mean"
///   (`undeclared_permission`);
/// - inheriting an undeclared role, with "did you mean" (`inherits_undeclared`), or a cycle
///   (`cycle`);
/// - an unknown section, with "did you mean" (`unknown_section`), a section twice
///   (`roles_twice`), or no `roles` (`no_roles`).
///
/// Emits `POLICY` (pass it to `Guard::builder`) and the hidden macro through which
/// `#[protected]` and `#[api_key]` check role and permission names at compile time. Declare
/// it at the crate root, or tell the attributes where it is with `policy = path::to::module`.
#[proc_macro]
pub fn policy(input: TokenStream) -> TokenStream {
    policy::policy(input.into()).into()
}

/// Protects an `async fn` axum handler: the request must meet the requirement before the
/// handler (or any body extractor) runs.
///
/// ```
/// use axum::http::request::Parts;
/// use guard_axum::{Principal, protected};
///
/// guard_axum::policy! {
///     roles {
///         viewer: [view_reports],
///         editor: viewer + [edit_reports],
///         admin: editor + [manage_keys],
///     }
/// }
///
/// #[protected]                                   // any authenticated caller
/// async fn me(who: Principal) -> String { who.name().to_owned() }
///
/// #[protected(roles = "admin")]                  // holding admin (or a role inheriting it)
/// async fn admin() {}
///
/// #[protected(roles = ["admin", "editor"])]      // any one of these roles
/// async fn staff() {}
///
/// #[protected(permissions = ["view_reports", "edit_reports"])]   // every one of these
/// async fn reports() {}
///
/// #[protected(check = is_owner)]                 // a predicate of your own
/// async fn own_notes() {}
///
/// // Several items must all hold; any(…) and all(…) nest.
/// #[protected(roles = "viewer", any(roles = "admin", all(permissions = "edit_reports", check = is_owner)))]
/// async fn notes() {}
///
/// /// A check: `fn(&Principal, &Parts) -> bool`, or the same as an `async fn`.
/// fn is_owner(who: &Principal, parts: &Parts) -> bool {
///     parts.uri.path().rsplit('/').next() == Some(who.name())
/// }
/// # fn main() {}
/// ```
///
/// Grammar:
///
/// ```text
/// args         := item,*                      every item must hold
/// item         := requirement
///               | "policy" "=" path           the module declaring policy! (default: crate root)
///               | "crate" "=" "path"          guard_axum's path, for re-exporting crates
/// requirement  := "roles" "=" names           any one of these roles; inherited roles count
///               | "permissions" "=" names     every one of these permissions
///               | "check" "=" path            fn(&Principal, &Parts) -> bool, sync or async
///               | "any" "(" requirement,+ ")" at least one holds
///               | "all" "(" requirement,+ ")" every one holds
/// names        := "name" | "[" "name",+ "]"
/// ```
///
/// Answers: no or invalid credentials, 401 with `WWW-Authenticate`; authenticated but not
/// allowed, 403; a `check` returning `false`, 403 (checks never run for anonymous callers).
///
/// At compile time every misuse is one error, spanned on the token at fault; the handler is
/// still emitted, so the error stands alone. The `tests/ui` case of each is in brackets:
///
/// - names: an unknown role or permission, naming what is declared and the closest match
///   (`"admn"`: did you mean `admin`?) (`unknown_role`, `unknown_role_in_list`,
///   `unknown_permission`, `permission_typo`); a role written as a permission, or the reverse
///   (`role_as_permission`, `permission_as_role`), and a near miss of the other kind
///   (`near_permission_as_role`); an empty name (`empty_role_name`); a name listed twice
///   (`name_listed_twice`); an empty list (`empty_list`) or `any()` (`empty_any`);
/// - arguments: an unknown one, with "did you mean" (`unknown_key`); one repeated
///   (`repeated_key`); a value of the wrong kind (`wrong_value_type`, `check_is_a_string`,
///   `crate_not_a_string`); a missing `=` (`missing_equals`); `policy` inside `any`/`all`
///   (`policy_inside_any`);
/// - checks: a function of the wrong signature (`check_wrong_signature`) or none of that name
///   (`check_not_found`);
/// - the policy: none at the crate root (`no_policy_in_crate`, `policy_not_found`), or
///   `policy = path` naming no module (`policy_module_missing`). rustc reports these as
///   "cannot find `__guard_policy`": declare `policy!` there, or point `policy =` at it; a
///   handler that is also routed then fails a second time where it is routed, saying the same;
/// - the item: not a function (`not_a_function`), not `async` (`not_async`), a method
///   (`method_with_self`), or two guard attributes on one handler (`two_guard_attributes`).
///
/// Role and permission names are resolved to bit sets at compile time: deciding a requirement
/// allocates nothing (a `check` boxes its future).
#[proc_macro_attribute]
pub fn protected(attr: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(Kind::Protected, attr.into(), item.into()).into()
}

/// Requires a valid API key (header `X-API-Key` or query parameter `api-key`), and whatever
/// else the arguments say; it takes the same arguments as [`macro@protected`].
///
/// ```
/// use guard_axum::api_key;
///
/// guard_axum::policy! { roles { reader: [read], writer: reader + [write] } }
///
/// #[api_key]                               // any valid key
/// async fn data() -> &'static str { "data" }
///
/// #[api_key(permissions = "write")]        // a key whose roles grant `write`
/// async fn upload() {}
/// # fn main() {}
/// ```
///
/// A caller authenticated some other way (a session, a proxy) gets a 401: it must present a
/// key.
#[proc_macro_attribute]
pub fn api_key(attr: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(Kind::ApiKey, attr.into(), item.into()).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn resolve(input: TokenStream) -> TokenStream {
    requirement::resolve::resolve(input.into()).into()
}
