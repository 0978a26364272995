//! Const manifests of `#[model]` functions and the const-evaluated checks across model calls:
//! defined once in `scope-core`, which the macros share; see [`Manifest`].

pub use scope_core::manifest::*;
