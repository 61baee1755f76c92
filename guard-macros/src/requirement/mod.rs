//! Requirements: parsed from attribute arguments, resolved against the policy, expanded into
//! a `Requirement` constant of policy indices.

pub(crate) mod parse;
pub(crate) mod resolve;

use proc_macro2::TokenStream;
use quote::quote;
use syn::Path;

/// Which attribute a requirement came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Protected,
    ApiKey,
}

impl Kind {
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Kind::Protected => "protected",
            Kind::ApiKey => "api_key",
        }
    }
}

/// `impl HandlerRequirement for #target`.
pub(crate) fn impl_requirement(
    krate: &Path,
    target: &syn::Ident,
    requirement: TokenStream,
    fingerprint: u64,
) -> TokenStream {
    quote! {
        impl #krate::__private::HandlerRequirement for #target {
            const REQUIREMENT: #krate::__private::Requirement = #requirement;
            const POLICY_FINGERPRINT: u64 = #fingerprint;
        }
    }
}

/// The requirement of an attribute that names no role or permission.
pub(crate) fn unnamed(krate: &Path, kind: Kind) -> TokenStream {
    match kind {
        Kind::Protected => quote!(#krate::__private::Requirement::Authenticated),
        Kind::ApiKey => quote!(#krate::__private::Requirement::ApiKey),
    }
}

/// A requirement that lets nobody in: what is emitted next to a compile error, so that the
/// error stands alone.
pub(crate) fn deny_all(krate: &Path) -> TokenStream {
    quote!(#krate::__private::Requirement::Any(&[]))
}

/// A set of indices as the four words of a `BitSet`.
pub(crate) fn bitset(krate: &Path, indices: &[usize]) -> TokenStream {
    let mut words = [0u64; 4];
    for &i in indices {
        words[i / 64] |= 1 << (i % 64);
    }
    let [a, b, c, d] = words;
    quote!(#krate::__private::BitSet::from_words([#a, #b, #c, #d]))
}
