//! Implementation of varscope's procedural macros on `proc_macro2`, so that tests (and the
//! fuzz test) can call them directly; the `scope-macros` crate is a thin `proc_macro` wrapper.
//!
//! One stage per module: [`args`] parses invocations, [`walk`] records items and rewrites the
//! body, [`check`] runs the in-body checks, [`expand`] generates code. No function here panics
//! on any input: every problem becomes a spanned `syn::Error`, all of them are reported
//! together, and the item is still expanded so that no follow-on errors appear.
//!
//! This crate never depends on the runtime: generated code names it through
//! `::varscope::__private`.

pub mod args;
pub mod ast;
pub mod check;
pub mod encode;
pub mod expand;
pub mod hash;
pub mod name;
pub mod symbol;
pub mod walk;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::visit_mut::VisitMut;
use syn::{FnArg, Pat};

use crate::walk::{Root, Walker};

/// Folds errors into compile errors.
fn errors_to_tokens(errors: Vec<syn::Error>) -> TokenStream {
    let mut out = TokenStream::new();
    for e in errors {
        out.extend(e.to_compile_error());
    }
    out
}

/// `#[model]` on a function.
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let opts = match args::parse_model(attr, &mut errors) {
        Ok(o) => o,
        Err(e) => {
            errors.push(e);
            args::ModelArgs::default()
        }
    };
    let mut func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let mut out =
                syn::Error::new(e.span(), format!("`#[model]` applies to a function: {e}")).to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let name = func.sig.ident.unraw().to_string();
    // A receiver, or `Self` in the signature, means an associated fn: no module can sit
    // beside it in the `impl`, so it gets the in-body checks without a manifest.
    let method = opts.method
        || matches!(func.sig.inputs.first(), Some(FnArg::Receiver(_)))
        || mentions_self(func.sig.to_token_stream())
        || body_names_self(&func.block);
    let cx = func.sig.inputs.iter().find_map(|arg| match arg {
        FnArg::Typed(t) => match &*t.pat {
            Pat::Ident(p) => Some(p.ident.clone()),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    });
    let first_typed_is_cx = func.sig.inputs.iter().find(|a| matches!(a, FnArg::Typed(_))).is_some_and(|a| {
        matches!(a, FnArg::Typed(t) if matches!(&*t.pat, Pat::Ident(_))
                && matches!(&*t.ty, syn::Type::Reference(r) if r.mutability.is_some()))
    });
    let Some(cx) = cx.filter(|_| first_typed_is_cx) else {
        errors.push(syn::Error::new_spanned(
            &func.sig,
            format!("a `#[model]` fn takes its context first, e.g. `fn {name}(cx: &mut Scope, ..)`"),
        ));
        let mut out = errors_to_tokens(errors);
        out.extend(func.into_token_stream());
        return out;
    };
    let type_params = func.sig.generics.type_params().map(|t| t.ident.clone()).collect();
    let mut walker = Walker::new(cx, name.clone(), type_params, Root::Model);
    walker.bind_locals(param_idents(&func.sig));
    walker.visit_block_mut(&mut func.block);
    walker.finish();
    errors.append(&mut walker.errors);
    let findings = check::check(&walker.items, &format!("in model `{name}`"));
    errors.extend(findings.errors);

    let manifest =
        format_ident!("__varscope_manifest_of_{}__a_cycle_here_means_mutual_recursion_mark_one_call_opaque", name);
    let desc = format!("model `{name}`");
    if !errors.is_empty() {
        // The placeholders of malformed invocations never run; the compile fails on the
        // reported errors, without warnings about the placeholders.
        func.attrs.push(syn::parse_quote!(#[allow(unreachable_code)]));
    }
    let errors = errors_to_tokens(errors);
    let mut uses = expand::macro_uses(&walker.macro_paths);
    uses.extend(findings.notes);
    let id = expand::manifest_id(&name, func.sig.ident.span());
    if method {
        let statics =
            expand::manifest_static(id, &manifest, &TokenStream::new(), &walker.items, &walker.uses, &name, false);
        let checks = expand::checks(&manifest, &walker.items, &desc);
        let item = with_prelude(&func, quote!(#uses #statics #checks));
        return quote!(#errors #item);
    }
    // Prepend the `use`s without re-parsing the body.
    let mut body = TokenStream::new();
    func.block.brace_token.surround(&mut body, |inner| {
        uses.to_tokens(inner);
        for stmt in &func.block.stmts {
            stmt.to_tokens(inner);
        }
    });
    let (attrs, sig) = (&func.attrs, &func.sig);
    let vis = &func.vis;
    let ident = &func.sig.ident;
    let statics =
        expand::manifest_static(id, &manifest, &vis.to_token_stream(), &walker.items, &walker.uses, &name, opts.opaque);
    let checks = expand::checks(&manifest, &walker.items, &desc);
    let inner = expand::inner_visibility(vis);
    // The module reaches the static through an alias whose name says what to do when it
    // cannot: a module inside a fn body sees only the enclosing module, not the block.
    let alias =
        format_ident!("__varscope_manifest_of_{}__unresolved_here_means_move_the_model_fn_out_of_the_fn_body", name);
    quote!(
        #errors
        #(#attrs)* #vis #sig #body
        #statics
        #[doc(hidden)]
        #[allow(unused_imports)]
        #vis use #manifest as #alias;
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports)]
        #vis mod #ident {
            #inner use super::#alias as MANIFEST;
        }
        #checks
    )
}

/// Whether tokens mention `Self`.
fn mentions_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => i == "Self",
        proc_macro2::TokenTree::Group(g) => mentions_self(g.stream()),
        _ => false,
    })
}

