//! The arguments of `#[protected(…)]` and `#[api_key(…)]`:
//!
//! ```text
//! args         := item,*                      every item must hold
//! item         := requirement
//!               | "policy" "=" path           where `policy!` was declared (default: crate root)
//!               | "crate" "=" "path"          the path to guard_axum, for re-exporting crates
//! requirement  := "roles" "=" names           any one of these roles (inherited roles count)
//!               | "permissions" "=" names     every one of these permissions
//!               | "check" "=" path            a fn(&Principal, &Parts) -> bool, sync or async
//!               | "any" "(" requirement,+ ")" at least one holds
//!               | "all" "(" requirement,+ ")" every one holds
//! names        := "name" | "[" "name",+ "]"
//! ```

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Path, Token, bracketed, parenthesized};

use crate::errors::Errors;

/// Parsed attribute arguments.
#[derive(Default)]
pub(crate) struct Args {
    /// The requirements, all of which must hold.
    pub(crate) exprs: Vec<Expr>,
    pub(crate) policy: Option<Path>,
    pub(crate) krate: Option<Path>,
}

/// One requirement.
pub(crate) enum Expr {
    Roles(Vec<LitStr>),
    Permissions(Vec<LitStr>),
    Check(Path),
    Any(Vec<Expr>),
    All(Vec<Expr>),
}

impl Expr {
    fn names_policy(&self) -> bool {
        match self {
            Expr::Roles(_) | Expr::Permissions(_) => true,
            Expr::Check(_) => false,
            Expr::Any(list) | Expr::All(list) => list.iter().any(Expr::names_policy),
        }
    }
}

impl Args {
    /// Whether any role or permission name must be checked against the policy.
    pub(crate) fn names_policy(&self) -> bool {
        self.exprs.iter().any(Expr::names_policy)
    }
}

const KEYS: &str = "`roles`, `permissions`, `check`, `any(…)`, `all(…)`, `policy` or `crate`";
const NESTED_KEYS: &str = "`roles`, `permissions`, `check`, `any(…)` or `all(…)`";

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut errors = Errors::default();
        args.exprs = items(input, Some(&mut args.policy), Some(&mut args.krate), &mut errors)?;
        errors.finish()?;
        Ok(args)
    }
}

/// A comma-separated list of items. `policy` and `crate` are accepted only where their slots
/// are given, i.e. at the top level.
fn items(
    input: ParseStream<'_>,
    mut policy: Option<&mut Option<Path>>,
    mut krate: Option<&mut Option<Path>>,
    errors: &mut Errors,
) -> syn::Result<Vec<Expr>> {
    let top = policy.is_some();
    let mut exprs = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    while !input.is_empty() {
        let key_span = input.span();
        let key = if input.peek(Token![crate]) {
            input.parse::<Token![crate]>()?;
            Ident::new("crate", key_span)
        } else if input.peek(Ident::peek_any) {
            input.call(Ident::parse_any)?
        } else {
            let expected = if top { KEYS } else { NESTED_KEYS };
            return Err(input.error(format!("expected {expected}")));
        };
        let name = key.to_string();
        // At the top level the items are all-of, and a repeated key reads ambiguously
        // (`roles = "a", roles = "b"`: both, or either?); inside `any`/`all` it is meaningful.
        let repeatable = !top || name == "any" || name == "all";
        if !repeatable && seen.contains(&name) {
            errors.push_span(key_span, format!("`{name}` specified more than once"));
        }
        seen.push(name.clone());
        match name.as_str() {
            "roles" | "permissions" | "check" | "policy" | "crate" => {
                input.parse::<Token![=]>()?;
            }
            _ => {}
        }
        match name.as_str() {
            "roles" => exprs.push(Expr::Roles(names(input, "role")?)),
            "permissions" => exprs.push(Expr::Permissions(names(input, "permission")?)),
            "check" => exprs.push(Expr::Check(check_path(input)?)),
            "any" | "all" => {
                let content;
                let parens = parenthesized!(content in input);
                let list = items(&content, None, None, errors)?;
                if list.is_empty() {
                    errors.push_span(
                        parens.span.join(),
                        format!("`{name}(…)` needs at least one requirement, e.g. `{name}(roles = \"admin\")`"),
                    );
                }
                exprs.push(if name == "any" { Expr::Any(list) } else { Expr::All(list) });
            }
            "policy" | "crate" if !top => {
                return Err(syn::Error::new(
                    key_span,
                    format!(
                        "`{name}` goes at the top level of the attribute, not inside `any`/`all`"
                    ),
                ));
            }
            "policy" => {
                let path: Path = input.parse()?;
                if let Some(slot) = policy.as_deref_mut() {
                    *slot = Some(path);
                }
            }
            "crate" => {
                let lit: LitStr = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`crate` takes a string, e.g. `crate = \"my_crate::guard\"`",
                    )
                })?;
                let path = lit.parse::<Path>().map_err(|e| {
                    syn::Error::new(lit.span(), format!("`crate` must name a path: {e}"))
                })?;
                if let Some(slot) = krate.as_deref_mut() {
                    *slot = Some(path);
                }
            }
            _ => {
                let expected = if top { KEYS } else { NESTED_KEYS };
                let candidates = ["roles", "permissions", "check", "any", "all", "policy", "crate"];
                let hint = match crate::suggest::closest(&name, candidates) {
                    Some(near) => format!("did you mean `{near}`? "),
                    None => String::new(),
                };
                return Err(syn::Error::new(
                    key_span,
                    format!("unknown argument `{name}`; {hint}expected {expected}"),
                ));
            }
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(exprs)
}

fn check_path(input: ParseStream<'_>) -> syn::Result<Path> {
    if input.peek(LitStr) {
        return Err(input.error(
            "`check` takes a path to a function, not a string, e.g. `check = crate::auth::is_owner`",
        ));
    }
    input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "`check` takes a path to a function, e.g. `check = crate::auth::is_owner`",
        )
    })
}

fn names(input: ParseStream<'_>, what: &str) -> syn::Result<Vec<LitStr>> {
    if input.peek(syn::token::Bracket) {
        let content;
        let brackets = bracketed!(content in input);
        let list: Vec<LitStr> =
            Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?.into_iter().collect();
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
