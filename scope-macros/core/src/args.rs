//! Parsing of `var!`, `scope!` and `#[model(..)]` arguments.
//!
//! Syntax errors stop the parse of one invocation (syn cannot resume inside an expression);
//! everything else (unknown option, option set twice, missing name) is collected so that one
//! compile reports all of them, and the parse still yields arguments to expand.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Block, Expr, Ident, Token};

use crate::symbol;

/// A parsed `var!(cx, name, shape, key = value, ..)`.
pub struct VarArgs {
    /// The context variable.
    pub cx: Ident,
    /// The context as written: `cx`, `&mut cx` or `&mut *cx`.
    pub cx_expr: Expr,
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
    /// The context as written: `cx`, `&mut cx` or `&mut *cx`.
    pub cx_expr: Expr,
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

/// Parses the leading context argument and its comma: `cx`, `&mut cx` or `&mut *cx`.
fn parse_cx(input: ParseStream<'_>, mac: &str) -> syn::Result<(Ident, Expr)> {
    if input.is_empty() {
        return Err(syn::Error::new(
            input.span(),
            format!("`{mac}!` needs the context first, e.g. `{mac}!(cx, \"name\", ..)`"),
        ));
    }
    let not_a_context = |span| {
        syn::Error::new(
            span,
            format!(
                "the first argument of `{mac}!` must be the context variable (`cx`, `&mut cx` or \
                 `&mut *cx`); bind any other expression with `let cx = &mut ..;` first"
            ),
        )
    };
    let fork = input.fork();
    let start = input.span();
    let (cx, expr) = if fork.peek(Token![&]) {
        let expr: Expr = input.call(Expr::parse_without_eager_brace).map_err(|e| not_a_context(e.span()))?;
        match context_ident(&expr) {
            Some(cx) => (cx, expr),
            None => return Err(not_a_context(expr.span())),
        }
    } else {
        let cx: Ident = input.parse().map_err(|_| not_a_context(start))?;
        (cx.clone(), ident_expr(&cx))
    };
    if input.is_empty() {
        return Ok((cx, expr));
    }
    input
        .parse::<Token![,]>()
        .map_err(|e| syn::Error::new(e.span(), format!("expected `,` after the context of `{mac}!`")))?;
    Ok((cx, expr))
}

/// The path expression `ident` (built, not parsed: any identifier works).
fn ident_expr(ident: &Ident) -> Expr {
    Expr::Path(syn::ExprPath { attrs: Vec::new(), qself: None, path: ident.clone().into() })
}

/// The variable of `&mut cx`, `&mut *cx`, `&mut **cx`.
fn context_ident(e: &Expr) -> Option<Ident> {
    match e {
        Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => p.path.get_ident().cloned(),
        Expr::Reference(r) if r.mutability.is_some() => context_ident(&r.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => context_ident(&u.expr),
        Expr::Paren(p) => context_ident(&p.expr),
        _ => None,
    }
}

/// Parses `var!` arguments, pushing recoverable errors to `errors`.
pub fn parse_var(tokens: TokenStream, site: &TokenStream, errors: &mut Vec<syn::Error>) -> syn::Result<VarArgs> {
    if let Some(args) = parse_var_plain(&tokens) {
        return Ok(args);
    }
    parse_var_syn(tokens, site, errors)
}

/// The arguments of a `var!` written in the plain form, without syn's expression parser
/// (proc macros run unoptimized in a debug build, where that parser costs most of a `var!`'s
/// expansion): `cx`, a string literal or identifier name, an optional shape that is a bracket of
/// literals or an identifier, then `key = value` options each given once, values without a
/// top-level `=`, `|` or `<` (which a comma could split). Anything else returns `None` and takes
/// the full parse, which reports every mistake; the two give the same arguments.
fn parse_var_plain(tokens: &TokenStream) -> Option<VarArgs> {
    use proc_macro2::{Delimiter, Spacing, TokenTree};
    let mut parts: Vec<Vec<TokenTree>> = vec![Vec::new()];
    for tt in tokens.clone() {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => parts.push(Vec::new()),
            _ => parts.last_mut()?.push(tt),
        }
    }
    if parts.last().is_some_and(Vec::is_empty) {
        parts.pop();
    }
    if parts.len() < 2 || parts.iter().any(Vec::is_empty) {
        return None;
    }
    let single_ident = |part: &[TokenTree]| match part {
        [TokenTree::Ident(i)] => syn::parse2::<Ident>(i.to_token_stream()).ok(),
        _ => None,
    };
    let lit_expr =
        |lit: &proc_macro2::Literal| Expr::Lit(syn::ExprLit { attrs: Vec::new(), lit: syn::Lit::new(lit.clone()) });
    // A shape: `[1, 4]` (literals only) or an identifier.
    let shape = |part: &[TokenTree]| -> Option<Expr> {
        if let Some(i) = single_ident(part) {
            return Some(ident_expr(&i));
        }
        let [TokenTree::Group(g)] = part else { return None };
        if g.delimiter() != Delimiter::Bracket {
            return None;
        }
        let mut elems = syn::punctuated::Punctuated::new();
        let mut want_lit = true;
        for tt in g.stream() {
            match (&tt, want_lit) {
                (TokenTree::Literal(l), true) => elems.push_value(lit_expr(l)),
                (TokenTree::Punct(p), false) if p.as_char() == ',' => elems.push_punct(Token![,](p.span())),
                _ => return None,
            }
            want_lit = !want_lit;
        }
        Some(Expr::Array(syn::ExprArray {
            attrs: Vec::new(),
            bracket_token: syn::token::Bracket(g.delim_span()),
            elems,
        }))
    };
    let cx = single_ident(&parts[0])?;
    let name = match parts[1].as_slice() {
        [TokenTree::Literal(l)] if l.to_string().starts_with('"') => lit_expr(l),
        part => ident_expr(&single_ident(part)?),
    };
    let mut args = VarArgs {
        cx_expr: ident_expr(&cx),
        cx,
        name: Some(name),
        shape: None,
        init: None,
        regularizer: None,
        dtype: None,
        trainable: None,
    };
    let mut rest = &parts[2..];
    let is_option = |part: &[TokenTree]| matches!(part, [TokenTree::Ident(_), TokenTree::Punct(p), _, ..] if p.as_char() == '=' && p.spacing() == Spacing::Alone);
    if let Some(first) = rest.first()
        && !is_option(first)
    {
        args.shape = Some(shape(first)?);
        rest = &rest[1..];
    }
    for part in rest {
        if !is_option(part) {
            return None;
        }
        let (TokenTree::Ident(key), value) = (&part[0], &part[2..]) else { return None };
        let value_tokens: TokenStream = value.iter().cloned().collect();
        let slot = match key.to_string().as_str() {
            symbol::SHAPE => {
                if args.shape.is_some() {
                    return None;
                }
                args.shape = Some(shape(value)?);
                continue;
            }
            symbol::INIT => &mut args.init,
            symbol::REGULARIZER => &mut args.regularizer,
            symbol::DTYPE => &mut args.dtype,
            symbol::TRAINABLE => &mut args.trainable,
            _ => return None,
        };
        if slot.is_some() || !simple_value(value) {
            return None;
        }
        // `dtype` and `trainable` are inspected for literals: parse them (they are short).
        let inspected = matches!(key.to_string().as_str(), symbol::DTYPE | symbol::TRAINABLE);
        *slot = Some(if inspected { syn::parse2::<Expr>(value_tokens).ok()? } else { Expr::Verbatim(value_tokens) });
    }
    Some(args)
}

/// Whether `tokens` are an expression the plain parse passes through whole: a literal, `-`
/// literal, or a path (`Init::Zeros`) with at most one `(..)`/`{..}` group, then `.method(..)`s.
fn simple_value(tokens: &[proc_macro2::TokenTree]) -> bool {
    use proc_macro2::{Delimiter, TokenTree as T};
    let punct = |t: Option<&T>, c: char| matches!(t, Some(T::Punct(p)) if p.as_char() == c);
    match tokens {
        [T::Literal(_)] => return true,
        [T::Punct(p), T::Literal(_)] if p.as_char() == '-' => return true,
        _ => {}
    }
    let mut i = 0;
    if punct(tokens.first(), ':') && punct(tokens.get(1), ':') {
        i = 2;
    }
    loop {
        if !matches!(tokens.get(i), Some(T::Ident(_))) {
            return false;
        }
        i += 1;
        if punct(tokens.get(i), ':') && punct(tokens.get(i + 1), ':') {
            i += 2;
        } else {
            break;
        }
    }
    if matches!(tokens.get(i), Some(T::Group(g)) if matches!(g.delimiter(), Delimiter::Parenthesis | Delimiter::Brace))
    {
        i += 1;
    }
    while punct(tokens.get(i), '.') {
        if !matches!(tokens.get(i + 1), Some(T::Ident(_))) {
            return false;
        }
        i += 2;
        if matches!(tokens.get(i), Some(T::Group(g)) if g.delimiter() == Delimiter::Parenthesis) {
            i += 1;
        }
    }
    i == tokens.len()
}

/// The full parse of `var!` arguments.
fn parse_var_syn(tokens: TokenStream, site: &TokenStream, errors: &mut Vec<syn::Error>) -> syn::Result<VarArgs> {
    let parser = |input: ParseStream<'_>| -> syn::Result<VarArgs> {
        let (cx, cx_expr) = parse_cx(input, symbol::VAR)?;
        let mut args = VarArgs {
            cx,
            cx_expr,
            name: None,
            shape: None,
            init: None,
            regularizer: None,
            dtype: None,
            trainable: None,
        };
        let mut options_seen = false;
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
                options_seen = true;
            } else if options_seen {
                // A positional argument after `key = value` options: take it where it
                // belongs, and say where to write it.
                let value: Expr = input.parse()?;
                let fix = if args.name.is_none() {
                    args.name = Some(value.clone());
                    "the name comes before the options: write `var!(cx, \"name\", shape, key = value, ..)`"
                } else if args.shape.is_none() {
                    args.shape = Some(value.clone());
                    "the shape comes before the options: write `var!(cx, \"name\", [dims], key = value, ..)`"
                } else if position == 1 {
                    position += 1;
                    "the shape is given twice (positionally and as `shape = ..`); keep only one"
                } else {
                    "unexpected argument: `var!` takes the name, the shape, then `key = value` options"
                };
                errors.push(syn::Error::new(value.span(), fix));
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
            input.parse::<Token![,]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `,` between the arguments of `var!`: `var!(cx, \"name\", shape, key = value, ..)`",
                )
            })?;
        }
        Ok(args)
    };
    let mut args = parser.parse2(tokens)?;
    // `var!(cx, "w" [1])` parses as indexing a string: a missing comma.
    if args.shape.is_none()
        && let Some(Expr::Index(ix)) = &args.name
        && matches!(&*ix.expr, Expr::Lit(l) if matches!(l.lit, syn::Lit::Str(_)))
    {
        errors.push(syn::Error::new(
            ix.bracket_token.span.join(),
            "expected `,` between the name and the shape: write `var!(cx, \"name\", [dims], ..)`",
        ));
        let shape = Expr::Array(syn::ExprArray {
            attrs: Vec::new(),
            bracket_token: ix.bracket_token,
            elems: std::iter::once((*ix.index).clone()).collect(),
        });
        args.name = Some((*ix.expr).clone());
        args.shape = Some(shape);
    }
    if args.name.is_none() {
        errors.push(syn::Error::new_spanned(site, "missing variable name: write `var!(cx, \"name\", shape, ..)`"));
    }
    Ok(args)
}

