//! Parsing of `var!`, `scope!` and `#[model(..)]` arguments.
//!
//! Syntax errors stop the parse of one invocation (syn cannot resume inside an expression);
//! everything else (unknown option, option set twice, missing name) is collected so that one
//! compile reports all of them, and the parse still yields arguments to expand.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Block, Expr, Ident, Token};

use crate::symbol;

/// A parsed `var!(cx, name, shape, key = value, ..)`.
pub struct VarArgs {
    /// The context variable.
    pub cx: Ident,
    /// The variable's name: a literal (checked statically) or any expression (dynamic).
    pub name: Option<Expr>,
    /// The shape, positional or `shape = ..`.
    pub shape: Option<Expr>,
    /// `init = ..`.
    pub init: Option<Expr>,
    /// `regularizer = ..`.
    pub regularizer: Option<Expr>,
    /// `dtype = ..`.
    pub dtype: Option<Expr>,
    /// `trainable = ..`.
    pub trainable: Option<Expr>,
}

/// How a `scope!` sets reuse.
pub enum ReuseOpt {
    /// `reuse`: existing variables only.
    Reuse(Ident),
    /// `auto_reuse`: create or reuse.
    Auto(Ident),
    /// `reuse = expr`: known at run time only.
    Dynamic(Box<Expr>),
}

/// A parsed `scope!(cx, name, options.. { body })`.
pub struct ScopeArgs {
    /// The context variable; the body sees it rebound to the new scope.
    pub cx: Ident,
    /// The name: a literal, or any expression (a `String`, `&str` or captured scope).
    pub name: Option<Expr>,
    /// `reuse`, `auto_reuse` or `reuse = expr`.
    pub reuse: Option<ReuseOpt>,
    /// `initializer = ..`.
    pub initializer: Option<Expr>,
    /// `regularizer = ..`.
    pub regularizer: Option<Expr>,
    /// `dtype = ..`.
    pub dtype: Option<Expr>,
    /// `default_name = ..`: an auto-numbered scope.
    pub default_name: Option<Expr>,
    /// `auxiliary_name_scope = ..`.
    pub auxiliary_name_scope: Option<Expr>,
    /// The body.
    pub body: Block,
}

/// Options of `#[model(..)]`.
#[derive(Default)]
pub struct ModelArgs {
    /// `opaque`: a plain helper; its manifest is empty and callers skip it.
    pub opaque: bool,
    /// `method`: a method in an `impl` block; no manifest is generated.
    pub method: bool,
}

/// Records `value` in `slot`, or an error if the option was already given.
fn set<T>(slot: &mut Option<T>, key: &Ident, value: T, errors: &mut Vec<syn::Error>) {
    if slot.is_some() {
        errors.push(syn::Error::new(key.span(), format!("option `{key}` is set twice; keep only one")));
    } else {
        *slot = Some(value);
    }
}

/// Whether the next tokens are `ident =` (and not `ident ==`).
fn peek_option(input: ParseStream<'_>) -> bool {
    input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==])
}

/// Parses the leading context argument and its comma.
fn parse_cx(input: ParseStream<'_>, mac: &str) -> syn::Result<Ident> {
    if input.is_empty() {
        return Err(syn::Error::new(
            input.span(),
            format!("`{mac}!` needs the context first, e.g. `{mac}!(cx, \"name\", ..)`"),
        ));
    }
    let cx: Ident = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "the first argument of `{mac}!` must be the context variable, e.g. `cx`; bind it \
                 with `let cx = &mut ..;` first"
            ),
        )
    })?;
    if input.is_empty() {
        return Ok(cx);
    }
    input.parse::<Token![,]>()?;
    Ok(cx)
}

