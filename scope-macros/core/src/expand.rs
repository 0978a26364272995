//! Code generation. Generated code names the runtime only through `::varscope::__private`, so
//! the facade crate must be a dependency under its own name `varscope`.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

use crate::args::{ReuseOpt, ScopeArgs, VarArgs};
use crate::ast::{Item, Kind};
use crate::hash::PathHash;
use crate::walk::lit_str;

/// The expansion of a `var!` whose arguments did not parse: a value of the right type that
/// never runs (the compile fails on the reported error), so no follow-on errors appear.
pub fn malformed_var() -> TokenStream {
    quote!(::varscope::__private::malformed_var())
}

/// The expansion of a `scope!` whose arguments did not parse.
pub fn malformed_scope() -> TokenStream {
    quote!(::varscope::__private::malformed_scope())
}

/// `var!(cx, name, shape, init = .., dtype = .., trainable = ..)` becomes
/// `Scope::get_variable(cx, name, VarSpec::new().shape(..).init(..)..)`.
pub fn var(a: &VarArgs) -> TokenStream {
    let cx = &a.cx;
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
    if let Some(dtype) = &a.dtype {
        spec.extend(quote!(.dtype(#dtype)));
    }
    if let Some(trainable) = &a.trainable {
        spec.extend(quote!(.trainable(#trainable)));
    }
    quote!(::varscope::__private::Scope::get_variable(#cx, #name, #spec))
}

/// `scope!(cx, name, options { body })` becomes a block that opens the scope with the RAII
/// guard, rebinds `cx` to the guarded scope, and evaluates to the body's value; `?` in the body
/// propagates as in any block.
pub fn scope(a: &ScopeArgs) -> TokenStream {
    let cx = &a.cx;
    let stmts = &a.body.stmts;
    let guard = Ident::new("__varscope_guard", Span::mixed_site());
    let spec = match (&a.name, &a.default_name) {
        (Some(name), _) => {
            if a.reuse.is_none() && a.initializer.is_none() && a.dtype.is_none() && a.auxiliary_name_scope.is_none() {
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
                let #cx: &mut ::varscope::__private::Scope = &mut *#cx;
                #(#stmts)*
            });
        }
    };
    quote!({
        let mut #guard = ::varscope::__private::Scope::variable_scope(#cx, #spec)?;
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
    if let Some(dtype) = &a.dtype {
        spec.extend(quote!(.dtype(#dtype)));
    }
    if let Some(aux) = &a.auxiliary_name_scope {
        spec.extend(quote!(.auxiliary_name_scope(#aux)));
    }
}

/// The manifest entry of one item.
fn item(item: &Item, index: usize, model: &str) -> TokenStream {
    let vs = Ident::new("__vs", Span::mixed_site());
    let mut path = PathHash::EMPTY;
    let mut segs = Vec::new();
    for (k, seg) in item.segs.iter().enumerate() {
        path = if seg.dynamic { path.push(&format!("\u{0}{model}#{index}#{k}")) } else { path.push(&seg.name) };
        let name = &seg.name;
        let dynamic = seg.dynamic;
        segs.push(quote!(#vs::Segment { name: #name, dynamic: #dynamic }));
    }
    let (hash, pow) = (path.hash, path.pow);
    let mode = Ident::new(item.mode.variant(), Span::call_site());
    let (dynamic, cond, looped, line, site) = (item.dynamic, item.cond, item.looped, item.line, &item.site);
    let branch = item.branch.iter().flat_map(|(s, a)| [*s, *a]);
    let kind = match &item.kind {
        Kind::Var { name, shape, dtype, init, trainable, .. } => {
            let leaf = crate::hash::segment(name);
            let shape = match shape {
                Some(dims) => quote!(::core::option::Option::Some(&[#(#dims),*])),
                None => quote!(::core::option::Option::None),
            };
            let dtype = match dtype {
                Some(d) => quote!(::core::option::Option::Some(#d)),
                None => quote!(::core::option::Option::None),
            };
            let trainable = match trainable {
                Some(t) => quote!(::core::option::Option::Some(#t)),
                None => quote!(::core::option::Option::None),
            };
            quote!(#vs::ItemKind::Var(#vs::VarItem {
                name: #name, hash: #leaf, shape: #shape, dtype: #dtype, init: #init,
                trainable: #trainable,
            }))
        }
        Kind::Call { manifest, .. } => quote!(#vs::ItemKind::Call(&#manifest)),
        Kind::Opaque { callee } => quote!(#vs::ItemKind::Opaque(#callee)),
    };
    quote!(#vs::Item {
        scope: &[#(#segs),*], scope_hash: #hash, scope_pow: #pow, mode: #vs::Mode::#mode,
        dynamic: #dynamic, cond: #cond, looped: #looped, branch: &[#(#branch),*],
        kind: #kind, line: #line, site: #site,
    })
}

/// The items static, named `ident`, with the body's `use` items replayed so that callee paths
/// resolve as they do in the body.
pub fn items_static(ident: &Ident, items: &[Item], uses: &[syn::ItemUse], model: &str) -> TokenStream {
    let vs = Ident::new("__vs", Span::mixed_site());
    let n = items.len();
    let entries = items.iter().enumerate().map(|(k, i)| item(i, k, model));
    quote!(
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #ident: [::varscope::__private::Item; #n] = {
            #[allow(unused_imports)]
            use ::varscope::__private as #vs;
            #(#[allow(unused_imports)] #uses)*
            [#(#entries),*]
        };
    )
}

/// The summary static of a model: the hashes of its own leaf names and its callees' summaries
/// (self-calls left out, since a static cannot read itself). Its name carries the fix for the
/// one way it fails: mutual recursion between models, which rustc reports as a cycle through it.
pub fn summary_static(ident: &Ident, items: &[Item], uses: &[syn::ItemUse], model: &str) -> TokenStream {
    let vs = Ident::new("__vs", Span::mixed_site());
    let mut own = Vec::new();
    let mut callees = Vec::new();
    for item in items {
        match &item.kind {
            Kind::Var { name, dynamic_name: false, .. } => own.push(crate::hash::segment(name)),
            Kind::Call { manifest, callee } if callee != model => {
                callees.push(quote!(#manifest.summary));
            }
            _ => {}
        }
    }
    quote!(
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #ident: ::varscope::__private::Summary = {
            #[allow(unused_imports)]
            use ::varscope::__private as #vs;
            #(#[allow(unused_imports)] #uses)*
            #vs::summarize(&[#(#own),*], &[#(#callees),*])
        };
    )
}

/// The cross-model checks: one analysis const per body, then one small const per item that
/// follows a call, spanned at that item so that a failure underlines it.
pub fn checks(items_ident: &Ident, items: &[Item], model: &str) -> TokenStream {
    let Some(first_call) = items.iter().position(Item::is_call) else {
        return TokenStream::new();
    };
    let check = format_ident!("{}_check", items_ident, span = Span::mixed_site());
    let mut out = quote!(
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        const #check: ::varscope::__private::Report =
            ::varscope::__private::analyze(&#items_ident, #model);
    );
    for (j, it) in items.iter().enumerate().skip(first_call) {
        if matches!(it.kind, Kind::Opaque { .. }) || it.dynamic {
            continue;
        }
        let args = Group::new(Delimiter::Parenthesis, quote!(&#check, #j));
        let mut args_tt = TokenTree::Group(args);
        args_tt.set_span(it.hi);
        // `assert!(ok, "{}", message)` is the form const evaluation accepts for a computed
        // message; rustc reports it as "evaluation panicked: <message>" on this item's span.
        let ok = quote_spanned!(it.lo=> !::varscope::__private::conflicts);
        let msg = quote_spanned!(it.lo=> ::varscope::__private::conflict_message);
        let mut msg_args = args_tt.clone();
        msg_args.set_span(it.hi);
        // The assertion's parentheses carry the last span, so the error underlines the whole
        // invocation or call.
        let mut inner = Group::new(Delimiter::Parenthesis, quote_spanned!(it.lo=> #ok #args_tt, "{}", #msg #msg_args));
        inner.set_span(it.hi);
        out.extend(quote_spanned!(it.lo=> const _: () = ::core::assert!));
        out.extend([TokenTree::Group(inner)]);
        out.extend(quote_spanned!(it.hi=> ;));
    }
    out
}