/// Whether a body names `Self` outside the items nested in it (`Ok(Self { .. })`,
/// `Self::helper(..)`, also in macro arguments): only an associated fn can, so the fn gets no
/// manifest beside it.
fn body_names_self(block: &syn::Block) -> bool {
    struct Find(bool);
    impl syn::visit::Visit<'_> for Find {
        fn visit_item(&mut self, _: &syn::Item) {}
        fn visit_path(&mut self, p: &syn::Path) {
            if p.segments.first().is_some_and(|s| s.ident == "Self") {
                self.0 = true;
            }
            syn::visit::visit_path(self, p);
        }
        fn visit_macro(&mut self, m: &syn::Macro) {
            // `scope!(cx, "a" { Self::new(cx) })`: macro arguments are tokens.
            self.0 |= mentions_self(m.tokens.clone());
        }
    }
    let mut f = Find(false);
    syn::visit::Visit::visit_block(&mut f, block);
    f.0
}

/// The names the parameters of a fn bind.
fn param_idents(sig: &syn::Signature) -> Vec<syn::Ident> {
    struct Collect(Vec<syn::Ident>);
    impl syn::visit::Visit<'_> for Collect {
        fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
            self.0.push(p.ident.clone());
        }
    }
    let mut c = Collect(Vec::new());
    for arg in &sig.inputs {
        if let FnArg::Typed(t) = arg {
            syn::visit::Visit::visit_pat(&mut c, &t.pat);
        }
    }
    c.0
}

