//! The oracle cases of `tests/conformance/` (copied from `shared/conformance/`),
//! run through the same code as `examples/conformance`.

#[path = "../../examples/conformance/case.rs"]
mod case;
#[path = "../../examples/conformance/tf.rs"]
mod tf;

use std::path::PathBuf;

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance").join(file)
}

/// Runs every case of `file` and fails with the diff of each failing case.
fn check_file(file: &str, run: fn(&[serde_json::Value]) -> Result<Vec<String>, String>) -> usize {
    let cases = case::load(&data(file)).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = String::new();
    for c in &cases {
        match run(&c.steps) {
            Ok(out) if out == c.expect => {}
            Ok(out) => failures.push_str(&format!("FAIL {}\n{}", c.name, case::diff(&c.expect, &out))),
            Err(e) => failures.push_str(&format!("BROKEN {}: {e}\n", c.name)),
        }
    }
    assert!(failures.is_empty(), "{file}:\n{failures}");
    cases.len()
}

#[test]
fn tf_public_cases_all_pass() {
    assert_eq!(check_file("tf_public.json", tf::run_case), 184);
}

#[test]
fn copies_match_shared_reference_when_present() {
    // The cases are copied from `../shared/conformance/`; when that folder is
    // beside the project, the copies must be byte-identical to it.
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    let Ok(entries) = std::fs::read_dir(&shared) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let ours = std::fs::read(data(&name)).unwrap_or_default();
            let theirs = std::fs::read(&path).unwrap_or_default();
            assert!(ours == theirs, "tests/conformance/{name} differs from ../shared/conformance/{name}: copy it over");
        }
    }
}

#[test]
fn runner_reports_a_wrong_expectation() {
    // A case whose expectation is wrong must fail: the runner really compares.
    let text = r#"{"cases": [{"name": "wrong", "steps": [
        {"do": "variable_scope", "name": "foo"},
        {"do": "get_variable", "name": "v", "shape": [1]},
        {"do": "end"}], "expect": ["bar/v:0"]}]}"#;
    let cases = case::parse(text).unwrap();
    let out = tf::run_case(&cases[0].steps).unwrap();
    assert_eq!(out, vec!["foo/v:0".to_string()]);
    assert!(!case::diff(&cases[0].expect, &out).is_empty());
}
