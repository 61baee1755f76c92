//! What `policy!` emits:
//!
//! - `POLICY`, a `PolicySpec` that `Guard::builder` turns into the run-time registry;
//! - `__guard_policy!`, a `macro_rules!` that holds the declaration's tokens and hands them,
//!   together with an attribute's requirement, to the `resolve!` proc macro. That is how an
//!   attribute anywhere in the crate sees the policy and checks its names at compile time.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Path;

use super::valid::ValidPolicy;

pub(crate) fn expand(policy: &ValidPolicy, input: &TokenStream, krate: &Path) -> TokenStream {
    let fingerprint = policy.fingerprint;
    let permissions = &policy.permissions;
    let roles = policy.roles.iter().map(|role| {
        let name = &role.name;
        let inherits = role.inherits.iter().map(|&i| index(i));
        let perms = role.permissions.iter().map(|&i| index(i));
        quote!(#krate::__private::RoleSpec::new(#name, &[#(#inherits),*], &[#(#perms),*]))
    });
    let spec = quote! {
        #krate::__private::PolicySpec::new(#fingerprint, &[#(#permissions),*], &[#(#roles),*])
    };
    items(spec, input, krate)
}

/// After an error: the error, plus the same items with an empty spec, so that the rest of the
/// crate still resolves and the user sees one error rather than a cascade.
pub(crate) fn fallback(error: syn::Error, input: &TokenStream, krate: &Path) -> TokenStream {
    let error = error.to_compile_error();
    let items = items(quote!(#krate::__private::PolicySpec::EMPTY), input, krate);
    quote!(#error #items)
}

fn index(i: usize) -> u16 {
    // `validate` caps a policy at 256 entries.
    u16::try_from(i).unwrap_or(u16::MAX)
}

fn items(spec: TokenStream, input: &TokenStream, krate: &Path) -> TokenStream {
    quote! {
        /// The authorization policy declared with `policy!`: pass it to `Guard::builder`.
        pub static POLICY: #krate::__private::PolicySpec = #spec;

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! __guard_policy {
            ($($request:tt)*) => {
                #krate::__private::resolve! { policy { #input } $($request)* }
            };
        }

        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use __guard_policy;
    }
}
