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
//! crate::__guard_policy! { target { __guard_requirement_page } … args { roles = "admin" } }
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
use crate::requirement::{Kind, deny_all, expand as expand_requirement, impl_requirement};

pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut function: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let message = format!("`#[{}]` goes on an `async fn` handler", kind.keyword());
            let error = syn::Error::new_spanned(&item, message).to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut errors = Errors::default();
    let args = syn::parse2::<Args>(attr.clone()).unwrap_or_else(|e| {
        errors.add(e);
        Args::default()
    });
    check_signature(kind, &function, &mut errors);

    let krate = args.krate.clone().unwrap_or_else(krate::default_path);
    let target = format_ident!("__guard_requirement_{}", function.sig.ident.unraw());
    let vis = &function.vis;
    let requirement = match errors.finish() {
        Err(error) => {
            let error = error.to_compile_error();
            let stub = impl_requirement(&krate, &target, deny_all(&krate), 0);
            quote!(#error #stub)
        }
        Ok(()) if args.names_policy() => {
            let policy = args.policy.clone().unwrap_or_else(|| syn::parse_quote!(crate));
            let kind = format_ident!("{}", kind.keyword());
            quote! {
                #policy::__guard_policy! {
                    target { #target } kind { #kind } krate { #krate } args { #attr }
                }
            }
        }
        Ok(()) => expand_requirement(&args, kind, None, &krate, &target).unwrap_or_else(|error| {
            let error = error.to_compile_error();
            let stub = impl_requirement(&krate, &target, deny_all(&krate), 0);
            quote!(#error #stub)
        }),
    };

    // Names the requirement here, whatever happened above: if the policy's macro was not
    // found, the impl is missing and this is where the user learns how to point at it.
    let assertion = quote! {
        const _: () = {
            fn requirement_of_this_handler<R: #krate::__private::HandlerRequirement>() {}
            let _ = requirement_of_this_handler::<#target>;
        };
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
        #(#cfgs)*
        #assertion
        #function
    }
}

fn check_signature(kind: Kind, function: &ItemFn, errors: &mut Errors) {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        errors.push(
            sig.fn_token,
            format!("`#[{}]` goes on an `async fn` handler; add `async`", kind.keyword()),
        );
    }
    if let Some(receiver) = sig.receiver() {
        errors.push(
            receiver,
            format!("`#[{}]` goes on a free `async fn` handler, not a method", kind.keyword()),
        );
    }
}
