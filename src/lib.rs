//! varscope: TensorFlow-style variable scopes for Rust, checked at compile time.
//!
//! This facade re-exports the runtime ([`scope_runtime`]): [`Graph`],
//! [`Scope`], [`VarScope`], [`Variable`], [`Tensor`] and the rest. See the
//! README for a tour.

pub use scope_runtime::*;

pub use scope_macros::{checked, model, opaque, scope, var};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
