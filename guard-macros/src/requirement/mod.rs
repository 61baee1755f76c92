//! Requirements: parsed from attribute arguments, resolved against the policy, expanded into
//! a `Requirement` constant of policy indices (plus one small wrapper per `check`).

pub(crate) mod parse;
pub(crate) mod resolve;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Path};

use self::parse::{Args, Expr};
use crate::errors::Errors;
use crate::policy::valid::ValidPolicy;
use crate::suggest;

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

/// `impl HandlerRequirement for #target`, with the wrappers of its checks.
pub(crate) fn expand(
    args: &Args,
    kind: Kind,
    policy: Option<&ValidPolicy>,
    krate: &Path,
    target: &Ident,
) -> syn::Result<TokenStream> {
    let mut expander = Expander { policy, krate, checks: Vec::new(), errors: Errors::default() };
    let mut parts: Vec<TokenStream> = Vec::new();
    if kind == Kind::ApiKey {
        parts.push(quote!(#krate::__private::Requirement::ApiKey));
    }
    for expr in &args.exprs {
        parts.push(expander.expr(expr));
    }
    expander.errors.finish()?;
    let requirement = match parts.as_slice() {
        [] => quote!(#krate::__private::Requirement::Authenticated),
        [one] => one.clone(),
        _ => quote!(#krate::__private::Requirement::All(&[#(#parts),*])),
    };
    let fingerprint = policy.map_or(0, |p| p.fingerprint);
    let checks = &expander.checks;
    let implementation = impl_requirement(krate, target, requirement, fingerprint);
    // One item, so that the handler's `#[cfg]` covers all of it; the wrappers live in its
    // anonymous scope, where their names cannot collide with anything of the user's.
    Ok(quote!(const _: () = { #(#checks)* #implementation };))
}

struct Expander<'a> {
    policy: Option<&'a ValidPolicy>,
    krate: &'a Path,
    checks: Vec<TokenStream>,
    errors: Errors,
}

impl Expander<'_> {
    fn expr(&mut self, expr: &Expr) -> TokenStream {
        let krate = self.krate;
        match expr {
            Expr::Roles(names) => {
                let set = self.resolve(names, "role");
                quote!(#krate::__private::Requirement::AnyRole(#set))
            }
            Expr::Permissions(names) => {
                let set = self.resolve(names, "permission");
                quote!(#krate::__private::Requirement::AllPermissions(#set))
            }
            Expr::Check(path) => self.check(path),
            Expr::Any(list) => {
                let parts: Vec<TokenStream> = list.iter().map(|e| self.expr(e)).collect();
                quote!(#krate::__private::Requirement::Any(&[#(#parts),*]))
            }
            Expr::All(list) => {
                let parts: Vec<TokenStream> = list.iter().map(|e| self.expr(e)).collect();
                quote!(#krate::__private::Requirement::All(&[#(#parts),*]))
            }
        }
    }

    /// A wrapper with the one signature a `Requirement` holds, around the application's sync
    /// or async function; a function of another signature fails here, pointing at its path.
    fn check(&mut self, path: &Path) -> TokenStream {
        let krate = self.krate;
        let wrapper = format_ident!("__guard_check_{}", self.checks.len());
        let name = quote!(#path).to_string().replace(' ', "");
        // The parameters are unhygienic to the user's tokens: `check = parts` names the
        // user's `parts`, not this one.
        let principal = Ident::new("principal", Span::mixed_site());
        let parts = Ident::new("parts", Span::mixed_site());
        // Spanned on the path, so a function of the wrong signature is reported there.
        let run_check = quote_spanned!(path.span()=> #krate::__private::run_check);
        self.checks.push(quote! {
            fn #wrapper<'a>(
                #principal: &'a #krate::__private::CorePrincipal,
                #parts: &'a #krate::__private::Parts,
            ) -> #krate::__private::BoxFuture<'a, bool> {
                #run_check(#path, #principal, #parts)
            }
        });
        quote!(#krate::__private::Requirement::Check(#krate::__private::Check::new(#name, #wrapper)))
    }

    fn resolve(&mut self, names: &[LitStr], what: &str) -> TokenStream {
        let Some(policy) = self.policy else {
            self.errors.push(&names[0], "role and permission names need the policy");
            return bitset(self.krate, &[]);
        };
        let mut found = Vec::new();
        for lit in names {
            let name = lit.value();
            let index = if what == "role" { policy.role(&name) } else { policy.permission(&name) };
            match index {
                Some(i) => found.push(i),
                None => {
                    let declared: Vec<&str> = if what == "role" {
                        policy.role_names().collect()
                    } else {
                        policy.permission_names().collect()
                    };
                    let help = suggest::help(&name, what, declared.iter().copied());
                    self.errors.push(lit, format!("unknown {what} `{name}`; {help}"));
                }
            }
        }
        bitset(self.krate, &found)
    }
}

/// `impl HandlerRequirement for #target`.
pub(crate) fn impl_requirement(
    krate: &Path,
    target: &Ident,
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

/// A requirement that lets nobody in: what is emitted next to a compile error, so that the
/// error stands alone.
pub(crate) fn deny_all(krate: &Path) -> TokenStream {
    quote!(#krate::__private::Requirement::Any(&[]))
}

/// A set of indices as the four words of a `BitSet`.
fn bitset(krate: &Path, indices: &[usize]) -> TokenStream {
    let mut words = [0u64; 4];
    for &i in indices {
        words[i / 64] |= 1 << (i % 64);
    }
    let [a, b, c, d] = words;
    quote!(#krate::__private::BitSet::from_words([#a, #b, #c, #d]))
}
