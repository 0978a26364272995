//! Integration tests, in one binary (each `tests/*.rs` would relink the crate).

mod checkpoint;
mod conformance;
mod fuzz;
mod gluon;
mod grad;
mod macros;
mod ops;
mod reliability;
mod scopes;
mod siamese;
mod summary;
mod train;
mod ui;
