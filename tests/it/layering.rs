//! The runtime's module layering (ARCHITECTURE.md): values < record/graph < store < scope < ops
//! < autodiff < the users of a built graph. Every `crate::` path in `scope-runtime/src` (code,
//! not comments or unit tests) is resolved to the module that defines it, through the crate
//! root's re-exports, and no module may name one of a higher layer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each module's layer; a module may use its own layer and those below.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "values",
        &["dtype", "error", "name", "tensor", "init", "kernels", "crc", "proto", "manifest", "checkpoint::error"],
    ),
    ("record and graph", &["record", "variable", "graph"]),
    ("store", &["store"]),
    ("scope", &["scope", "regularizer"]),
    ("ops", &["ops"]),
    ("autodiff", &["autodiff"]),
    (
        "users of a built graph",
        &["session", "train", "summary", "checkpoint", "dot", "gluon", "manifest_ext", "private", "lib"],
    ),
];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scope-runtime/src")
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

/// The module a source file belongs to (`ops/nn.rs` → `ops`; the checkpoint error type sits
/// with the values, which the one `Error` enum wraps).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("a file under src");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    if parts == ["checkpoint", "error"] {
        return "checkpoint::error".to_string();
    }
    parts[0].clone()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("a dir entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate root's `pub use module::{A, B}` re-exports: name → module.
fn root_exports() -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let mut map = BTreeMap::new();
    for line in lib.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("pub use ") else { continue };
        let rest = rest.trim_end_matches(';');
        let Some((module, names)) = rest.split_once("::") else { continue };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            map.insert(name.trim().to_string(), module.to_string());
        }
    }
    map.insert("CheckpointError".to_string(), "checkpoint::error".to_string());
    map
}

/// The code of a file without comments, string-free enough for paths: `//` lines dropped and
/// everything from a `#[cfg(test)]` on (unit tests may use any layer).
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if !t.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The modules a piece of code names through `crate::`.
fn uses(code: &str, exports: &BTreeMap<String, String>) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let resolve = |item: &str| -> Option<String> {
            let item = item.trim();
            let head = item.split("::").next()?.trim();
            if head.is_empty() || head == "self" {
                return None;
            }
            if head.chars().next()?.is_uppercase() || head == "MAX_ELEMENTS" {
                return exports.get(head).cloned();
            }
            if head == "checkpoint" && item.contains("CheckpointError") {
                return Some("checkpoint::error".to_string());
            }
            Some(head.to_string())
        };
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            found.extend(group[..end].split(',').filter_map(resolve));
        } else {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            found.extend(resolve(&rest[..end]));
        }
    }
    found
}

#[test]
fn no_module_of_the_runtime_names_a_higher_layer() {
    let exports = root_exports();
    assert!(exports.get("Scope").is_some_and(|m| m == "scope"), "lib.rs re-exports not found: {exports:?}");
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut edges = 0;
    let mut upward = Vec::new();
    for file in &all {
        let module = module_of(file);
        let Some(own) = layer_of(&module) else {
            panic!("module `{module}` ({}) has no layer in LAYERS: add it", file.display());
        };
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for used in uses(&code(&text), &exports) {
            let Some(theirs) = layer_of(&used) else {
                panic!("{} names `crate::{used}`, which has no layer in LAYERS", file.display());
            };
            edges += 1;
            if theirs > own {
                upward.push(format!("{} ({}) uses `{used}` ({})", file.display(), LAYERS[own].0, LAYERS[theirs].0));
            }
        }
    }
    assert!(edges > 100, "only {edges} `crate::` paths found: is the parser broken?");
    upward.sort();
    upward.dedup();
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn the_layering_check_sees_an_upward_import() {
    let exports = root_exports();
    let store = code("use crate::{Result, Scope};\nfn f() { crate::ops::Axes::All; }\n// crate::session\n");
    let used = uses(&store, &exports);
    assert_eq!(used, ["error", "scope", "ops"]);
    assert!(used.iter().map(|m| layer_of(m).unwrap()).any(|l| l > layer_of("store").unwrap()));
}
