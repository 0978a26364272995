//! Conformance runner (placeholder).
fn main() {}
