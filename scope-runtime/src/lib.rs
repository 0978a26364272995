//! Runtime of varscope: TensorFlow-style variable scopes, name scopes and
//! `get_variable` over eagerly computed `ndarray` tensors.
//!
//! Placeholder while the workspace is set up.

pub mod kernels;
