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

/// `impl HandlerRequirement for #target`. Its checks are called through the wrappers
/// [`check_wrappers`] emits, which the caller places in an enclosing scope.
pub(crate) fn expand(
    args: &Args,
    kind: Kind,
    policy: Option<&ValidPolicy>,
    krate: &Path,
    target: &Ident,
) -> syn::Result<TokenStream> {
    let mut expander = Expander { policy, krate, checks: 0, errors: Errors::default() };
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
    Ok(impl_requirement(krate, target, requirement, fingerprint))
}

/// One wrapper per `check`, numbered in the order [`expand`] meets them, with the one
/// signature a `Requirement` holds, around the application's sync or async function: a
/// function of another signature fails here, pointing at its path.
///
/// They are emitted by the attribute itself, in the handler's scope, so the path resolves
/// exactly as the user wrote it, whatever the policy's module brings into scope.
pub(crate) fn check_wrappers(args: &Args, krate: &Path) -> Vec<TokenStream> {
    fn walk<'a>(expr: &'a Expr, paths: &mut Vec<&'a Path>) {
        match expr {
            Expr::Check(path) => paths.push(path),
            Expr::Any(list) | Expr::All(list) => list.iter().for_each(|e| walk(e, paths)),
            Expr::Roles(_) | Expr::Permissions(_) => {}
        }
    }
    let mut paths = Vec::new();
    args.exprs.iter().for_each(|e| walk(e, &mut paths));
    // The parameters are unhygienic to the user's tokens: `check = parts` names the user's
    // `parts`, not this one.
    let principal = Ident::new("principal", Span::mixed_site());
    let parts = Ident::new("parts", Span::mixed_site());
    paths
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let wrapper = check_wrapper(i);
            // Spanned on the path, so a function of the wrong signature is reported there.
            let run_check = quote_spanned!(path.span()=> #krate::__private::run_check);
            quote! {
                fn #wrapper<'a>(
                    #principal: &'a #krate::__private::CorePrincipal,
                    #parts: &'a #krate::__private::Parts,
                ) -> #krate::__private::BoxFuture<'a, bool> {
                    #run_check(#path, #principal, #parts)
                }
            }
        })
        .collect()
}

fn check_wrapper(i: usize) -> Ident {
    format_ident!("__guard_check_{}", i)
}

struct Expander<'a> {
    policy: Option<&'a ValidPolicy>,
    krate: &'a Path,
    checks: usize,
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

    /// A reference to the wrapper [`check_wrappers`] emits for this check.
    fn check(&mut self, path: &Path) -> TokenStream {
        let krate = self.krate;
        let wrapper = check_wrapper(self.checks);
        self.checks += 1;
        let name = quote!(#path).to_string().replace(' ', "");
        quote!(#krate::__private::Requirement::Check(#krate::__private::Check::new(#name, #wrapper)))
    }

    fn resolve(&mut self, names: &[LitStr], what: &str) -> TokenStream {
        let Some(policy) = self.policy else {
            self.errors.push(&names[0], "role and permission names need the policy");
            return bitset(self.krate, &[]);
        };
        let mut found = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for lit in names {
            let name = lit.value();
            if seen.contains(&name) {
                self.errors.push(lit, format!("{what} `{name}` is listed twice"));
                continue;
            }
            seen.push(name.clone());
            match lookup(policy, &name, what) {
                Ok(i) => found.push(i),
                Err(message) => self.errors.push(lit, message),
            }
        }
        bitset(self.krate, &found)
    }
}

/// The index of role (or permission) `name`, or the error that says what it is instead: an
/// empty name, the other kind of name, or a typo of either kind.
fn lookup(policy: &ValidPolicy, name: &str, what: &str) -> Result<usize, String> {
    let is_role = what == "role";
    let (own, other) = if is_role {
        (policy.role(name), policy.permission(name))
    } else {
        (policy.permission(name), policy.role(name))
    };
    if let Some(i) = own {
        return Ok(i);
    }
    let (other_what, other_key) =
        if is_role { ("permission", "permissions") } else { ("role", "roles") };
    if name.trim().is_empty() {
        return Err(format!("a {what} name cannot be empty"));
    }
    if other.is_some() {
        return Err(format!(
            "`{name}` is a {other_what}, not a {what}: write `{other_key} = \"{name}\"`"
        ));
    }
    let (declared, others): (Vec<&str>, Vec<&str>) = if is_role {
        (policy.role_names().collect(), policy.permission_names().collect())
    } else {
        (policy.permission_names().collect(), policy.role_names().collect())
    };
    let help = match suggest::closest(name, declared.iter().copied()) {
        None => match suggest::closest(name, others.iter().copied()) {
            Some(near) => format!(
                "did you mean the {other_what} `{near}` (`{other_key} = \"{near}\"`)? ({})",
                suggest::declared(what, &declared)
            ),
            None => suggest::help(name, what, declared.iter().copied()),
        },
        Some(_) => suggest::help(name, what, declared.iter().copied()),
    };
    Err(format!("unknown {what} `{name}`; {help}"))
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
