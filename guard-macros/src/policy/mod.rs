//! `policy!`: parse, validate, then expand into the run-time spec and the callback macro that
//! lets `#[protected]` check names against this declaration.

mod expand;
pub(crate) mod parse;
pub(crate) mod valid;

use proc_macro2::TokenStream;

use crate::krate;

pub(crate) fn policy(input: TokenStream) -> TokenStream {
    let krate = krate::default_path();
    let checked =
        syn::parse2::<parse::PolicyInput>(input.clone()).and_then(|p| valid::validate(&p));
    match checked {
        Ok(policy) => expand::expand(&policy, &input, &krate),
        Err(error) => expand::fallback(error, &input, &krate),
    }
}