/// Parses `scope!` arguments, pushing recoverable errors to `errors`.
pub fn parse_scope(tokens: TokenStream, site: &TokenStream, errors: &mut Vec<syn::Error>) -> syn::Result<ScopeArgs> {
    let parser = |input: ParseStream<'_>| -> syn::Result<ScopeArgs> {
        let (cx, cx_expr) = parse_cx(input, symbol::SCOPE)?;
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
            cx_expr,
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
    if let (Some(_), Some(reuse)) = (&args.default_name, &args.reuse) {
        let span = match reuse {
            ReuseOpt::Reuse(k) | ReuseOpt::Auto(k) => k.span(),
            ReuseOpt::Dynamic(e) => e.span(),
        };
        errors.push(syn::Error::new(
            span,
            "a `default_name` scope is new by construction, so it cannot reuse (the runtime always \
             refuses this); give the scope a name to reuse it: `scope!(cx, \"name\", reuse { .. })`",
        ));
    }
    Ok(args)
}

/// The arguments of a `scope!` whose options did not parse, recovered so that its body still
/// expands: the context (the first identifier, or `&mut cx`) and the last braced group. The
/// scope's name is unknown, so the checks treat the body as dynamic.
pub fn recover_scope(tokens: TokenStream) -> Option<ScopeArgs> {
    let trees: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
    let cx = trees.iter().find_map(|t| match t {
        proc_macro2::TokenTree::Ident(i) if i != "mut" => Some(i.clone()),
        _ => None,
    })?;
    let body = trees.iter().rev().find_map(|t| match t {
        proc_macro2::TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => Some(g.clone()),
        _ => None,
    })?;
    let stmts = Block::parse_within.parse2(body.stream()).ok()?;
    let brace_token = syn::token::Brace { span: body.delim_span() };
    Some(ScopeArgs {
        cx_expr: ident_expr(&cx),
        cx,
        name: Some(Expr::Verbatim(quote::quote!(::std::string::String::new()))),
        reuse: None,
        initializer: None,
        regularizer: None,
        dtype: None,
        default_name: None,
        auxiliary_name_scope: None,
        body: Block { brace_token, stmts },
    })
}