/// Parses `var!` arguments, pushing recoverable errors to `errors`.
pub fn parse_var(tokens: TokenStream, site: &TokenStream, errors: &mut Vec<syn::Error>) -> syn::Result<VarArgs> {
    let parser = |input: ParseStream<'_>| -> syn::Result<VarArgs> {
        let cx = parse_cx(input, symbol::VAR)?;
        let mut args =
            VarArgs { cx, name: None, shape: None, init: None, regularizer: None, dtype: None, trainable: None };
        let mut position = 0usize;
        while !input.is_empty() {
            if peek_option(input) {
                let key: Ident = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                match key.to_string().as_str() {
                    symbol::SHAPE => set(&mut args.shape, &key, value, errors),
                    symbol::INIT => set(&mut args.init, &key, value, errors),
                    symbol::REGULARIZER => set(&mut args.regularizer, &key, value, errors),
                    symbol::DTYPE => set(&mut args.dtype, &key, value, errors),
                    symbol::TRAINABLE => set(&mut args.trainable, &key, value, errors),
                    _ => errors.push(syn::Error::new(
                        key.span(),
                        format!("unknown option `{key}` of `var!`; expected one of {}", symbol::VAR_OPTIONS),
                    )),
                }
                position = position.max(1);
            } else {
                let value: Expr = input.parse()?;
                if position >= 1 && args.shape.is_some() && position < 2 + usize::from(args.name.is_none()) {
                    errors.push(syn::Error::new(
                        value.span(),
                        "the shape is given twice (positionally and as `shape = ..`); keep only one",
                    ));
                    position += 1;
                    if input.is_empty() {
                        break;
                    }
                    input.parse::<Token![,]>()?;
                    continue;
                }
                match position {
                    0 => args.name = Some(value),
                    1 => {
                        if args.shape.is_some() {
                            errors.push(syn::Error::new(value.span(), "the shape is given twice; keep only one"));
                        } else {
                            args.shape = Some(value);
                        }
                    }
                    _ => errors.push(syn::Error::new(
                        value.span(),
                        "unexpected argument: `var!` takes the name, the shape, then \
                         `key = value` options",
                    )),
                }
                position += 1;
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    };
    let args = parser.parse2(tokens)?;
    if args.name.is_none() {
        errors.push(syn::Error::new_spanned(site, "missing variable name: write `var!(cx, \"name\", shape, ..)`"));
    }
    Ok(args)
}

/// Parses `scope!` arguments, pushing recoverable errors to `errors`.
pub fn parse_scope(tokens: TokenStream, site: &TokenStream, errors: &mut Vec<syn::Error>) -> syn::Result<ScopeArgs> {
    let parser = |input: ParseStream<'_>| -> syn::Result<ScopeArgs> {
        let cx = parse_cx(input, symbol::SCOPE)?;
        let mut name: Option<Expr> = None;
        let mut reuse: Option<ReuseOpt> = None;
        let mut initializer = None;
        let mut regularizer = None;
        let mut dtype = None;
        let mut default_name = None;
        let mut auxiliary_name_scope = None;
        let mut first = true;
        loop {
            if input.peek(syn::token::Brace) || input.is_empty() {
                break;
            }
            let flag = input.peek(Ident)
                && (input.peek2(Token![,]) || input.peek2(syn::token::Brace) || {
                    let fork = input.fork();
                    fork.parse::<Ident>().is_ok() && fork.is_empty()
                });
            if peek_option(input) {
                let key: Ident = input.parse()?;
                input.parse::<Token![=]>()?;
                let value = Expr::parse_without_eager_brace(input)?;
                match key.to_string().as_str() {
                    symbol::REUSE => set(&mut reuse, &key, ReuseOpt::Dynamic(Box::new(value)), errors),
                    symbol::INITIALIZER => set(&mut initializer, &key, value, errors),
                    symbol::REGULARIZER => set(&mut regularizer, &key, value, errors),
                    symbol::DTYPE => set(&mut dtype, &key, value, errors),
                    symbol::DEFAULT_NAME => set(&mut default_name, &key, value, errors),
                    symbol::AUXILIARY_NAME_SCOPE => set(&mut auxiliary_name_scope, &key, value, errors),
                    _ => errors.push(syn::Error::new(
                        key.span(),
                        format!("unknown option `{key}` of `scope!`; expected one of {}", symbol::SCOPE_OPTIONS),
                    )),
                }
            } else if flag && {
                let fork = input.fork();
                fork.parse::<Ident>().map(|i| i == symbol::REUSE || i == symbol::AUTO_REUSE).unwrap_or(false)
            } {
                let key: Ident = input.parse()?;
                if reuse.is_some() {
                    errors.push(syn::Error::new(
                        key.span(),
                        format!("reuse is set twice (here by `{key}`); keep only one of `reuse`, `auto_reuse` and `reuse = ..`"),
                    ));
                } else if key == symbol::REUSE {
                    reuse = Some(ReuseOpt::Reuse(key));
                } else {
                    reuse = Some(ReuseOpt::Auto(key));
                }
            } else if first {
                name = Some(Expr::parse_without_eager_brace(input)?);
            } else if flag {
                let key: Ident = input.parse()?;
                errors.push(syn::Error::new(
                    key.span(),
                    format!("unknown option `{key}` of `scope!`; expected one of {}", symbol::SCOPE_OPTIONS),
                ));
            } else {
                let value = Expr::parse_without_eager_brace(input)?;
                errors.push(syn::Error::new(
                    value.span(),
                    "unexpected argument: `scope!` takes the name, then options, then the body \
                     `{ .. }`",
                ));
            }
            first = false;
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            } else if !input.peek(syn::token::Brace) && !input.is_empty() {
                return Err(input.error("expected `,` or the body `{ .. }`"));
            }
        }
        if input.is_empty() {
            return Err(syn::Error::new_spanned(site, "missing body: write `scope!(cx, \"name\" { .. })`"));
        }
        let content;
        let brace_token = syn::braced!(content in input);
        let stmts = content.call(Block::parse_within)?;
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
            if !input.is_empty() {
                return Err(input.error("unexpected tokens after the body of `scope!`"));
            }
        }
        Ok(ScopeArgs {
            cx,
            name,
            reuse,
            initializer,
            regularizer,
            dtype,
            default_name,
            auxiliary_name_scope,
            body: Block { brace_token, stmts },
        })
    };
    let args = parser.parse2(tokens)?;
    match (&args.name, &args.default_name) {
        (None, None) => errors.push(syn::Error::new_spanned(
            site,
            "missing scope name: write `scope!(cx, \"name\" { .. })` or \
             `scope!(cx, default_name = \"layer\" { .. })`",
        )),
        (Some(name), Some(_)) => errors
            .push(syn::Error::new(name.span(), "a scope takes either a name or `default_name`, not both; remove one")),
        _ => {}
    }
    Ok(args)
}

/// Parses `#[model(..)]` options.
pub fn parse_model(tokens: TokenStream, errors: &mut Vec<syn::Error>) -> syn::Result<ModelArgs> {
    let idents = syn::punctuated::Punctuated::<Ident, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut args = ModelArgs::default();
    let mut seen: Vec<String> = Vec::new();
    for ident in idents {
        let key = ident.to_string();
        if seen.contains(&key) {
            errors.push(syn::Error::new(ident.span(), format!("option `{key}` is set twice; keep only one")));
            continue;
        }
        seen.push(key.clone());
        match key.as_str() {
            symbol::MODEL_OPAQUE => args.opaque = true,
            symbol::MODEL_METHOD => args.method = true,
            _ => errors.push(syn::Error::new(
                ident.span(),
                format!("unknown option `{key}` of `#[model]`; expected one of {}", symbol::MODEL_OPTIONS),
            )),
        }
    }
    Ok(args)
}
