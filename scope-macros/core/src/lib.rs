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
    let name = func.sig.ident.to_string();
    let method = opts.method || matches!(func.sig.inputs.first(), Some(FnArg::Receiver(_)));
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
    walker.visit_block_mut(&mut func.block);
    errors.append(&mut walker.errors);
    errors.extend(check::check(&walker.items, &format!("in model `{name}`")));

    let manifest =
        format_ident!("__varscope_manifest_of_{}__a_cycle_here_means_mutual_recursion_mark_one_call_opaque", name);
    let desc = format!("model `{name}`");
    let errors = errors_to_tokens(errors);
    let uses = expand::macro_uses(&walker.macro_paths);
    let id = expand::manifest_id(&name, func.sig.ident.span());
    if method {
        let statics =
            expand::manifest_static(id, &manifest, &TokenStream::new(), &walker.items, &walker.uses, &name, false);
        let checks = expand::checks(&manifest, &walker.items, &desc);
        let stmts = &func.block.stmts;
        let block: syn::Block = syn::parse_quote!({
            #uses
            #statics
            #checks
            #(#stmts)*
        });
        *func.block = block;
        return quote!(#errors #func);
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
    quote!(
        #errors
        #(#attrs)* #vis #sig #body
        #statics
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports)]
        #vis mod #ident {
            #inner use super::#manifest as MANIFEST;
        }
        #checks
    )
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
    let mut errors = std::mem::take(&mut walker.errors);
    errors.extend(check::check(&walker.items, "in this `scope!`"));
    let errors = errors_to_tokens(errors);
    let uses = expand::macro_uses(&walker.macro_paths);
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
