//! Runs Gluon-style conformance cases (`gluon_*.json`) on `varscope::gluon`.
//!
//! Each step of FORMAT.md's "Gluon-style naming cases" maps to one call of the public
//! API; the runner only translates JSON and prints results in the format's spelling.
//! A case runs in a fresh thread with a fresh `GluonScope`, and every `thread` step in a
//! new one, sharing the refs, as the oracle's Python threads share its variables.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::case::{Kind, check_fields};
use varscope::Error;
use varscope::gluon::{Block, BlockSpec, GluonScope, Parameter};

/// A value stored by a step's `as`.
#[derive(Clone)]
enum Ref {
    Block(Block),
    Param(Parameter),
}

type Refs = HashMap<String, Ref>;

/// Runs one case in a fresh thread; `Ok` holds the printed lines, `Err` means the case
/// itself is malformed.
pub fn run_case(steps: &[Json]) -> Result<Vec<String>, String> {
    let mut refs = Refs::new();
    let mut out = Vec::new();
    in_new_thread(steps, &mut refs, &mut out)?;
    Ok(out)
}

/// Runs `steps` in a new thread (fresh naming state) and waits for it.
fn in_new_thread(steps: &[Json], refs: &mut Refs, out: &mut Vec<String>) -> Result<(), String> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .spawn_scoped(s, || run_thread(steps, refs, out))
            .map_err(|e| format!("cannot start a thread: {e}"))?
            .join()
            .map_err(|_| "a case thread panicked".to_string())?
    })
}

/// Runs steps with this thread's own `GluonScope`.
fn run_thread(steps: &[Json], refs: &mut Refs, out: &mut Vec<String>) -> Result<(), String> {
    let mut cx = GluonScope::new();
    for step in steps {
        run_step(&mut cx, step, refs, out)?;
    }
    // Dropping `cx` ends what the steps left entered; the format prints nothing for it.
    Ok(())
}

fn error_line(e: &Error) -> String {
    format!("error: {}", e.kind().as_str())
}

fn str_field<'a>(step: &'a Json, key: &str) -> Result<&'a str, String> {
    step.get(key).and_then(Json::as_str).ok_or_else(|| format!("step {step}: `{key}` must be a string"))
}

/// An optional string field: absent and `null` are both `None`.
fn opt_str_field<'a>(step: &'a Json, key: &str) -> Result<Option<&'a str>, String> {
    match step.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("step {step}: `{key}` must be a string or null, not {other}")),
    }
}

fn ref_field<'r>(refs: &'r Refs, step: &Json, key: &str) -> Result<&'r Ref, String> {
    let name = str_field(step, key)?;
    refs.get(name).ok_or_else(|| format!("unknown ref `{name}`"))
}

fn block_ref(refs: &Refs, step: &Json, key: &str) -> Result<Block, String> {
    match ref_field(refs, step, key)? {
        Ref::Block(b) => Ok(b.clone()),
        Ref::Param(p) => Err(format!("step {step}: `{key}` is parameter `{}`, not a block", p.name())),
    }
}

fn param_ref(refs: &Refs, step: &Json, key: &str) -> Result<Parameter, String> {
    match ref_field(refs, step, key)? {
        Ref::Param(p) => Ok(p.clone()),
        Ref::Block(b) => Err(format!("step {step}: `{key}` is block `{}`, not a parameter", b.prefix())),
    }
}

fn shape_field(step: &Json) -> Result<Vec<usize>, String> {
    let dims =
        step.get("shape").and_then(Json::as_array).ok_or_else(|| format!("step {step}: `shape` must be a list"))?;
    dims.iter()
        .map(|d| {
            d.as_u64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| format!("step {step}: dimension {d} is not an integer >= 0"))
        })
        .collect()
}

fn save(refs: &mut Refs, step: &Json, value: Ref) {
    if let Some(name) = step.get("as").and_then(Json::as_str) {
        refs.insert(name.to_string(), value);
    }
}

/// Every field a Gluon step may have, with its JSON types.
const FIELDS: &[(&str, &[Kind])] = &[
    ("do", &[Kind::Str]),
    ("hint", &[Kind::Str]),
    ("as", &[Kind::Str]),
    ("prefix", &[Kind::Str, Kind::Null]),
    ("block", &[Kind::Str]),
    ("name", &[Kind::Str]),
    ("shape", &[Kind::List]),
    ("a", &[Kind::Str]),
    ("b", &[Kind::Str]),
    ("of", &[Kind::Str]),
    ("share", &[Kind::Str]),
    ("parent", &[Kind::Str]),
    ("child", &[Kind::Str]),
    ("share_all", &[Kind::Str]),
    ("select", &[Kind::Str]),
    ("steps", &[Kind::List]),
];

fn run_step(cx: &mut GluonScope, step: &Json, refs: &mut Refs, out: &mut Vec<String>) -> Result<(), String> {
    check_fields(step, FIELDS)?;
    match str_field(step, "do")? {
        "block" => {
            let mut spec = BlockSpec::new(str_field(step, "hint")?);
            if let Some(prefix) = opt_str_field(step, "prefix")? {
                spec = spec.prefix(prefix);
            }
            if step.get("share").is_some() {
                spec = spec.share(&block_ref(refs, step, "share")?);
            }
            if step.get("share_all").is_some() {
                spec = spec.share_all(&block_ref(refs, step, "share_all")?);
            }
            match cx.block(spec) {
                Ok(block) => {
                    out.push(block.prefix().to_string());
                    save(refs, step, Ref::Block(block));
                }
                Err(e) => out.push(error_line(&e)),
            }
        }
        "enter" => cx.enter(&block_ref(refs, step, "block")?),
        "end" => {
            if cx.entered().is_empty() {
                return Err(format!("step {step}: no scope entered in this thread"));
            }
            if let Err(e) = cx.end() {
                out.push(error_line(&e));
            }
        }
        "param" => {
            let block = block_ref(refs, step, "block")?;
            match block.params().get(str_field(step, "name")?, &shape_field(step)?) {
                Ok(param) => {
                    out.push(param.name().to_string());
                    save(refs, step, Ref::Param(param));
                }
                Err(e) => out.push(error_line(&e)),
            }
        }
        "shape" => {
            let dims: Vec<String> = param_ref(refs, step, "of")?.shape().iter().map(usize::to_string).collect();
            out.push(format!("[{}]", dims.join(",")));
        }
        "collect" => {
            let block = block_ref(refs, step, "block")?;
            match block.collect_params(opt_str_field(step, "select")?) {
                Ok(dict) => out.push(dict.keys().join(",")),
                Err(e) => out.push(error_line(&e)),
            }
        }
        "same" => {
            let same = match (ref_field(refs, step, "a")?, ref_field(refs, step, "b")?) {
                (Ref::Param(a), Ref::Param(b)) => a.same(b),
                (Ref::Block(a), Ref::Block(b)) => a.same(b),
                _ => return Err(format!("step {step}: `a` and `b` must both be parameters or both blocks")),
            };
            out.push(same.to_string());
        }
        "register" => {
            let parent = block_ref(refs, step, "parent")?;
            if let Err(e) = parent.register_child(&block_ref(refs, step, "child")?) {
                out.push(error_line(&e));
            }
        }
        "thread" => {
            let steps = step
                .get("steps")
                .and_then(Json::as_array)
                .ok_or_else(|| format!("step {step}: `steps` must be a list"))?;
            in_new_thread(steps, refs, out)?;
        }
        other => return Err(format!("unknown step `{other}`")),
    }
    Ok(())
}
