//! varscope: TensorFlow-style variable scopes for Rust, checked at compile time.
pub use scope_runtime::*;
