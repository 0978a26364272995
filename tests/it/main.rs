//! Integration tests, in one binary (each `tests/*.rs` would relink the crate).

mod conformance;
mod fuzz;
mod gluon;
mod macros;
mod scopes;
mod ui;
