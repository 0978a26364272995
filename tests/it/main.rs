//! Integration tests (one binary).

mod grad;
mod ops;
