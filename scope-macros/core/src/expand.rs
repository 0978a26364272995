//! Code generation. Generated code names the runtime only through `::varscope::__private`, so
//! the facade crate must be a dependency under its own name `varscope`.

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

use crate::args::{ReuseOpt, ScopeArgs, VarArgs};
use crate::ast::{Item, Kind};
use crate::walk::lit_str;

/// The expansion of a `var!` whose arguments did not parse: a value of the right type that
/// never runs (the compile fails on the reported error), so no follow-on errors appear.
pub fn malformed_var() -> TokenStream {
    quote!(::varscope::__private::malformed_var())
}

/// The expansion of a `scope!` whose arguments did not parse (or that nests too deep): a
/// `Result` whose value fits any type, so that `scope!(..)?` and a `scope!` in tail position
/// bring no follow-on errors; it never runs because the compile fails.
pub fn malformed_scope() -> TokenStream {
    quote!(::varscope::__private::Result::<_, ::varscope::__private::Error>::Ok(
        ::varscope::__private::malformed_scope()
    ))
}

/// `var!(cx, name, shape, init = .., dtype = .., trainable = ..)` becomes
/// `cx.get_variable(name, VarSpec::new().shape(..).init(..)..)`.
pub fn var(a: &VarArgs) -> TokenStream {
    let cx = &a.cx_expr;
    let Some(name) = &a.name else {
        return quote!(::varscope::__private::malformed_var_in(#cx));
    };
    let name =
        if lit_str(name).is_some() { quote!(#name) } else { quote!(::core::convert::AsRef::<str>::as_ref(&#name)) };
    let mut spec = quote!(::varscope::__private::VarSpec::new());
    if let Some(shape) = &a.shape {
        spec.extend(quote!(.shape(#shape)));
    }
    if let Some(init) = &a.init {
        spec.extend(quote!(.init(#init)));
    }
    if let Some(regularizer) = &a.regularizer {
        spec.extend(quote!(.regularizer(#regularizer)));
    }
    if let Some(dtype) = &a.dtype {
        spec.extend(quote!(.dtype(#dtype)));
    }
    if let Some(trainable) = &a.trainable {
        spec.extend(quote!(.trainable(#trainable)));
    }
    // Method syntax, so that the context may be a `&mut Scope`, a `Scope` or a `ScopeGuard`
    // (inherent methods win over any trait's).
    quote!((#cx).get_variable(#name, #spec))
}

/// `scope!(cx, name, options { body })` becomes a block that opens the scope with the RAII
/// guard, rebinds `cx` to the guarded scope, and evaluates to the body's value; `?` in the body
/// propagates as in any block.
pub fn scope(a: &ScopeArgs) -> TokenStream {
    let cx = &a.cx;
    let cx_expr = &a.cx_expr;
    let stmts = &a.body.stmts;
    let guard = Ident::new("__varscope_guard", Span::mixed_site());
    let spec = match (&a.name, &a.default_name) {
        (Some(name), _) => {
            if a.reuse.is_none()
                && a.initializer.is_none()
                && a.regularizer.is_none()
                && a.dtype.is_none()
                && a.auxiliary_name_scope.is_none()
            {
                if lit_str(name).is_some() {
                    quote!(#name)
                } else {
                    quote!(::varscope::__private::VarScope::from(#name))
                }
            } else {
                let mut spec = quote!(::varscope::__private::VarScope::from(#name));
                options(a, &mut spec);
                spec
            }
        }
        (None, Some(default)) => {
            let mut spec = quote!(::varscope::__private::VarScope::default_name(#default));
            options(a, &mut spec);
            spec
        }
        (None, None) => {
            return quote!({
                #[allow(unused_variables)]
                let #cx: &mut ::varscope::__private::Scope = &mut *#cx_expr;
                #(#stmts)*
            });
        }
    };
    quote!({
        let mut #guard = (#cx_expr).variable_scope(#spec)?;
        #[allow(unused_variables)]
        let #cx: &mut ::varscope::__private::Scope = &mut *#guard;
        #(#stmts)*
    })
}

/// Appends the builder calls of a scope's options.
fn options(a: &ScopeArgs, spec: &mut TokenStream) {
    match &a.reuse {
        None => {}
        Some(ReuseOpt::Reuse(k)) => {
            spec.extend(quote_spanned!(k.span()=> .reuse(::varscope::__private::Reuse::ReuseOnly)))
        }
        Some(ReuseOpt::Auto(k)) => spec.extend(quote_spanned!(k.span()=> .reuse(::varscope::__private::Reuse::Auto))),
        Some(ReuseOpt::Dynamic(e)) => spec.extend(quote!(.reuse(#e))),
    }
    if let Some(init) = &a.initializer {
        spec.extend(quote!(.initializer(#init)));
    }
    if let Some(regularizer) = &a.regularizer {
        spec.extend(quote!(.regularizer(#regularizer)));
    }
    if let Some(dtype) = &a.dtype {
        spec.extend(quote!(.dtype(#dtype)));
    }
    if let Some(aux) = &a.auxiliary_name_scope {
        spec.extend(quote!(.auxiliary_name_scope(#aux)));
    }
}

/// The manifest static `ident` of a body: its items packed by [`encode`](crate::encode), with
/// the body's `use` items replayed so that callee paths resolve as they do in the body.
pub fn manifest_static(
    id: u64,
    ident: &Ident,
    vis: &TokenStream,
    items: &[Item],
    uses: &[syn::ItemUse],
    model: &str,
    opaque: bool,
) -> TokenStream {
    let enc = crate::encode::encode(items, model);
    let n = items.len();
    let data = enc.data.iter().map(|w| Literal::u64_suffixed(*w));
    let text = Literal::string(&enc.text);
    let callees = enc.callees;
    // Each other model is named through an import `__varscope_callee_K` that a glob import
    // of placeholders backs: a real model brings its manifest module, which shadows the
    // placeholder; a plain fn brings only a value, so the placeholder's const is used, and its
    // evaluation fails with a message that says what to write.
    let mut placeholders = TokenStream::new();
    let mut imports = TokenStream::new();
    let mut calls = Vec::new();
    for (k, (path, callee)) in enc.callee_paths.iter().enumerate() {
        let span = path.clone().into_iter().last().map_or_else(Span::call_site, |t| t.span());
        let name = format_ident!("__varscope_callee_{}", k);
        let msg = format!(
            "`{callee}(cx, ..)` takes the context first, so it is taken for a call into a model, but \
             `{callee}` is no `#[model]` fn: mark it `#[model]` (or `#[model(opaque)]` to leave its \
             variables to the runtime), or write `opaque!({callee}(cx, ..))` at the call{}",
            scope_core::manifest::EXPLAIN
        );
        placeholders.extend(quote_spanned!(span=>
            pub struct #name {}
            impl #name {
                pub const MANIFEST: ::varscope::__private::Manifest = ::core::panic!(#msg);
            }
        ));
        imports.extend(quote_spanned!(span=> #[allow(unused_imports)] use #path as #name;));
        calls.push(quote_spanned!(span=> &#name::MANIFEST));
    }
    calls.extend(enc.calls[callees.min(enc.calls.len())..].iter().map(|m| quote!(&#m)));
    let leaves = enc.leaves.iter().map(|w| Literal::u64_suffixed(*w));
    let prefixes = enc.prefixes.iter().map(|w| Literal::u64_suffixed(*w));
    let doc = format!("The manifest of `{model}`: its variables and sub-model calls.");
    let manifest = quote!(
        ::varscope::__private::Manifest::new(#model, ::core::module_path!(), #opaque, ::varscope::__private::Packed {
            id: #id, items: #n, data: &[#(#data),*], text: #text, calls: &[#(#calls),*], callees: #callees,
            leaves: &[#(#leaves),*], prefixes: &[#(#prefixes),*],
        })
    );
    let placeholders = if placeholders.is_empty() {
        placeholders
    } else {
        quote!(
            #[allow(non_camel_case_types, dead_code)]
            mod __varscope_placeholders { #placeholders }
            #[allow(unused_imports)]
            use __varscope_placeholders::*;
            #imports
        )
    };
    // A block only when callee paths need the body's `use` items or the placeholders.
    let init = if uses.is_empty() && placeholders.is_empty() {
        manifest
    } else {
        quote!({ #placeholders #(#[allow(unused_imports)] #uses)* #manifest })
    };
    quote!(
        #[doc = #doc]
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #vis static #ident: ::varscope::__private::Manifest = #init;
    )
}

/// An identity for the manifest of `model` defined at `span`: its name and position (a
/// collision would only make the checks take a call for recursion and leave it to the
/// runtime).
pub fn manifest_id(model: &str, span: Span) -> u64 {
    let at = span.start();
    crate::hash::segment(&format!("{model}@{}:{}", at.line, at.column))
}

/// The cross-model checks: one analysis const per body, then one small const per item that
/// follows a call, spanned at that item so that a failure underlines it. Only a failing check
/// builds its message.
pub fn checks(manifest: &Ident, items: &[Item], model: &str) -> TokenStream {
    let Some(first_call) = items.iter().position(Item::is_call) else {
        return TokenStream::new();
    };
    if !crate::ast::calls_to_walk(items).contains(&true) {
        // Every call is proved free of conflicts: no analysis to run.
        return TokenStream::new();
    }
    let check = format_ident!("{}_check", manifest, span = Span::mixed_site());
    // One bit per item, so that every conflict of the body is reported.
    let words = Literal::usize_unsuffixed(items.len() / 64 + 1);
    let mut out = quote!(
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        const #check: ::varscope::__private::Conflicts<#words> =
            ::varscope::__private::analyze::<#words>(&#manifest, #model);
    );
    let repeats = crate::ast::repeats(items);
    for (j, it) in items.iter().enumerate().skip(first_call) {
        if matches!(it.kind, Kind::Opaque { .. }) || it.dynamic || repeats[j] {
            continue;
        }
        let mut args = Group::new(Delimiter::Parenthesis, quote!(&#check, #j));
        args.set_span(it.hi);
        let mut msg_args = Group::new(Delimiter::Parenthesis, quote!(&#manifest, #model, #j));
        msg_args.set_span(it.hi);
        // `assert!(ok, "{}", message)` is the form const evaluation accepts for a computed
        // message; rustc reports it as "evaluation panicked: <message>" on this item's span.
        let ok = quote_spanned!(it.lo=> !::varscope::__private::conflicts);
        let msg = quote_spanned!(it.lo=> ::varscope::__private::conflict_message);
        let as_str = quote_spanned!(it.hi=> .as_str());
        // The assertion's parentheses carry the last span, so the error underlines the whole
        // invocation or call.
        let mut inner =
            Group::new(Delimiter::Parenthesis, quote_spanned!(it.lo=> #ok #args, "{}", #msg #msg_args #as_str));
        inner.set_span(it.hi);
        out.extend(quote_spanned!(it.lo=> const _: () = ::core::assert!));
        out.extend([TokenTree::Group(inner)]);
        out.extend(quote_spanned!(it.hi=> ;));
    }
    out
}

/// The visibility that, inside the hidden module named after the fn, means what `vis` means
/// beside the fn: the module re-exports the manifest static under that visibility.
pub fn inner_visibility(vis: &syn::Visibility) -> TokenStream {
    match vis {
        syn::Visibility::Public(_) => quote!(pub),
        syn::Visibility::Inherited => quote!(pub(super)),
        syn::Visibility::Restricted(r) => {
            let path = &r.path;
            let first = path.segments.first().map(|s| s.ident.to_string());
            match first.as_deref() {
                Some("crate") => quote!(pub(in #path)),
                Some("self") => {
                    let rest = path.segments.iter().skip(1);
                    quote!(pub(in super #(::#rest)*))
                }
                _ => quote!(pub(in super::#path)),
            }
        }
    }
}

/// One `use path as _;` per macro path the walk expanded, so that the user's imports of
/// `var`/`scope`/`opaque` stay used after their invocations were replaced.
pub fn macro_uses(paths: &[TokenStream]) -> TokenStream {
    paths.iter().map(|p| quote!(#[allow(unused_imports)] use #p as _;)).collect()
}
