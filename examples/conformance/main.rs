//! Conformance runner: replays the oracle cases of `shared/conformance/` on
//! varscope and compares the printed lines. Files named `gluon_*.json` use the
//! Gluon step language (`gluon.rs`), `optimizers*.json` the optimizer cases of
//! OPTIM-FORMAT.md (`optim.rs`, whose `expect` is an object, not lines), all
//! others TensorFlow's (`tf.rs`).
//!
//! ```text
//! cargo run --release --example conformance -- [--emit] FILE...
//! ```
//!
//! Without `--emit` it prints the diff of every failing case and closes with
//! `N passed, N failed` (exit 1 if any failed). With `--emit` it prints
//! `{"cases": [{"name": ..., "output": [...]}, ...]}` and exits 0 when every
//! case could be run.

mod case;
mod gluon;
mod layers;
mod optim;
mod tf;

use std::path::PathBuf;
use std::process::ExitCode;

/// Runs one case with the step language its file uses.
fn run(file: &std::path::Path, steps: &[serde_json::Value]) -> Result<Vec<String>, String> {
    let gluon = file.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("gluon_"));
    if gluon { gluon::run_case(steps) } else { tf::run_case(steps) }
}

/// Runs an optimizers file; returns (passed, failed, broken).
fn run_optim(file: &std::path::Path, emit: bool, emitted: &mut Vec<serde_json::Value>) -> (usize, usize, usize) {
    let results = std::fs::read_to_string(file).map_err(|e| e.to_string()).and_then(|t| optim::run_file(&t));
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return (0, 0, 1);
        }
    };
    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for (name, result) in results {
        match result {
            Ok((output, ..)) if emit => emitted.push(serde_json::json!({ "name": name, "output": output })),
            Ok((_, diffs, worst)) if diffs.is_empty() => {
                passed += 1;
                if worst > 0.0 {
                    println!("ok {name}: floats within {worst:.2} ULPs (of {} allowed)", optim::ULPS);
                }
            }
            Ok((_, diffs, _)) => {
                failed += 1;
                println!("FAIL {name} ({})", file.display());
                for d in diffs.iter().take(20) {
                    println!("  {d}");
                }
                if diffs.len() > 20 {
                    println!("  ... {} more", diffs.len() - 20);
                }
            }
            Err(e) => {
                broken += 1;
                eprintln!("error: case {name} ({}): {e}", file.display());
            }
        }
    }
    (passed, failed, broken)
}

fn main() -> ExitCode {
    let mut emit = false;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--emit" => emit = true,
            "-h" | "--help" => {
                eprintln!("usage: conformance [--emit] FILE...");
                return ExitCode::SUCCESS;
            }
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        eprintln!("usage: conformance [--emit] FILE...");
        return ExitCode::from(2);
    }
    let (mut passed, mut failed, mut broken) = (0usize, 0usize, 0usize);
    let mut emitted = Vec::new();
    for file in &files {
        if file.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("layers_")) {
            let result = std::fs::read_to_string(file).map_err(|e| e.to_string()).and_then(|t| layers::run_file(&t));
            match result {
                Ok(report) => {
                    passed += report.passed.len();
                    failed += report.failed.len();
                    broken += report.broken.len();
                    for (name, diffs) in &report.failed {
                        if !emit {
                            println!("FAIL {name} ({})\n  {}", file.display(), diffs.join("\n  "));
                        }
                    }
                    for (name, e) in &report.broken {
                        eprintln!("error: case {name} ({}): {e}", file.display());
                    }
                    emitted.extend(report.emitted);
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    broken += 1;
                }
            }
            continue;
        }
        if file.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("optimizers")) {
            let counts = run_optim(file, emit, &mut emitted);
            passed += counts.0;
            failed += counts.1;
            broken += counts.2;
            continue;
        }
        let cases = match case::load(file) {
            Ok(cases) => cases,
            Err(e) => {
                eprintln!("error: {e}");
                broken += 1;
                continue;
            }
        };
        for c in cases {
            match run(file, &c.steps) {
                Ok(output) => {
                    if emit {
                        emitted.push(serde_json::json!({ "name": c.name, "output": output }));
                    } else if output == c.expect {
                        passed += 1;
                    } else {
                        failed += 1;
                        println!("FAIL {} ({})\n{}", c.name, file.display(), case::diff(&c.expect, &output));
                    }
                }
                Err(e) => {
                    broken += 1;
                    eprintln!("error: case {} ({}): {e}", c.name, file.display());
                }
            }
        }
    }
    if emit {
        println!("{}", serde_json::json!({ "cases": emitted }));
        return if broken == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 && broken == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
