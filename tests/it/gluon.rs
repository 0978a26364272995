//! Gluon-style naming from ordinary Rust code, and the 54 public Gluon oracle cases.

#[path = "../../examples/conformance/case.rs"]
mod case;
#[path = "../../examples/conformance/gluon.rs"]
mod runner;

use std::path::PathBuf;

#[test]
fn gluon_public_cases_all_pass() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/gluon_public.json");
    let cases = case::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = String::new();
    let mut passed = 0;
    for c in &cases {
        match runner::run_case(&c.steps) {
            Ok(out) if out == c.expect => passed += 1,
            Ok(out) => failures.push_str(&format!("FAIL {}\n{}", c.name, case::diff(&c.expect, &out))),
            Err(e) => failures.push_str(&format!("BROKEN {}: {e}\n", c.name)),
        }
    }
    assert!(failures.is_empty(), "{passed}/{} passed\n{failures}", cases.len());
    assert_eq!(passed, 54);
}