/// Parses `#[model(..)]` options.
pub fn parse_model(tokens: TokenStream, errors: &mut Vec<syn::Error>) -> syn::Result<ModelArgs> {
    let metas = syn::punctuated::Punctuated::<syn::Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut args = ModelArgs::default();
    let mut seen: Vec<String> = Vec::new();
    for meta in metas {
        let Some(ident) = meta.path().get_ident().cloned() else {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("unknown option of `#[model]`; expected one of {}", symbol::MODEL_OPTIONS),
            ));
            continue;
        };
        let key = ident.to_string();
        if !matches!(meta, syn::Meta::Path(_)) {
            errors.push(syn::Error::new_spanned(
                &meta,
                format!("`{key}` takes no value: write `#[model({key})]`, or `#[model]` without it"),
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn show(a: &VarArgs) -> String {
        let opt = |e: &Option<Expr>| e.as_ref().map(|e| e.to_token_stream().to_string());
        format!(
            "{} {} {:?} {:?} {:?} {:?} {:?} {:?}",
            a.cx,
            a.cx_expr.to_token_stream(),
            opt(&a.name),
            opt(&a.shape),
            opt(&a.init),
            opt(&a.regularizer),
            opt(&a.dtype),
            opt(&a.trainable)
        )
    }

    #[test]
    fn plain_parse_agrees_with_the_full_parse() {
        let plain = [
            r#"cx, "w""#,
            r#"cx, "w", [1, 4]"#,
            r#"cx, "w", [1, 4],"#,
            r#"cx, name, shape"#,
            r#"cx, "w", [3], init = Init::Zeros, dtype = DType::F64, trainable = false"#,
            r#"cx, "w", init = Init::RandomNormal { mean: 0.0, stddev: 1.0 }, shape = [2]"#,
            r#"cx, "w", [2], init = Init::constant(0.0), regularizer = Regularizer::l2(0.01)"#,
            r#"cx, "w", [2], init = self.init.clone()"#,
            r#"cx, "w", [2], init = -1"#,
            r#"cx, "w", [1], init = Init::custom(|a, b| a)"#,
        ];
        for src in plain {
            let tokens: TokenStream = src.parse().unwrap();
            let fast = parse_var_plain(&tokens).unwrap_or_else(|| panic!("not plain: {src}"));
            let mut errors = Vec::new();
            let full = parse_var_syn(tokens, &TokenStream::new(), &mut errors).unwrap();
            assert!(errors.is_empty(), "{src}");
            assert_eq!(show(&fast), show(&full), "{src}");
        }
        // Forms the plain parse leaves to the full one (which reports the mistakes).
        let other = [
            r#"cx, "w" [1]"#,
            r#"cx, shape = [1], "w""#,
            r#"cx, "w", [1], init = Init::Zeros dtype = DType::F64"#,
            r#"cx, "w", [1], init = Init::Zeros, init = Init::Zeros"#,
            r#"cx, "w", [1], colour = 3"#,
            r#"cx, "w", [1], regularizer = |t, cx| t"#,
            r#"cx, "w", [1], init = Init::f::<A, B>()"#,
            r#"&mut *cx, "w", [1]"#,
            r#"cx, "w", [n; 2]"#,
            r#"cx, "w", [1], [2]"#,
            r#"cx"#,
            r#"self, "w""#,
        ];
        for src in other {
            let tokens: TokenStream = src.parse().unwrap();
            assert!(parse_var_plain(&tokens).is_none(), "{src}");
        }
    }
}
