//! `#[protected]` and `#[api_key]`: put the requirement's extractor in front of the handler's
//! own arguments.
//!
//! ```text
//! #[protected(roles = "admin")]
//! async fn page(who: Principal) -> String { … }
//! ```
//! becomes
//! ```text
//! #[doc(hidden)] struct __guard_requirement_page;
//! const _: () = {
//!     crate::__guard_policy! { target { __guard_requirement_page } … args { roles = "admin" } }
//! };
//! async fn page(_: Guarded<__guard_requirement_page>, who: Principal) -> String { … }
//! ```
//! The requirement extractor implements `FromRequestParts`, so it runs first and body
//! extractors still come last. On any error the handler is still emitted, with a requirement
//! that admits nobody, so the user sees that one error and nothing else.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ItemFn;
use syn::ext::IdentExt;

use crate::errors::Errors;
use crate::krate;
use crate::requirement::parse::Args;
use crate::requirement::{
    Kind, check_wrappers, deny_all, expand as expand_requirement, impl_requirement,
};

pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let keyword = kind.keyword();
    let mut function: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let message = format!("`#[{keyword}]` goes on an `async fn` handler");
            let error = syn::Error::new_spanned(&item, message).to_compile_error();
            return quote!(#error #item);
        }
    };
    // A method cannot be an axum handler, and the function is left as written: inserting the
    // guard's argument before `self` would only add errors to this one.
    if let Some(receiver) = function.sig.receiver() {
        let message = format!("`#[{keyword}]` goes on a free `async fn` handler, not on a method");
        let error = syn::Error::new_spanned(receiver, message).to_compile_error();
        return quote!(#error #function);
    }
    // Two guard attributes on one handler: the outer one sees the inner, reports it and
    // leaves the function to it, so that the inner one still expands on its own.
    if let Some(other) = function.attrs.iter().find(|a| is_guard_attribute(a)) {
        let message = format!(
            "a handler takes one guard attribute; write its requirements in one, e.g. `#[{keyword}(roles = \"admin\", permissions = \"edit_reports\")]`, or `any(…)`/`all(…)` inside it"
        );
        let error = syn::Error::new_spanned(other, message).to_compile_error();
        return quote!(#error #function);
    }
    let mut errors = Errors::default();
    let args = syn::parse2::<Args>(attr.clone()).unwrap_or_else(|e| {
        errors.add(e);
        Args::default()
    });
    if function.sig.asyncness.is_none() {
        errors.push(
            function.sig.fn_token,
            format!("`#[{keyword}]` goes on an `async fn` handler; add `async`"),
        );
    }

    let krate = args.krate.clone().unwrap_or_else(krate::default_path);
    let target = format_ident!("__guard_requirement_{}", function.sig.ident.unraw());
    let vis = &function.vis;
    let requirement = match errors.finish() {
        Err(error) => {
            let error = error.to_compile_error();
            let stub = impl_requirement(&krate, &target, deny_all(&krate), 0);
            quote!(#error const _: () = { #stub };)
        }
        Ok(()) if args.names_policy() => {
            let checks = check_wrappers(&args, &krate);
            let policy = args.policy.clone().unwrap_or_else(|| syn::parse_quote!(crate));
            let kind = format_ident!("{keyword}");
            quote! {
                const _: () = {
                    #(#checks)*
                    #policy::__guard_policy! {
                        target { #target } kind { #kind } krate { #krate } args { #attr }
                    }
                };
            }
        }
        Ok(()) => {
            let checks = check_wrappers(&args, &krate);
            let implementation = expand_requirement(&args, kind, None, &krate, &target)
                .unwrap_or_else(|error| {
                    let error = error.to_compile_error();
                    let stub = impl_requirement(&krate, &target, deny_all(&krate), 0);
                    quote!(#error #stub)
                });
            // One item, so that the handler's `#[cfg]` covers all of it; the wrappers live
            // in its anonymous scope, where their names cannot collide with the user's.
            quote!(const _: () = { #(#checks)* #implementation };)
        }
    };

    let guard_arg: syn::FnArg = syn::parse_quote!(_: #krate::__private::Guarded<#target>);
    function.sig.inputs.insert(0, guard_arg);
    // Everything generated exists exactly when the handler does.
    let cfgs: Vec<&syn::Attribute> =
        function.attrs.iter().filter(|a| a.path().is_ident("cfg")).collect();
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #target;
        #(#cfgs)*
        #requirement
        #function
    }
}

/// `#[protected]` or `#[api_key]`, by any path.
fn is_guard_attribute(attribute: &syn::Attribute) -> bool {
    attribute.path().segments.last().is_some_and(|s| s.ident == "protected" || s.ident == "api_key")
}
