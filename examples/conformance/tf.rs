//! Runs TensorFlow-style conformance cases (`tf_*.json`) on the runtime.
//!
//! Each step of FORMAT.md maps to one call of the public API; the runner only
//! translates JSON and prints results in the format's spelling.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::case::{Kind, check_fields};
use varscope::{DType, Error, Graph, Init, Reuse, Scope, Tensor, VarScope, VarSpec, Variable, VariableScope};

/// A value stored by a step's `as`.
#[derive(Clone)]
enum Ref {
    VarScope(VariableScope),
    NameScope(String),
    Variable(Variable),
    Tensor(Tensor),
}

type Refs = HashMap<String, Ref>;

/// Runs one case on a fresh graph; `Err` means the case itself is malformed.
pub fn run_case(steps: &[Json]) -> Result<Vec<String>, String> {
    let graph = Graph::new();
    let mut refs = Refs::new();
    let mut out = Vec::new();
    run_thread(&graph, steps, &mut refs, &mut out)?;
    Ok(out)
}

/// Runs steps with a fresh per-thread scope, closing what they leave open.
fn run_thread(graph: &Graph, steps: &[Json], refs: &mut Refs, out: &mut Vec<String>) -> Result<(), String> {
    let mut cx = graph.scope();
    // One entry per opened scope step: `true` if it really opened.
    let mut opened: Vec<bool> = Vec::new();
    for step in steps {
        run_step(graph, &mut cx, step, refs, &mut opened, out)?;
    }
    while let Some(real) = opened.pop() {
        if real {
            cx.pop_scope().map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Every field a TF step may have, with its JSON types.
const FIELDS: &[(&str, &[Kind])] = &[
    ("do", &[Kind::Str]),
    ("name", &[Kind::Str, Kind::Null]),
    ("shape", &[Kind::List]),
    ("initializer", &[Kind::Object]),
    ("as", &[Kind::Str]),
    ("reuse", &[Kind::Bool, Kind::Null, Kind::Str]),
    ("a", &[Kind::Str]),
    ("b", &[Kind::Str]),
    ("of", &[Kind::Str]),
    ("scope", &[Kind::Str]),
    ("auxiliary_name_scope", &[Kind::Bool]),
    ("type", &[Kind::Str]),
    ("steps", &[Kind::List]),
    ("inputs", &[Kind::List]),
    ("dtype", &[Kind::Str]),
    ("default_name", &[Kind::Str]),
    ("trainable", &[Kind::Bool]),
];

fn str_field<'a>(step: &'a Json, key: &str) -> Option<&'a str> {
    step.get(key).and_then(Json::as_str)
}

fn error_line(e: &Error) -> String {
    format!("error: {}", e.kind().as_str())
}

fn run_step(
    graph: &Graph,
    cx: &mut Scope,
    step: &Json,
    refs: &mut Refs,
    opened: &mut Vec<bool>,
    out: &mut Vec<String>,
) -> Result<(), String> {
    check_fields(step, FIELDS)?;
    let kind = str_field(step, "do").ok_or("a step without `do`")?;
    let save = |refs: &mut Refs, r: Ref| {
        if let Some(name) = str_field(step, "as") {
            refs.insert(name.to_string(), r);
        }
    };
    match kind {
        "variable_scope" => {
            let spec = match var_scope_spec(step, refs)? {
                Some(spec) => spec,
                None => {
                    // No name and no default name: not expressible with
                    // `VarScope`, which always has one or the other.
                    out.push("error: invalid_argument".to_string());
                    opened.push(false);
                    return Ok(());
                }
            };
            match cx.push_variable_scope(spec) {
                Ok(vs) => {
                    opened.push(true);
                    save(refs, Ref::VarScope(vs));
                }
                Err(e) => {
                    opened.push(false);
                    out.push(error_line(&e));
                }
            }
        }
        "name_scope" => {
            let name = match step.get("scope").and_then(Json::as_str) {
                Some(r) => match refs.get(r) {
                    Some(Ref::NameScope(s)) => s.clone(),
                    _ => return Err(format!("`{r}` is not a captured name scope")),
                },
                None => {
                    str_field(step, "name").or_else(|| str_field(step, "default_name")).unwrap_or_default().to_string()
                }
            };
            match cx.push_name_scope(&name) {
                Ok(s) => {
                    opened.push(true);
                    save(refs, Ref::NameScope(s));
                }
                Err(e) => {
                    opened.push(false);
                    out.push(error_line(&e));
                }
            }
        }
        "end" => match opened.pop() {
            Some(true) => cx.pop_scope().map_err(|e| e.to_string())?,
            Some(false) => {}
            None => return Err("`end` with no open scope".to_string()),
        },
        "get_variable" => {
            let name = str_field(step, "name").ok_or("get_variable without `name`")?;
            let Some(spec) = var_spec(step, false)? else {
                out.push("error: invalid_argument".to_string());
                return Ok(());
            };
            match cx.get_variable(name, spec) {
                Ok(v) => {
                    out.push(v.name().to_string());
                    save(refs, Ref::Variable(v));
                }
                Err(e) => out.push(error_line(&e)),
            }
        }
        "variable" => {
            let name = str_field(step, "name");
            let result = match var_spec(step, true)? {
                Some(spec) => cx.variable(name, spec),
                // A negative dimension fails while the initial value is
                // built, after the name was taken.
                None => cx.variable_with(name, true, |n| {
                    Err(Error::InvalidArgument { message: format!("`{n}`: negative dimension") })
                }),
            };
            match result {
                Ok(v) => {
                    out.push(v.name().to_string());
                    save(refs, Ref::Variable(v));
                }
                Err(e) => out.push(error_line(&e)),
            }
        }
        "op" => match run_op(cx, step, refs)? {
            Ok(t) => {
                out.push(t.name().to_string());
                save(refs, Ref::Tensor(t));
            }
            Err(e) => out.push(error_line(&e)),
        },
        "reuse_variables" => cx.reuse_variables(),
        "get_variable_scope" => save(refs, Ref::VarScope(cx.current_variable_scope())),
        "scope_name" => out.push(scope_ref(cx, step, refs)?.name().to_string()),
        "original_name_scope" => out.push(scope_ref(cx, step, refs)?.original_name_scope().to_string()),
        "current_name_scope" => out.push(cx.current_name_scope().to_string()),
        "reuse" => out.push(scope_ref(cx, step, refs)?.reuse().as_str().to_string()),
        "same" => {
            let a = tensor_ref(refs, str_field(step, "a"))?;
            let b = tensor_ref(refs, str_field(step, "b"))?;
            out.push(a.same(&b).to_string());
        }
        "value" => {
            let v = tensor_ref(refs, str_field(step, "of"))?;
            let items: Vec<String> = v.value().to_f64_vec().iter().map(|x| format!("{x:.6}")).collect();
            out.push(format!("[{}]", items.join(",")));
        }
        "global_variables" => out.push(names(&graph.global_variables())),
        "trainable_variables" => out.push(names(&graph.trainable_variables())),
        "thread" => {
            let steps = step.get("steps").and_then(Json::as_array).ok_or("thread without `steps`")?;
            let mut lines = Vec::new();
            std::thread::scope(|s| {
                s.spawn(|| run_thread(graph, steps, refs, &mut lines))
                    .join()
                    .unwrap_or_else(|_| Err("the thread panicked".to_string()))
            })?;
            out.extend(lines);
        }
        other => return Err(format!("unknown step `{other}`")),
    }
    Ok(())
}

fn names(vars: &[Variable]) -> String {
    vars.iter().map(|v| v.name()).collect::<Vec<_>>().join(",")
}

fn scope_ref(cx: &Scope, step: &Json, refs: &Refs) -> Result<VariableScope, String> {
    match str_field(step, "scope") {
        None => Ok(cx.current_variable_scope()),
        Some(r) => match refs.get(r) {
            Some(Ref::VarScope(vs)) => Ok(vs.clone()),
            _ => Err(format!("`{r}` is not a captured variable scope")),
        },
    }
}

fn tensor_ref(refs: &Refs, name: Option<&str>) -> Result<Tensor, String> {
    let name = name.ok_or("missing ref")?;
    match refs.get(name) {
        Some(Ref::Variable(v)) => Ok(v.tensor().clone()),
        Some(Ref::Tensor(t)) => Ok(t.clone()),
        _ => Err(format!("`{name}` is not a variable or tensor")),
    }
}

fn parse_reuse(step: &Json) -> Result<Option<Reuse>, String> {
    match step.get("reuse") {
        None | Some(Json::Null) | Some(Json::Bool(false)) => Ok(None),
        Some(Json::Bool(true)) => Ok(Some(Reuse::ReuseOnly)),
        Some(Json::String(s)) if s == "auto" => Ok(Some(Reuse::Auto)),
        Some(other) => Err(format!("bad reuse {other}")),
    }
}

fn parse_dtype(step: &Json) -> Result<Option<DType>, String> {
    match str_field(step, "dtype") {
        None => Ok(None),
        Some(s) => DType::from_name(s).map(Some).ok_or(format!("unknown dtype {s}")),
    }
}

fn number(j: &Json) -> Result<varscope::Scalar, String> {
    if let Some(i) = j.as_i64() {
        Ok(varscope::Scalar::Int(i))
    } else {
        j.as_f64().map(varscope::Scalar::Float).ok_or(format!("not a number: {j}"))
    }
}

fn parse_init(step: &Json) -> Result<Option<Init>, String> {
    let Some(init) = step.get("initializer") else { return Ok(None) };
    let f = |j: &Json, k: &str| j.get(k).and_then(Json::as_f64).ok_or(format!("initializer needs `{k}`"));
    if let Some(c) = init.get("constant") {
        Ok(Some(Init::Constant(number(c)?)))
    } else if init.get("zeros").is_some() {
        Ok(Some(Init::Zeros))
    } else if init.get("ones").is_some() {
        Ok(Some(Init::Ones))
    } else if let Some(p) = init.get("random_normal") {
        Ok(Some(Init::RandomNormal { mean: f(p, "mean")?, stddev: f(p, "stddev")? }))
    } else if let Some(p) = init.get("random_uniform") {
        let bound = |k: &str| number(p.get(k).ok_or(format!("random_uniform needs `{k}`"))?);
        Ok(Some(Init::RandomUniform { min: bound("min")?, max: bound("max")? }))
    } else {
        Err(format!("unknown initializer {init}"))
    }
}

/// The scope spec of a `variable_scope` step; `None` if it has neither a
/// name nor a default name.
fn var_scope_spec(step: &Json, refs: &Refs) -> Result<Option<VarScope>, String> {
    let mut spec = if let Some(r) = str_field(step, "scope") {
        match refs.get(r) {
            Some(Ref::VarScope(vs)) => VarScope::reenter(vs),
            _ => return Err(format!("`{r}` is not a captured variable scope")),
        }
    } else if let Some(name) = str_field(step, "name") {
        VarScope::new(name)
    } else if let Some(default) = str_field(step, "default_name") {
        VarScope::default_name(default)
    } else {
        return Ok(None);
    };
    if let Some(reuse) = parse_reuse(step)? {
        spec = spec.reuse(reuse);
    }
    if let Some(init) = parse_init(step)? {
        spec = spec.initializer(init);
    }
    if let Some(dtype) = parse_dtype(step)? {
        spec = spec.dtype(dtype);
    }
    if let Some(aux) = step.get("auxiliary_name_scope").and_then(Json::as_bool) {
        spec = spec.auxiliary_name_scope(aux);
    }
    Ok(Some(spec))
}

/// The spec of a `get_variable` or `variable` step; `None` if its shape has a
/// negative dimension (not expressible as `usize`).
fn var_spec(step: &Json, plain: bool) -> Result<Option<VarSpec>, String> {
    let mut spec = VarSpec::new();
    if let Some(shape) = step.get("shape").and_then(Json::as_array) {
        let dims: Vec<i64> = shape.iter().map(|d| d.as_i64().ok_or("bad dimension")).collect::<Result<_, _>>()?;
        if dims.iter().any(|&d| d < 0) {
            return Ok(None);
        }
        spec = spec.shape(dims.iter().map(|&d| d as usize).collect::<Vec<_>>());
    }
    if let Some(dtype) = parse_dtype(step)? {
        spec = spec.dtype(dtype);
    }
    match parse_init(step)? {
        Some(init) => spec = spec.init(init),
        None if plain => spec = spec.init(Init::Zeros),
        None => {}
    }
    if let Some(t) = step.get("trainable").and_then(Json::as_bool) {
        spec = spec.trainable(t);
    }
    Ok(Some(spec))
}

fn run_op(cx: &mut Scope, step: &Json, refs: &Refs) -> Result<Result<Tensor, Error>, String> {
    let ty = str_field(step, "type").ok_or("op without `type`")?;
    let inputs: Vec<Tensor> = step
        .get("inputs")
        .and_then(Json::as_array)
        .map(|a| a.iter().map(|r| tensor_ref(refs, r.as_str())).collect::<Result<_, _>>())
        .transpose()?
        .unwrap_or_default();
    let name = str_field(step, "name");
    let input = |i: usize| inputs.get(i).ok_or(format!("{ty} needs {} inputs", i + 1));
    // Python's operators take no name; the tf.* functions default to the op type.
    let default_fn_name = match ty {
        "add_fn" => Some("Add"),
        "mul_fn" => Some("Mul"),
        _ => None,
    };
    if let Some(n) = name.or(default_fn_name) {
        cx.named(n);
    }
    Ok(match ty {
        "const" => cx.constant(1.0f32),
        "add" | "add_fn" => cx.add(input(0)?, input(1)?),
        "mul" | "mul_fn" => cx.mul(input(0)?, input(1)?),
        "matmul" => cx.matmul(input(0)?, input(1)?),
        "relu" => cx.relu(input(0)?),
        "identity" => cx.identity(input(0)?),
        other => return Err(format!("unknown op type `{other}`")),
    })
}
