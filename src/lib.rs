#![doc = include_str!("../README.md")]
//!
//! ## API map
//!
//! The runtime ([`scope_runtime`], re-exported here): [`Graph`], [`Scope`],
//! [`VarScope`], [`VariableScope`], [`Variable`], [`Tensor`], [`Value`],
//! [`Error`]; the ops are methods of [`Scope`] ([`ops`] holds their argument
//! types); [`gluon`] is the Gluon naming style. The DSL: [`model`], [`checked`], [`scope!`],
//! [`var!`], [`opaque!`]. Most programs start with `use varscope::prelude::*`.

// The layers in `layers::dsl` are `#[model]`s, whose generated code names
// `::varscope::__private` as a user's does.
extern crate self as varscope;

pub use scope_runtime::*;

pub mod layers;

pub use scope_macros::{checked, model, opaque, scope, var};
