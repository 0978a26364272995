//! TensorFlow's name rules, applied to literal names at compile time: the one definition is
//! `scope_core::name`, which the runtime applies to every name at run time.

pub use scope_core::name::{invalid_char, segments};
