//! The path generated code uses to reach the runtime: `::guard_axum` unless the user says
//! `crate = "…"` (for crates that re-export guard).

use syn::Path;

pub(crate) fn default_path() -> Path {
    syn::parse_quote!(::guard_axum)
}
