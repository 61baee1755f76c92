//! `policy!`: parse, validate, then expand into the run-time spec and the callback macro that
//! lets `#[protected]` check names against this declaration.

mod expand;
pub(crate) mod parse;
pub(crate) mod valid;

use proc_macro2::TokenStream;

use crate::krate;

pub(crate) fn policy(input: TokenStream) -> TokenStream {
    let parsed = syn::parse2::<parse::PolicyInput>(input.clone());
    let krate = match &parsed {
        Ok(p) => p.krate.clone().unwrap_or_else(krate::default_path),
        Err(_) => krate::default_path(),
    };
    match parsed.and_then(|p| valid::validate(&p)) {
        Ok(policy) => expand::expand(&policy, &input, &krate),
        Err(error) => expand::fallback(error, &input, &krate),
    }
}
