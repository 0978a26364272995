//! Checks on the items of one body, done by the macro itself (no const evaluation): each
//! `check_*` function is one rule, with the reason it exists.

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::ast::{Item, Kind, Mode};

/// What the in-body checks found: the errors, in source order, and the code that points at the
/// first declaration of each duplicate (see [`first_declared_here`]), to put in the body.
pub struct Findings {
    /// The errors.
    pub errors: Vec<syn::Error>,
    /// The notes at first declarations, as statements.
    pub notes: TokenStream,
}

/// Runs every in-body check.
pub fn check(items: &[Item], root_desc: &str) -> Findings {
    let mut out = Findings { errors: Vec::new(), notes: TokenStream::new() };
    check_duplicates(items, root_desc, &mut out);
    check_loops(items, root_desc, &mut out.errors);
    check_limits(items, &mut out.errors);
    out
}

/// A second span for an error, at the first declaration of a duplicate, without a second error:
/// a use of a `#[deprecated]` item spanned at the declaration's arguments, which rustc reports
/// as a warning whose text is the note (stable proc macros have no notes of their own).
pub fn first_declared_here(first: &Item, note: &str) -> TokenStream {
    let item = Ident::new("first_declared_here", first.hi);
    quote!(
        const _: () = {
            #[deprecated(note = #note)]
            #[allow(non_camel_case_types, dead_code)]
            struct first_declared_here;
            let _ = #item;
        };
    )
}

/// A second creation of one name in a create-only scope fails at run time with
/// "already exists" (TensorFlow's most reported scope error): report it on the second
/// declaration, naming the first. Only an earlier declaration that has run whenever the later
/// one runs counts (it dominates it: not in an arm the later one is outside of); any earlier
/// declaration that succeeded leaves the variable existing, whatever its mode. Two
/// declarations whose literal shapes or dtypes differ fail whatever the mode.
fn check_duplicates(items: &[Item], root_desc: &str, out: &mut Findings) {
    let errors = &mut out.errors;
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    for (j, item) in items.iter().enumerate() {
        let Some(key) = item.var_key() else {
            continue;
        };
        let earlier = seen.entry(key).or_default();
        for &i in earlier.iter() {
            let first = &items[i];
            if !first.dominates(item) {
                continue;
            }
            let note = |what: &str| {
                format!("`{}` is declared here first; {what} at line {} is the error", item.path(), item.line)
            };
            if item.mode == Mode::Create {
                errors.push(syn::Error::new_spanned(&item.site_tokens, duplicate_message(first, item, root_desc)));
                out.notes.extend(first_declared_here(first, &note("its second declaration")));
                break;
            }
            if let Some(e) = conflict(first, item, root_desc) {
                errors.push(e);
                out.notes.extend(first_declared_here(first, &note("the conflicting declaration")));
                break;
            }
        }
        earlier.push(j);
    }
}

/// The one wording of a duplicate, in a body or through calls (the runtime's const checker
/// builds the same sentence).
pub fn duplicate_message(first: &Item, second: &Item, root_desc: &str) -> String {
    format!(
        "duplicate variable `{path}` {root_desc}: declared by `{s1}` (line {l1}) and again by `{s2}` \
         (line {l2}) in a non-reuse scope; wrap the second in a reuse scope (`scope!(cx, .., reuse \
         {{ .. }})` or `cx.reuse_variables()`), or rename it",
        path = second.path(),
        s1 = first.site,
        l1 = first.line,
        s2 = second.site,
        l2 = second.line,
    )
}

/// How a conflict shows a declaration's shape and dtype: `shape [5, 5] and dtype f32`.
fn spec(shape: &Option<Vec<usize>>, dtype: &Option<String>) -> String {
    let mut out = match shape {
        Some(dims) => {
            let dims: Vec<String> = dims.iter().map(usize::to_string).collect();
            format!("shape [{}]", dims.join(", "))
        }
        None => "a computed shape".to_owned(),
    };
    if let Some(d) = dtype {
        out.push_str(" and dtype ");
        out.push_str(d);
    }
    out
}

/// A literal shape or dtype that differs from an earlier declaration of the same variable.
fn conflict(first: &Item, second: &Item, root_desc: &str) -> Option<syn::Error> {
    let (Kind::Var { shape: s1, dtype: d1, .. }, Kind::Var { shape: s2, dtype: d2, .. }) = (&first.kind, &second.kind)
    else {
        return None;
    };
    let shapes = matches!((s1, s2), (Some(a), Some(b)) if a != b);
    let dtypes = matches!((d1, d2), (Some(a), Some(b)) if a != b);
    if !shapes && !dtypes {
        return None;
    }
    Some(syn::Error::new_spanned(
        &second.site_tokens,
        format!(
            "conflicting declarations of variable `{path}` {root_desc}: `{f}` (line {l1}) declares it \
             with {a}, and `{s}` (line {l2}) with {b}; use one shape and dtype for a variable, or give \
             the other one another name",
            path = second.path(),
            f = first.site,
            l1 = first.line,
            s = second.site,
            l2 = second.line,
            a = spec(s1, d1),
            b = spec(s2, d2),
        ),
    ))
}

/// A literal-named variable created in a loop that provably runs at least twice (a literal
/// count, a `loop` that cannot break), under a path that stays the same across iterations,
/// fails on the second iteration with "already exists".
fn check_loops(items: &[Item], root_desc: &str, errors: &mut Vec<syn::Error>) {
    for item in items {
        if item.looped && item.mode == Mode::Create && item.var_key().is_some() {
            errors.push(syn::Error::new_spanned(
                &item.site_tokens,
                format!(
                    "variable `{}` {root_desc} is created in a loop that runs at least twice, in a \
                     non-reuse scope: the second iteration fails with `already exists`; move it out of the loop, open \
                     a scope per iteration (`scope!(cx, format!(\"layer{{i}}\") {{ .. }})`), or \
                     use `auto_reuse`",
                    item.path()
                ),
            ));
        }
    }
}

/// The manifest stores scope depths, arm counts and ranks in 16 bits: refuse a body that
/// exceeds them rather than record a wrong manifest.
fn check_limits(items: &[Item], errors: &mut Vec<syn::Error>) {
    const LIMIT: usize = 0xffff;
    for item in items {
        let rank = match &item.kind {
            Kind::Var { shape: Some(dims), .. } => dims.len(),
            _ => 0,
        };
        if item.segs.len() > LIMIT || item.branch.len() > LIMIT || rank > LIMIT {
            errors.push(syn::Error::new_spanned(
                &item.site_tokens,
                "more than 65,535 nested scopes, `if`/`match` arms or dimensions at one \
                 declaration: too many for the manifest; split the model",
            ));
        }
    }
}
