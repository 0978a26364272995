//! Procedural macros of varscope: `#[model]`, `scope!`, `var!` and `opaque!`.
//!
//! This crate is a thin `proc_macro` boundary over `scope-macros-core`, where the macros are
//! plain `proc_macro2` functions that tests call directly. Use the macros through the facade
//! crate `varscope`, whose docs hold the tutorial: generated code names the runtime through
//! `::varscope::__private`, so `varscope` must be a dependency under its own name.

use proc_macro::TokenStream;

/// Marks a function taking the context first as a model: checks its body and generates its
/// manifest. See the `varscope` crate docs.
#[proc_macro_attribute]
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    scope_macros_core::model(attr.into(), item.into()).into()
}

/// Opens a variable scope around a block. See the `varscope` crate docs.
#[proc_macro]
pub fn scope(input: TokenStream) -> TokenStream {
    scope_macros_core::scope(input.into()).into()
}

/// Gets or creates a variable in the current scope. See the `varscope` crate docs.
#[proc_macro]
pub fn var(input: TokenStream) -> TokenStream {
    scope_macros_core::var(input.into()).into()
}

/// Marks a call that `#[model]` must not follow. See the `varscope` crate docs.
#[proc_macro]
pub fn opaque(input: TokenStream) -> TokenStream {
    scope_macros_core::opaque(input.into()).into()
}
