//! The arguments of `#[protected(…)]` and `#[api_key(…)]`:
//!
//! ```text
//! args   := item,*
//! item   := "roles" "=" names            any one of these roles (inherited roles count)
//!         | "permissions" "=" names      every one of these permissions
//!         | "policy" "=" path            where `policy!` was declared (default: crate root)
//!         | "crate" "=" "path"           the path to guard_axum, for re-exporting crates
//! names  := "name" | "[" "name",+ "]"
//! ```
//! Several requirement items must all hold.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Path, Token, bracketed};

use crate::errors::Errors;

syn::custom_keyword!(roles);
syn::custom_keyword!(permissions);
syn::custom_keyword!(policy);

/// Parsed attribute arguments.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) clauses: Vec<Clause>,
    pub(crate) policy: Option<Path>,
    pub(crate) krate: Option<Path>,
}

pub(crate) enum Clause {
    Roles(Vec<LitStr>),
    Permissions(Vec<LitStr>),
}

impl Args {
    /// Whether any name must be checked against the policy.
    pub(crate) fn names_policy(&self) -> bool {
        !self.clauses.is_empty()
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut errors = Errors::default();
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            let key_span = input.span();
            let key = if lookahead.peek(roles) {
                input.parse::<roles>()?;
                "roles"
            } else if lookahead.peek(permissions) {
                input.parse::<permissions>()?;
                "permissions"
            } else if lookahead.peek(policy) {
                input.parse::<policy>()?;
                "policy"
            } else if lookahead.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                "crate"
            } else if input.peek(syn::Ident::peek_any) {
                let ident: syn::Ident = input.call(syn::Ident::parse_any)?;
                return Err(syn::Error::new(
                    ident.span(),
                    format!(
                        "unknown argument `{ident}`; expected `roles`, `permissions`, `policy` or `crate`"
                    ),
                ));
            } else {
                return Err(lookahead.error());
            };
            if seen.iter().any(|k| k == key) {
                errors.push_span(key_span, format!("`{key}` specified more than once"));
            }
            seen.push(key.to_owned());
            input.parse::<Token![=]>()?;
            match key {
                "roles" => args.clauses.push(Clause::Roles(names(input, "role")?)),
                "permissions" => args
                    .clauses
                    .push(Clause::Permissions(names(input, "permission")?)),
                "policy" => args.policy = Some(input.parse()?),
                _ => {
                    let lit: LitStr = input.parse()?;
                    args.krate = Some(lit.parse().map_err(|e| {
                        syn::Error::new(lit.span(), format!("`crate` must name a path: {e}"))
                    })?);
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        errors.finish()?;
        Ok(args)
    }
}

fn names(input: ParseStream<'_>, what: &str) -> syn::Result<Vec<LitStr>> {
    if input.peek(syn::token::Bracket) {
        let content;
        let brackets = bracketed!(content in input);
        let list: Vec<LitStr> = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect();
        if list.is_empty() {
            return Err(syn::Error::new(
                brackets.span.join(),
                format!("an empty list of {what}s would let nobody in; name at least one {what}"),
            ));
        }
        Ok(list)
    } else if input.peek(LitStr) {
        Ok(vec![input.parse()?])
    } else {
        Err(input.error(format!(
            "expected a {what} name as a string, e.g. `\"admin\"`, or a list of them, e.g. `[\"admin\", \"editor\"]`"
        )))
    }
}