/// `#[checked]` on any function: its body is walked like a model's, with the contexts it
/// makes (`let mut cx = graph.scope();` and reborrows of it) as roots, so that top-level code
/// such as `main` gets the same checks. No manifest is generated.
pub fn checked(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    if !attr.is_empty() {
        errors.push(syn::Error::new_spanned(&attr, "`#[checked]` takes no options; write `#[checked]`"));
    }
    let mut func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let mut out =
                syn::Error::new(e.span(), format!("`#[checked]` applies to a function: {e}")).to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let name = func.sig.ident.unraw().to_string();
    let type_params = func.sig.generics.type_params().map(|t| t.ident.clone()).collect();
    let cx = syn::Ident::new("__varscope_no_context", Span::mixed_site());
    let mut walker = Walker::new(cx, name.clone(), type_params, Root::Checked);
    walker.bind_locals(param_idents(&func.sig));
    walker.visit_block_mut(&mut func.block);
    walker.finish();
    errors.append(&mut walker.errors);
    let desc = format!("in `fn {name}`");
    let findings = check::check(&walker.items, &desc);
    errors.extend(findings.errors);
    if !errors.is_empty() {
        func.attrs.push(syn::parse_quote!(#[allow(unreachable_code)]));
    }
    let errors = errors_to_tokens(errors);
    let mut uses = expand::macro_uses(&walker.macro_paths);
    uses.extend(findings.notes);
    let manifest = syn::Ident::new("__varscope_checked_manifest", Span::mixed_site());
    let (statics, checks) = if walker.items.iter().any(ast::Item::is_call) {
        let id = expand::manifest_id(&name, func.sig.ident.span());
        let statics =
            expand::manifest_static(id, &manifest, &TokenStream::new(), &walker.items, &walker.uses, &name, false);
        (statics, expand::checks(&manifest, &walker.items, &format!("`fn {name}`")))
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    let item = with_prelude(&func, quote!(#uses #statics #checks));
    quote!(#errors #item)
}

/// The fn with `prelude` put before the statements of its body (no re-parse of the body).
fn with_prelude(func: &syn::ItemFn, prelude: TokenStream) -> TokenStream {
    let mut body = TokenStream::new();
    func.block.brace_token.surround(&mut body, |inner| {
        prelude.to_tokens(inner);
        for stmt in &func.block.stmts {
            stmt.to_tokens(inner);
        }
    });
    let (attrs, vis, sig) = (&func.attrs, &func.vis, &func.sig);
    quote!(#(#attrs)* #vis #sig #body)
}

/// `scope!(cx, name, options { body })`, used outside a `#[model]` body (inside one, the
/// model's walk expands it).
pub fn scope(input: TokenStream) -> TokenStream {
    let site = quote::quote_spanned!(Span::call_site()=> scope);
    let cx = syn::parse::Parser::parse2(
        |s: syn::parse::ParseStream<'_>| {
            let cx: syn::Ident = s.parse()?;
            let _rest: TokenStream = s.parse()?;
            Ok(cx)
        },
        input.clone(),
    )
    .unwrap_or_else(|_| syn::Ident::new("cx", Span::call_site()));
    let id = expand::manifest_id("scope!", cx.span());
    let mut walker = Walker::new(cx, "scope!".to_owned(), Vec::new(), Root::Scope);
    let expansion = walker.handle_scope(input, &site);
    walker.finish();
    let mut errors = std::mem::take(&mut walker.errors);
    let findings = check::check(&walker.items, "in this `scope!`");
    errors.extend(findings.errors);
    let errors = errors_to_tokens(errors);
    let mut uses = expand::macro_uses(&walker.macro_paths);
    uses.extend(findings.notes);
    if !walker.items.iter().any(ast::Item::is_call) {
        return quote!({ #errors #uses #expansion });
    }
    let manifest = syn::Ident::new("__varscope_scope_manifest", Span::mixed_site());
    let statics =
        expand::manifest_static(id, &manifest, &TokenStream::new(), &walker.items, &walker.uses, "scope!", false);
    let checks = expand::checks(&manifest, &walker.items, "this `scope!`");
    quote!({ #errors #uses #statics #checks #expansion })
}

/// `var!(cx, name, shape, options)`, used outside a `#[model]` body.
pub fn var(input: TokenStream) -> TokenStream {
    let site = quote::quote_spanned!(Span::call_site()=> var);
    let mut errors = Vec::new();
    let expansion = match args::parse_var(input, &site, &mut errors) {
        Ok(a) => {
            if let Some(lit) = a.name.as_ref().and_then(walk::lit_str) {
                let value = lit.value();
                if let Some(c) = name::invalid_char(&value) {
                    errors.push(walk::invalid_name(&lit, &value, c, "variable"));
                }
            }
            expand::var(&a)
        }
        Err(e) => {
            errors.push(e);
            expand::malformed_var()
        }
    };
    let errors = errors_to_tokens(errors);
    quote!({ #errors #expansion })
}

/// `opaque!(expr)`: the expression, which `#[model]` does not analyse.
pub fn opaque(input: TokenStream) -> TokenStream {
    quote!((#input))
}
