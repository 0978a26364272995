//! Integration tests, in one binary (each `tests/*.rs` would relink the crate).

mod checkpoint;
mod cifar10;
mod conformance;
#[path = "../../examples/common/digits.rs"]
mod digits;
mod fuzz;
mod gluon;
mod grad;
mod layering;
mod layers;
mod macros;
mod ops;
mod reliability;
mod scopes;
mod sequence;
mod session;
mod siamese;
mod summary;
mod train;
mod ui;
