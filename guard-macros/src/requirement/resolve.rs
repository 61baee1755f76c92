//! `resolve!`: the second half of an attribute. `#[protected(roles = "admin")]` cannot see the
//! policy, so it calls the crate's `__guard_policy!`, which calls this macro with both the
//! policy's tokens and the attribute's arguments. Here every name is checked, spanned on its
//! string literal, and the requirement is expanded.
//!
//! Input: `policy { … } target { Ident } kind { protected | api_key } krate { path } args { … }`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, Path, braced};

use super::parse::Args;
use super::{Kind, deny_all, expand, impl_requirement};
use crate::policy::{parse::PolicyInput, valid};

struct ResolveInput {
    policy: TokenStream,
    target: Ident,
    kind: Kind,
    krate: Path,
    args: TokenStream,
}

fn section<T: Parse>(input: ParseStream<'_>, name: &str) -> syn::Result<T> {
    let label: Ident = input.parse()?;
    if label != name {
        return Err(syn::Error::new(label.span(), format!("expected `{name}`")));
    }
    let content;
    braced!(content in input);
    content.parse()
}

impl Parse for ResolveInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let policy = section(input, "policy")?;
        let target = section(input, "target")?;
        let kind: Ident = section(input, "kind")?;
        let kind = if kind == "api_key" { Kind::ApiKey } else { Kind::Protected };
        let krate = section(input, "krate")?;
        let args = section(input, "args")?;
        Ok(ResolveInput { policy, target, kind, krate, args })
    }
}

pub(crate) fn resolve(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<ResolveInput>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let krate = &input.krate;
    let deny = |error: Option<syn::Error>| {
        let error = error.map(|e| e.to_compile_error());
        let stub = impl_requirement(krate, &input.target, deny_all(krate), 0);
        quote!(#error #stub)
    };
    // `policy!` has already reported any problem with the policy itself.
    let Ok(policy) =
        syn::parse2::<PolicyInput>(input.policy.clone()).and_then(|p| valid::validate(&p))
    else {
        return deny(None);
    };
    let expanded = syn::parse2::<Args>(input.args.clone())
        .and_then(|args| expand(&args, input.kind, Some(&policy), krate, &input.target));
    expanded.unwrap_or_else(|error| deny(Some(error)))
}
