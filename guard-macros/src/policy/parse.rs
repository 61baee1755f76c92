//! The syntax of `policy!`:
//!
//! ```text
//! policy      := section*
//! section     := "permissions" "{" ident,* "}" | "roles" "{" role,* "}"
//!              | "crate" "=" "path" ";"?      (the path to guard_axum, for re-exporting crates)
//! role        := ident ":" term ("+" term)*
//! term        := ident                    (inherit that role)
//!              | "[" ident,* "]"          (grant these permissions)
//! ```

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Token, braced, bracketed};

syn::custom_keyword!(permissions);
syn::custom_keyword!(roles);

/// `policy!`'s input, as written.
pub(crate) struct PolicyInput {
    /// The explicit `permissions { … }` section, if any.
    pub(crate) permissions: Option<Vec<Ident>>,
    pub(crate) roles: Vec<RoleDecl>,
    /// `crate = "…"`: where guard_axum is, if not at `::guard_axum`.
    pub(crate) krate: Option<syn::Path>,
}

pub(crate) struct RoleDecl {
    pub(crate) name: Ident,
    pub(crate) terms: Vec<Term>,
}

pub(crate) enum Term {
    Inherit(Ident),
    Permissions(Vec<Ident>),
}

impl Parse for PolicyInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut permissions: Option<Vec<Ident>> = None;
        let mut roles: Option<Vec<RoleDecl>> = None;
        let mut krate: Option<syn::Path> = None;
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(Token![crate]) {
                let kw: Token![crate] = input.parse()?;
                if krate.is_some() {
                    return Err(syn::Error::new(kw.span, "`crate` specified more than once"));
                }
                input.parse::<Token![=]>()?;
                let lit: syn::LitStr = input.parse()?;
                krate = Some(lit.parse().map_err(|e| {
                    syn::Error::new(lit.span(), format!("`crate` must name a path: {e}"))
                })?);
                if input.peek(Token![;]) || input.peek(Token![,]) {
                    input.parse::<proc_macro2::TokenTree>()?;
                }
            } else if lookahead.peek(self::permissions) {
                let kw: self::permissions = input.parse()?;
                if permissions.is_some() {
                    return Err(syn::Error::new(kw.span, "`permissions` specified more than once"));
                }
                let content;
                braced!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                permissions = Some(names.into_iter().collect());
            } else if lookahead.peek(self::roles) {
                let kw: self::roles = input.parse()?;
                if roles.is_some() {
                    return Err(syn::Error::new(kw.span, "`roles` specified more than once"));
                }
                let content;
                braced!(content in input);
                let decls = Punctuated::<RoleDecl, Token![,]>::parse_terminated(&content)?;
                roles = Some(decls.into_iter().collect());
            } else if input.peek(Ident) {
                let section: Ident = input.parse()?;
                let name = section.to_string();
                let hint = match crate::suggest::closest(&name, ["roles", "permissions", "crate"]) {
                    Some(near) => format!("did you mean `{near}`? "),
                    None => String::new(),
                };
                return Err(syn::Error::new(
                    section.span(),
                    format!(
                        "unknown section `{name}`; {hint}(a policy has `roles {{ … }}`, optionally `permissions {{ … }}`, and `crate = \"…\"`)"
                    ),
                ));
            } else {
                return Err(lookahead.error());
            }
        }
        let roles = roles.ok_or_else(|| {
            input.error("expected `roles { … }`: a policy declares its roles, e.g. `roles { admin: [manage_keys] }`")
        })?;
        Ok(PolicyInput { permissions, roles, krate })
    }
}

impl Parse for RoleDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let mut terms = vec![input.parse()?];
        while input.peek(Token![+]) {
            input.parse::<Token![+]>()?;
            terms.push(input.parse()?);
        }
        Ok(RoleDecl { name, terms })
    }
}

impl Parse for Term {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(syn::token::Bracket) {
            let content;
            bracketed!(content in input);
            let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
            Ok(Term::Permissions(names.into_iter().collect()))
        } else if lookahead.peek(Ident) {
            Ok(Term::Inherit(input.parse()?))
        } else {
            Err(lookahead.error())
        }
    }
}
