//! Compile-time checks of the DSL: trybuild compiles each `tests/ui/fail/*.rs` and compares
//! rustc's output with the reviewed `.stderr` snapshot next to it (tied to the pinned
//! toolchain, Rust 1.95), and compiles and runs each `tests/ui/pass/*.rs`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
