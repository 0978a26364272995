//! What varscope's macros and its runtime share, defined once: the manifest format (its
//! layout, decoder and the const-evaluated checker that generated code runs), the path
//! hashes, the reuse modes and TensorFlow's name rules.
//!
//! `scope-macros` encodes a model body with these definitions at compile time, and
//! `scope-runtime` re-exports them (`varscope::manifest`); no rule is written twice. The crate
//! has no dependencies and no `unsafe`.

pub mod hash;
pub mod layout;
pub mod manifest;
pub mod name;
