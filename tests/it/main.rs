//! Integration tests, in one binary (each `tests/*.rs` would relink the crate).

mod conformance;
mod macros;
mod scopes;
mod ui;
