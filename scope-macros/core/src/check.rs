//! Checks on the items of one body, done by the macro itself (no const evaluation): each
//! `check_*` function is one rule, with the reason it exists.

use std::collections::HashMap;

use crate::ast::{Item, Kind, Mode};

/// Runs every in-body check and returns the errors, in source order.
pub fn check(items: &[Item], root_desc: &str) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    check_duplicates(items, root_desc, &mut errors);
    check_loops(items, root_desc, &mut errors);
    check_limits(items, &mut errors);
    errors
}

/// A second creation of one name in a create-only scope fails at run time with
/// "already exists" (TensorFlow's most reported scope error): report it on the second
/// declaration, and point at the first. Declarations in different `if`/`match` arms never both
/// run, so they do not conflict. Two declarations whose literal shapes or dtypes differ fail
/// even under reuse, so they are reported whatever the mode.
fn check_duplicates(items: &[Item], root_desc: &str, errors: &mut Vec<syn::Error>) {
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    for (j, item) in items.iter().enumerate() {
        let Some(key) = item.var_key() else {
            continue;
        };
        let earlier = seen.entry(key).or_default();
        for &i in earlier.iter() {
            let first = &items[i];
            if first.exclusive_with(item) {
                continue;
            }
            if item.mode == Mode::Create && first.mode.defines() {
                let mut e = syn::Error::new_spanned(
                    &item.site_tokens,
                    format!(
                        "duplicate variable `{path}` {root_desc}: `{first_site}` (line {line}) \
                         already creates it, and this declaration is in a non-reuse scope; wrap it in \
                         `scope!(cx, .., reuse {{ .. }})`, call `cx.reuse_variables()` before it, or \
                         rename it",
                        path = item.path(),
                        first_site = first.site,
                        line = first.line,
                    ),
                );
                e.combine(syn::Error::new_spanned(
                    &first.site_tokens,
                    format!("note: `{}` is first declared here", item.path()),
                ));
                errors.push(e);
                break;
            }
            if let Some(e) = conflict(first, item) {
                errors.push(e);
                break;
            }
        }
        earlier.push(j);
    }
}

/// A literal shape or dtype that differs from an earlier declaration of the same variable.
fn conflict(first: &Item, second: &Item) -> Option<syn::Error> {
    let (Kind::Var { shape: s1, dtype: d1, .. }, Kind::Var { shape: s2, dtype: d2, .. }) = (&first.kind, &second.kind)
    else {
        return None;
    };
    let what = match (s1, s2, d1, d2) {
        (Some(a), Some(b), _, _) if a != b => {
            format!("shape {b:?}, but line {} declares it with shape {a:?}", first.line)
        }
        (_, _, Some(a), Some(b)) if a != b => {
            format!("dtype `{b}`, but line {} declares it with dtype `{a}`", first.line)
        }
        _ => return None,
    };
    let mut e = syn::Error::new_spanned(
        &second.site_tokens,
        format!(
            "conflicting declarations of variable `{}`: this one has {what}; use one shape and \
             dtype for a variable, or give the other one another name",
            second.path()
        ),
    );
    e.combine(syn::Error::new_spanned(&first.site_tokens, format!("note: `{}` is first declared here", second.path())));
    Some(e)
}

/// A literal-named variable created in a loop, under a path that stays the same across
/// iterations, fails on the second iteration with "already exists".
fn check_loops(items: &[Item], root_desc: &str, errors: &mut Vec<syn::Error>) {
    for item in items {
        if item.looped && item.mode == Mode::Create && item.var_key().is_some() {
            errors.push(syn::Error::new_spanned(
                &item.site_tokens,
                format!(
                    "variable `{}` {root_desc} is created inside a loop in a non-reuse scope: the \
                     second iteration fails with `already exists`; move it out of the loop, open \
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
