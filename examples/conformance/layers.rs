//! Runs the layers and RNN cells cases (`layers_*.json`, step language in
//! `shared/oracle-next/LAYERS-FORMAT.md`) on `varscope::layers` and compares
//! the result with each case's `expect`.
//!
//! Compared: every stored step's `created`, `error` (kind) and `value`
//! (`name`, `shape`, `dtype` of each tensor); `global_variables` (`name`,
//! `shape`, `dtype`, `trainable`, `init`), `trainable_variables`,
//! `update_ops` (`name`, `type`, `inputs`) and the `session` values (within
//! 1e-5). Not compared: TF's `error_message` text, each tensor's op type, and
//! the names of the outputs of `dynamic_rnn` and `bidirectional_dynamic_rnn`
//! (TF names them after its while loop, which the unrolled RNN has not:
//! their shapes and dtypes are compared).

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Value as Json, json};
use varscope::layers::{
    Activation, BasicLstmCell, BasicRnnCell, BatchNorm, Conv2d, Dense, DropoutWrapper, GruCell, LstmCell, LstmOptions,
    MaxPooling2d, MultiRnnCell, ResidualWrapper, RnnCell, RnnOutput, State,
};
use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::Padding;
use varscope::{DType, Error, Graph, Init, Reuse, Scope, Session, Tensor, Value, VarScope, VarSpec, VariableScope};

/// A value stored by a step's `as`.
#[derive(Clone)]
enum Ref {
    Tensor(Tensor),
    List(Vec<Ref>),
    Dict(Vec<(&'static str, Ref)>),
    Cell(Rc<dyn RnnCell>),
    Scope(VariableScope),
}

type Refs = HashMap<String, Ref>;

fn state_ref(s: &State) -> Ref {
    match s {
        State::Tensor(t) => Ref::Tensor(t.clone()),
        State::Lstm { c, h } => Ref::Dict(vec![("c", Ref::Tensor(c.clone())), ("h", Ref::Tensor(h.clone()))]),
        State::Tuple(v) => Ref::List(v.iter().map(state_ref).collect()),
    }
}

fn ref_state(r: &Ref) -> Result<State, String> {
    match r {
        Ref::Tensor(t) => Ok(State::Tensor(t.clone())),
        Ref::Dict(d) => {
            let get = |k: &str| match d.iter().find(|(n, _)| *n == k) {
                Some((_, Ref::Tensor(t))) => Ok(t.clone()),
                _ => Err(format!("a state without `{k}`")),
            };
            Ok(State::Lstm { c: get("c")?, h: get("h")? })
        }
        Ref::List(v) => Ok(State::Tuple(v.iter().map(ref_state).collect::<Result<_, _>>()?)),
        _ => Err("not a state".to_string()),
    }
}

fn rnn_ref(r: &RnnOutput, listed: bool) -> Ref {
    let outputs = if listed {
        Ref::List(r.outputs.iter().cloned().map(Ref::Tensor).collect())
    } else {
        Ref::Tensor(r.outputs[0].clone())
    };
    Ref::Dict(vec![("outputs", outputs), ("state", state_ref(&r.state))])
}

/// The tensors of a ref, in order.
fn tensors(r: &Ref, out: &mut Vec<Tensor>) {
    match r {
        Ref::Tensor(t) => out.push(t.clone()),
        Ref::List(v) => v.iter().for_each(|x| tensors(x, out)),
        Ref::Dict(d) => d.iter().for_each(|(_, x)| tensors(x, out)),
        Ref::Cell(_) | Ref::Scope(_) => {}
    }
}

/// A ref's `value` JSON (TF's spelling), or `None` for cells and scopes.
fn describe(r: &Ref) -> Option<Json> {
    match r {
        Ref::Tensor(t) => Some(json!({"name": t.name(), "shape": t.shape(), "dtype": t.dtype().name()})),
        Ref::List(v) => Some(Json::Array(v.iter().filter_map(describe).collect())),
        Ref::Dict(d) => Some(Json::Object(d.iter().filter_map(|(k, x)| Some((k.to_string(), describe(x)?))).collect())),
        Ref::Cell(_) | Ref::Scope(_) => None,
    }
}

/// Replaces each tensor of `r` by the next of `values`, as nested lists.
fn fill_values(r: &Ref, values: &mut impl Iterator<Item = Value>) -> Json {
    match r {
        Ref::Tensor(_) => values.next().map(|v| nested(&v)).unwrap_or(Json::Null),
        Ref::List(v) => Json::Array(v.iter().map(|x| fill_values(x, values)).collect()),
        Ref::Dict(d) => Json::Object(d.iter().map(|(k, x)| (k.to_string(), fill_values(x, values))).collect()),
        Ref::Cell(_) | Ref::Scope(_) => Json::Null,
    }
}

/// A value as nested JSON lists.
fn nested(v: &Value) -> Json {
    fn go(shape: &[usize], flat: &[f64]) -> Json {
        match shape.split_first() {
            None => json!(flat.first().copied().unwrap_or(0.0)),
            Some((&n, rest)) => {
                let step: usize = rest.iter().product();
                Json::Array((0..n).map(|i| go(rest, &flat[i * step..(i + 1) * step])).collect())
            }
        }
    }
    go(v.shape(), &v.to_f64_vec())
}

/// A nested JSON list as a value of `dtype`, with its shape.
fn from_nested(j: &Json, dtype: DType) -> Result<Value, String> {
    fn walk(j: &Json, depth: usize, shape: &mut Vec<usize>, flat: &mut Vec<f64>) -> Result<(), String> {
        match j {
            Json::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                } else if shape.get(depth) != Some(&items.len()) {
                    return Err(format!("a ragged value: {j}"));
                }
                items.iter().try_for_each(|x| walk(x, depth + 1, shape, flat))
            }
            other => {
                flat.push(other.as_f64().ok_or(format!("not a number: {other}"))?);
                Ok(())
            }
        }
    }
    let (mut shape, mut flat) = (Vec::new(), Vec::new());
    walk(j, 0, &mut shape, &mut flat)?;
    let err = |e: varscope::ndarray::ShapeError| e.to_string();
    Ok(match dtype {
        DType::F32 => {
            Value::from(ArrayD::from_shape_vec(IxDyn(&shape), flat.iter().map(|&x| x as f32).collect()).map_err(err)?)
        }
        DType::F64 => Value::from(ArrayD::from_shape_vec(IxDyn(&shape), flat).map_err(err)?),
        DType::I32 => {
            Value::from(ArrayD::from_shape_vec(IxDyn(&shape), flat.iter().map(|&x| x as i32).collect()).map_err(err)?)
        }
        DType::I64 => {
            Value::from(ArrayD::from_shape_vec(IxDyn(&shape), flat.iter().map(|&x| x as i64).collect()).map_err(err)?)
        }
    })
}

fn s<'a>(step: &'a Json, key: &str) -> Option<&'a str> {
    step.get(key).and_then(Json::as_str)
}

fn b(step: &Json, key: &str, default: bool) -> bool {
    step.get(key).and_then(Json::as_bool).unwrap_or(default)
}

fn f(step: &Json, key: &str) -> Option<f64> {
    step.get(key).and_then(Json::as_f64)
}

fn u(step: &Json, key: &str) -> Result<usize, String> {
    step.get(key).and_then(Json::as_u64).map(|x| x as usize).ok_or(format!("step {step}: `{key}` must be a count"))
}

/// `2` or `[2, 3]` as a pair.
fn pair(step: &Json, key: &str, default: [usize; 2]) -> Result<[usize; 2], String> {
    match step.get(key) {
        None => Ok(default),
        Some(Json::Number(n)) => n.as_u64().map(|x| [x as usize; 2]).ok_or(format!("bad `{key}`")),
        Some(Json::Array(a)) if a.len() == 2 => {
            let d = |i: usize| a[i].as_u64().map(|x| x as usize).ok_or(format!("bad `{key}`"));
            Ok([d(0)?, d(1)?])
        }
        Some(other) => Err(format!("bad `{key}`: {other}")),
    }
}

fn dtype_of(step: &Json) -> Result<DType, String> {
    match s(step, "dtype") {
        None => Ok(DType::F32),
        Some(d) => DType::from_name(d).ok_or(format!("unknown dtype {d}")),
    }
}

fn activation(step: &Json) -> Result<Activation, String> {
    match s(step, "activation") {
        None => Ok(Activation::Linear),
        Some("relu") => Ok(Activation::Relu),
        Some("tanh") => Ok(Activation::Tanh),
        Some("sigmoid") => Ok(Activation::Sigmoid),
        Some(other) => Err(format!("unknown activation {other}")),
    }
}

fn padding(step: &Json) -> Result<Padding, String> {
    match s(step, "padding") {
        None | Some("valid") => Ok(Padding::Valid),
        Some("same") => Ok(Padding::Same),
        Some(other) => Err(format!("unknown padding {other}")),
    }
}

fn init(j: Option<&Json>) -> Result<Option<Init>, String> {
    let Some(j) = j else { return Ok(None) };
    if let Some(c) = j.get("constant") {
        return c.as_f64().map(|x| Some(Init::constant(x))).ok_or("only scalar constants are supported".to_string());
    }
    if j.get("zeros").is_some() {
        return Ok(Some(Init::Zeros));
    }
    if j.get("ones").is_some() {
        return Ok(Some(Init::Ones));
    }
    if j.get("glorot_uniform").is_some() {
        return Ok(Some(Init::GlorotUniform));
    }
    if let Some(r) = j.get("random_uniform") {
        let (lo, hi) = (f(r, "min").ok_or("min")?, f(r, "max").ok_or("max")?);
        return Ok(Some(Init::random_uniform(lo, hi)));
    }
    Err(format!("unknown initializer {j}"))
}

/// The ref a path (`enc.state.c`, `xs.0`) names.
fn lookup(refs: &Refs, path: &str) -> Result<Ref, String> {
    let mut parts = path.split('.');
    let head = parts.next().unwrap_or_default();
    let mut r = refs.get(head).cloned().ok_or(format!("unknown ref `{head}`"))?;
    for p in parts {
        r = match &r {
            Ref::List(v) => v.get(p.parse::<usize>().map_err(|e| e.to_string())?).cloned(),
            Ref::Dict(d) => d.iter().find(|(k, _)| *k == p).map(|(_, x)| x.clone()),
            _ => None,
        }
        .ok_or(format!("`{path}`: no `{p}`"))?;
    }
    Ok(r)
}

fn tensor(refs: &Refs, step: &Json, key: &str) -> Result<Tensor, String> {
    let path = s(step, key).ok_or(format!("step {step}: missing `{key}`"))?;
    match lookup(refs, path)? {
        Ref::Tensor(t) => Ok(t),
        _ => Err(format!("`{path}` is not a tensor")),
    }
}

fn tensor_list(refs: &Refs, path: &str) -> Result<Vec<Tensor>, String> {
    match lookup(refs, path)? {
        Ref::List(v) => v
            .into_iter()
            .map(|r| match r {
                Ref::Tensor(t) => Ok(t),
                _ => Err(format!("`{path}` holds a non-tensor")),
            })
            .collect(),
        _ => Err(format!("`{path}` is not a list")),
    }
}

fn cell(refs: &Refs, step: &Json, key: &str) -> Result<Rc<dyn RnnCell>, String> {
    let path = s(step, key).ok_or(format!("step {step}: missing `{key}`"))?;
    match lookup(refs, path)? {
        Ref::Cell(c) => Ok(c),
        _ => Err(format!("`{path}` is not a cell")),
    }
}

/// A step's `scope`: a name, or a captured scope's ref.
fn scope_arg(refs: &Refs, step: &Json) -> Option<VarScope> {
    let name = s(step, "scope")?;
    Some(match refs.get(name) {
        Some(Ref::Scope(vs)) => VarScope::reenter(vs),
        _ => VarScope::new(name),
    })
}

fn reuse(step: &Json) -> Result<Option<Reuse>, String> {
    match step.get("reuse") {
        None | Some(Json::Null) | Some(Json::Bool(false)) => Ok(None),
        Some(Json::Bool(true)) => Ok(Some(Reuse::ReuseOnly)),
        Some(Json::String(x)) if x == "auto" => Ok(Some(Reuse::Auto)),
        Some(other) => Err(format!("bad reuse {other}")),
    }
}

/// Every field a step may have.
const FIELDS: &[&str] = &[
    "do",
    "as",
    "name",
    "scope",
    "default_name",
    "reuse",
    "initializer",
    "shape",
    "dtype",
    "value",
    "trainable",
    "axis",
    "num",
    "items",
    "params",
    "ids",
    "type",
    "inputs",
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "momentum",
    "epsilon",
    "center",
    "scale",
    "training",
    "fused",
    "pool_size",
    "kind",
    "num_units",
    "forget_bias",
    "use_peepholes",
    "num_proj",
    "cell_clip",
    "proj_clip",
    "cells",
    "cell",
    "input_keep_prob",
    "output_keep_prob",
    "state_keep_prob",
    "batch_size",
    "c",
    "h",
    "state",
    "initial_state",
    "sequence_length",
    "time_major",
    "cell_fw",
    "cell_bw",
];

/// The result of one step: a stored ref, or TF's refusal.
enum Outcome {
    Stored(Ref),
    Nothing,
    Refused(Error),
}

/// Runs a case and returns its `output` (shaped like `expect`).
pub fn run_case(case: &Json) -> Result<Json, String> {
    let steps = case.get("steps").and_then(Json::as_array).ok_or("a case without `steps`")?;
    let graph = Graph::new();
    let mut cx = graph.scope();
    let mut refs = Refs::new();
    let mut feeds: Vec<(Tensor, Value)> = Vec::new();
    let mut opened: Vec<bool> = Vec::new();
    let mut out_steps = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let obj = step.as_object().ok_or("a step must be an object")?;
        if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!("step {step}: unknown field `{k}`"));
        }
        let before = graph.global_variables().len();
        let outcome = run_step(&graph, &mut cx, step, &mut refs, &mut feeds, &mut opened)?;
        let created: Vec<String> = graph.global_variables()[before..].iter().map(|v| v.name().to_string()).collect();
        let Some(name) = s(step, "as") else { continue };
        let mut entry = json!({"step": i, "do": s(step, "do"), "as": name});
        match outcome {
            Outcome::Stored(r) => {
                if let Some(v) = describe(&r) {
                    entry["value"] = v;
                }
                refs.insert(name.to_string(), r);
            }
            Outcome::Nothing => {}
            Outcome::Refused(e) => entry["error"] = json!(e.kind().as_str()),
        }
        if !created.is_empty() {
            entry["created"] = json!(created);
        }
        out_steps.push(entry);
    }
    while let Some(real) = opened.pop() {
        if real {
            cx.pop_scope().map_err(|e| e.to_string())?;
        }
    }
    let globals: Vec<Json> = graph
        .global_variables()
        .iter()
        .map(|v| {
            let values = v.value().to_f64_vec();
            let init = match values.first() {
                Some(&x) if values.iter().all(|&y| y == x) => json!({"constant": x}),
                _ => json!("random"),
            };
            json!({"name": v.name(), "shape": v.shape(), "dtype": v.dtype().name(), "trainable": v.trainable(), "init": init})
        })
        .collect();
    let trainables: Vec<String> = graph.trainable_variables().iter().map(|v| v.name().to_string()).collect();
    let details = graph.node_details();
    let updates: Vec<Json> = graph
        .update_ops()
        .iter()
        .map(|t| {
            let d = details.iter().find(|d| d.name == t.op_name());
            json!({"name": t.op_name(), "type": d.map(|d| d.op_type.clone()), "inputs": d.map(|d| d.inputs.clone())})
        })
        .collect();
    let session = run_session(&graph, case, &refs, &feeds)?;
    Ok(json!({
        "steps": out_steps,
        "global_variables": globals,
        "trainable_variables": trainables,
        "update_ops": updates,
        "session": session,
    }))
}

fn run_step(
    graph: &Graph,
    cx: &mut Scope,
    step: &Json,
    refs: &mut Refs,
    feeds: &mut Vec<(Tensor, Value)>,
    opened: &mut Vec<bool>,
) -> Result<Outcome, String> {
    let kind = s(step, "do").ok_or("a step without `do`")?;
    let stored = |r: varscope::Result<Ref>| match r {
        Ok(r) => Outcome::Stored(r),
        Err(e) => Outcome::Refused(e),
    };
    let t = |r: varscope::Result<Tensor>| stored(r.map(Ref::Tensor));
    Ok(match kind {
        "variable_scope" => {
            let mut spec = if let Some(r) = s(step, "scope") {
                match refs.get(r) {
                    Some(Ref::Scope(vs)) => VarScope::reenter(vs),
                    _ => return Err(format!("`{r}` is not a captured scope")),
                }
            } else if let Some(name) = s(step, "name") {
                VarScope::new(name)
            } else if let Some(d) = s(step, "default_name") {
                VarScope::default_name(d)
            } else {
                return Err("variable_scope without a name".to_string());
            };
            if let Some(r) = reuse(step)? {
                spec = spec.reuse(r);
            }
            if let Some(i) = init(step.get("initializer"))? {
                spec = spec.initializer(i);
            }
            match cx.push_variable_scope(spec) {
                Ok(vs) => {
                    opened.push(true);
                    Outcome::Stored(Ref::Scope(vs))
                }
                Err(e) => {
                    opened.push(false);
                    Outcome::Refused(e)
                }
            }
        }
        "name_scope" => match cx.push_name_scope(s(step, "name").unwrap_or_default()) {
            Ok(_) => {
                opened.push(true);
                Outcome::Nothing
            }
            Err(e) => {
                opened.push(false);
                Outcome::Refused(e)
            }
        },
        "end" => {
            match opened.pop() {
                Some(true) => cx.pop_scope().map_err(|e| e.to_string())?,
                Some(false) => {}
                None => return Err("`end` with no open scope".to_string()),
            }
            Outcome::Nothing
        }
        "reuse_variables" => {
            cx.reuse_variables();
            Outcome::Nothing
        }
        "placeholder" => {
            let dtype = dtype_of(step)?;
            let value = match step.get("value") {
                Some(v) => from_nested(v, dtype)?,
                None => {
                    let shape: Vec<usize> = step
                        .get("shape")
                        .and_then(Json::as_array)
                        .ok_or("placeholder without `shape`")?
                        .iter()
                        .map(|d| d.as_u64().map(|x| x as usize).ok_or("unknown dimensions are not supported"))
                        .collect::<Result<_, _>>()?;
                    Value::filled(dtype, &shape, 0.0).map_err(|e| e.to_string())?
                }
            };
            let name = s(step, "name").ok_or("placeholder without `name`")?;
            let r = cx.placeholder(name, value.clone());
            if let Ok(p) = &r {
                feeds.push((p.clone(), value));
            }
            t(r)
        }
        "constant" => {
            let v = from_nested(step.get("value").ok_or("constant without `value`")?, dtype_of(step)?)?;
            if let Some(n) = s(step, "name") {
                cx.named(n);
            }
            t(cx.constant(v))
        }
        "get_variable" => {
            let name = s(step, "name").ok_or("get_variable without `name`")?;
            let mut spec = VarSpec::new();
            if let Some(shape) = step.get("shape").and_then(Json::as_array) {
                spec = spec.shape(shape.iter().filter_map(Json::as_u64).map(|d| d as usize).collect::<Vec<_>>());
            }
            if step.get("dtype").is_some() {
                spec = spec.dtype(dtype_of(step)?);
            }
            if let Some(i) = init(step.get("initializer"))? {
                spec = spec.init(i);
            }
            if let Some(tr) = step.get("trainable").and_then(Json::as_bool) {
                spec = spec.trainable(tr);
            }
            t(cx.get_variable(name, spec).map(|v| v.tensor().clone()))
        }
        "unstack" => {
            let x = tensor(refs, step, "value")?;
            let axis = step.get("axis").and_then(Json::as_i64).unwrap_or(0) as isize;
            stored(cx.unstack(&x, axis).map(|v| Ref::List(v.into_iter().map(Ref::Tensor).collect())))
        }
        "list" => {
            let items = step.get("items").and_then(Json::as_array).ok_or("list without `items`")?;
            let v = items.iter().map(|p| lookup(refs, p.as_str().unwrap_or_default())).collect::<Result<_, _>>()?;
            Outcome::Stored(Ref::List(v))
        }
        "embedding_lookup" => {
            let (p, ids) = (tensor(refs, step, "params")?, tensor(refs, step, "ids")?);
            t(varscope::layers::embedding_lookup(cx, &p, &ids, s(step, "name")))
        }
        "op" => {
            let ty = s(step, "type").ok_or("op without `type`")?;
            let inputs: Vec<Tensor> = step
                .get("inputs")
                .and_then(Json::as_array)
                .ok_or("op without `inputs`")?
                .iter()
                .map(|p| match lookup(refs, p.as_str().unwrap_or_default())? {
                    Ref::Tensor(t) => Ok(t),
                    _ => Err("op inputs must be tensors".to_string()),
                })
                .collect::<Result<_, String>>()?;
            let x = inputs.first().ok_or("op without inputs")?;
            if let Some(n) = s(step, "name") {
                cx.named(n);
            }
            let refs_in: Vec<&Tensor> = inputs.iter().collect();
            t(match ty {
                "relu" => cx.relu(x),
                "tanh" => cx.tanh(x),
                "sigmoid" => cx.sigmoid(x),
                "identity" => cx.identity(x),
                "add" => cx.add(x, inputs.get(1).ok_or("add needs 2 inputs")?),
                "matmul" => cx.matmul(x, inputs.get(1).ok_or("matmul needs 2 inputs")?),
                "concat" => cx.concat(&refs_in, step.get("axis").and_then(Json::as_i64).unwrap_or(0) as isize),
                "stack" => cx.stack(&refs_in, step.get("axis").and_then(Json::as_i64).unwrap_or(0) as isize),
                "reshape" => {
                    let shape: Vec<isize> = step
                        .get("shape")
                        .and_then(Json::as_array)
                        .ok_or("reshape without `shape`")?
                        .iter()
                        .filter_map(Json::as_i64)
                        .map(|d| d as isize)
                        .collect();
                    cx.reshape(x, &shape)
                }
                other => return Err(format!("unknown op type `{other}`")),
            })
        }
        "dense" => {
            let x = tensor(refs, step, "inputs")?;
            let mut opts =
                Dense::new(u(step, "units")?).activation(activation(step)?).use_bias(b(step, "use_bias", true));
            if let Some(i) = init(step.get("kernel_initializer"))? {
                opts = opts.kernel_initializer(i);
            }
            if let Some(i) = init(step.get("bias_initializer"))? {
                opts = opts.bias_initializer(i);
            }
            if let Some(n) = s(step, "name") {
                opts = opts.name(n);
            }
            opts = opts.reuse(b(step, "reuse", false));
            t(varscope::layers::dense(cx, &x, &opts))
        }
        "conv2d" => {
            let x = tensor(refs, step, "inputs")?;
            let mut opts = Conv2d::new(u(step, "filters")?, pair(step, "kernel_size", [1, 1])?)
                .strides(pair(step, "strides", [1, 1])?)
                .padding(padding(step)?)
                .activation(activation(step)?)
                .use_bias(b(step, "use_bias", true))
                .reuse(b(step, "reuse", false));
            if let Some(n) = s(step, "name") {
                opts = opts.name(n);
            }
            t(varscope::layers::conv2d(cx, &x, &opts))
        }
        "max_pooling2d" => {
            let x = tensor(refs, step, "inputs")?;
            let pool = pair(step, "pool_size", [2, 2])?;
            let mut opts = MaxPooling2d::new(pool, pair(step, "strides", pool)?).padding(padding(step)?);
            if let Some(n) = s(step, "name") {
                opts = opts.name(n);
            }
            t(varscope::layers::max_pooling2d(cx, &x, &opts))
        }
        "flatten" => {
            let x = tensor(refs, step, "inputs")?;
            t(varscope::layers::flatten(cx, &x, s(step, "name")))
        }
        "batch_normalization" => {
            let x = tensor(refs, step, "inputs")?;
            if step.get("axis").and_then(Json::as_i64).is_some_and(|a| a != -1) {
                return Err("only axis -1 is supported".to_string());
            }
            let mut opts = BatchNorm::new()
                .momentum(f(step, "momentum").unwrap_or(0.99))
                .epsilon(f(step, "epsilon").unwrap_or(0.001))
                .center(b(step, "center", true))
                .scale(b(step, "scale", true))
                .training(b(step, "training", false))
                .reuse(b(step, "reuse", false));
            if let Some(fused) = step.get("fused").and_then(Json::as_bool) {
                opts = opts.fused(fused);
            }
            if let Some(n) = s(step, "name") {
                opts = opts.name(n);
            }
            t(varscope::layers::batch_normalization(cx, &x, &opts))
        }
        "cell" => {
            let n = u(step, "num_units")?;
            let name = s(step, "name");
            let re = b(step, "reuse", false);
            let c: Rc<dyn RnnCell> = match s(step, "kind").ok_or("cell without `kind`")? {
                "BasicRNNCell" => {
                    let act = if step.get("activation").is_some() { activation(step)? } else { Activation::Tanh };
                    Rc::new(BasicRnnCell::with(n, act, name, re))
                }
                "BasicLSTMCell" => Rc::new(BasicLstmCell::with(n, f(step, "forget_bias").unwrap_or(1.0), name, re)),
                "GRUCell" => Rc::new(GruCell::with(n, name, re)),
                "LSTMCell" => Rc::new(LstmCell::new(
                    n,
                    LstmOptions {
                        use_peepholes: b(step, "use_peepholes", false),
                        num_proj: step.get("num_proj").and_then(Json::as_u64).map(|x| x as usize),
                        cell_clip: f(step, "cell_clip"),
                        proj_clip: f(step, "proj_clip"),
                        forget_bias: f(step, "forget_bias"),
                        initializer: None,
                        name: name.map(str::to_string),
                        reuse: re,
                    },
                )),
                other => return Err(format!("unknown cell kind {other}")),
            };
            Outcome::Stored(Ref::Cell(c))
        }
        "multi_rnn_cell" => {
            let cells = step.get("cells").and_then(Json::as_array).ok_or("multi_rnn_cell without `cells`")?;
            let cells = cells
                .iter()
                .map(|p| match lookup(refs, p.as_str().unwrap_or_default())? {
                    Ref::Cell(c) => Ok(c),
                    _ => Err("not a cell".to_string()),
                })
                .collect::<Result<_, String>>()?;
            Outcome::Stored(Ref::Cell(Rc::new(MultiRnnCell::new(cells))))
        }
        "residual_wrapper" => Outcome::Stored(Ref::Cell(Rc::new(ResidualWrapper::new(cell(refs, step, "cell")?)))),
        "dropout_wrapper" => {
            let keep = |k: &str| f(step, k).unwrap_or(1.0);
            let w = DropoutWrapper::new(
                cell(refs, step, "cell")?,
                keep("input_keep_prob"),
                keep("output_keep_prob"),
                keep("state_keep_prob"),
            );
            Outcome::Stored(Ref::Cell(Rc::new(w)))
        }
        "zero_state" => {
            let c = cell(refs, step, "cell")?;
            stored(c.zero_state(cx, u(step, "batch_size")?, dtype_of(step)?).map(|st| state_ref(&st)))
        }
        "lstm_state_tuple" => {
            let (c, h) = (tensor(refs, step, "c")?, tensor(refs, step, "h")?);
            Outcome::Stored(Ref::Dict(vec![("c", Ref::Tensor(c)), ("h", Ref::Tensor(h))]))
        }
        "call_cell" => {
            let c = cell(refs, step, "cell")?;
            let x = tensor(refs, step, "inputs")?;
            let st = ref_state(&lookup(refs, s(step, "state").ok_or("call_cell without `state`")?)?)?;
            let scope = s(step, "scope").map(VarScope::new);
            stored(
                c.call_scoped(cx, &x, &st, scope)
                    .map(|(o, st)| Ref::Dict(vec![("output", Ref::Tensor(o)), ("state", state_ref(&st))])),
            )
        }
        "static_rnn" => {
            let c = cell(refs, step, "cell")?;
            let xs = tensor_list(refs, s(step, "inputs").ok_or("static_rnn without `inputs`")?)?;
            let init = s(step, "initial_state").map(|p| lookup(refs, p).and_then(|r| ref_state(&r))).transpose()?;
            let lens = s(step, "sequence_length").map(|_| tensor(refs, step, "sequence_length")).transpose()?;
            let r = varscope::layers::static_rnn(
                cx,
                &*c,
                &xs,
                init.as_ref(),
                dtype_of(step)?,
                lens.as_ref(),
                scope_arg(refs, step),
            );
            stored(r.map(|r| rnn_ref(&r, true)))
        }
        "dynamic_rnn" => {
            let c = cell(refs, step, "cell")?;
            let x = tensor(refs, step, "inputs")?;
            let init = s(step, "initial_state").map(|p| lookup(refs, p).and_then(|r| ref_state(&r))).transpose()?;
            let lens = s(step, "sequence_length").map(|_| tensor(refs, step, "sequence_length")).transpose()?;
            let r = varscope::layers::dynamic_rnn(
                cx,
                &*c,
                &x,
                init.as_ref(),
                dtype_of(step)?,
                lens.as_ref(),
                b(step, "time_major", false),
                scope_arg(refs, step),
            );
            stored(r.map(|r| rnn_ref(&r, false)))
        }
        "bidirectional_dynamic_rnn" => {
            let (fw, bw) = (cell(refs, step, "cell_fw")?, cell(refs, step, "cell_bw")?);
            let x = tensor(refs, step, "inputs")?;
            let lens = s(step, "sequence_length").map(|_| tensor(refs, step, "sequence_length")).transpose()?;
            let r = varscope::layers::bidirectional_dynamic_rnn(
                cx,
                &*fw,
                &*bw,
                &x,
                dtype_of(step)?,
                lens.as_ref(),
                b(step, "time_major", false),
                scope_arg(refs, step),
            );
            stored(r.map(|[f, b]| {
                Ref::Dict(vec![
                    ("outputs", Ref::List(vec![Ref::Tensor(f.outputs[0].clone()), Ref::Tensor(b.outputs[0].clone())])),
                    ("state", Ref::List(vec![state_ref(&f.state), state_ref(&b.state)])),
                ])
            }))
        }
        "static_bidirectional_rnn" => {
            let (fw, bw) = (cell(refs, step, "cell_fw")?, cell(refs, step, "cell_bw")?);
            let xs = tensor_list(refs, s(step, "inputs").ok_or("missing `inputs`")?)?;
            let lens = s(step, "sequence_length").map(|_| tensor(refs, step, "sequence_length")).transpose()?;
            let r = varscope::layers::static_bidirectional_rnn(
                cx,
                &*fw,
                &*bw,
                &xs,
                dtype_of(step)?,
                lens.as_ref(),
                scope_arg(refs, step),
            );
            stored(r.map(|(outs, sf, sb)| {
                Ref::Dict(vec![
                    ("outputs", Ref::List(outs.into_iter().map(Ref::Tensor).collect())),
                    ("state_fw", state_ref(&sf)),
                    ("state_bw", state_ref(&sb)),
                ])
            }))
        }
        other => {
            let _ = graph;
            return Err(format!("unknown step `{other}`"));
        }
    })
}

/// The case's session actions, run as the oracle does.
fn run_session(graph: &Graph, case: &Json, refs: &Refs, feeds: &[(Tensor, Value)]) -> Result<Vec<Json>, String> {
    let Some(actions) = case.get("session").and_then(Json::as_array) else { return Ok(Vec::new()) };
    let sess = Session::new(graph);
    let feed: Vec<(&Tensor, Value)> = feeds.iter().map(|(t, v)| (t, v.clone())).collect();
    let mut out = Vec::new();
    for a in actions {
        match s(a, "do") {
            Some("assign") => {
                let name = s(a, "var").ok_or("assign without `var`")?;
                let v = graph.get_variable_by_name(name).ok_or(format!("no variable `{name}`"))?;
                let value = from_nested(a.get("value").ok_or("assign without `value`")?, v.dtype())?;
                v.assign(value).map_err(|e| e.to_string())?;
            }
            Some("run") => {
                let fetch = a.get("fetch").and_then(Json::as_array).ok_or("run without `fetch`")?;
                let fetched: Vec<(String, Ref)> = fetch
                    .iter()
                    .map(|p| {
                        let p = p.as_str().unwrap_or_default();
                        lookup(refs, p).map(|r| (p.to_string(), r))
                    })
                    .collect::<Result<_, _>>()?;
                let mut ts = Vec::new();
                fetched.iter().for_each(|(_, r)| tensors(r, &mut ts));
                let n = ts.len();
                if b(a, "update_ops", false) {
                    ts.extend(graph.update_ops());
                }
                let want: Vec<&Tensor> = ts.iter().collect();
                let values = sess.run(&want, &feed).map_err(|e| e.to_string())?;
                let mut it = values.into_iter().take(n);
                let map: serde_json::Map<String, Json> =
                    fetched.iter().map(|(p, r)| (p.clone(), fill_values(r, &mut it))).collect();
                out.push(json!({"do": "run", "values": map}));
            }
            Some("read") => {
                let vars = a.get("vars").and_then(Json::as_array).ok_or("read without `vars`")?;
                let mut map = serde_json::Map::new();
                for v in vars {
                    let name = v.as_str().unwrap_or_default();
                    let var = graph.get_variable_by_name(name).ok_or(format!("no variable `{name}`"))?;
                    map.insert(name.to_string(), nested(&var.value()));
                }
                out.push(json!({"do": "read", "values": map}));
            }
            other => return Err(format!("unknown session action {other:?}")),
        }
    }
    Ok(out)
}

/// The differences between a case's `expect` and its `output` (empty if it passes).
pub fn diff(case: &Json, output: &Json) -> Vec<String> {
    let mut d = Vec::new();
    let expect = &case["expect"];
    let steps = case["steps"].as_array().cloned().unwrap_or_default();
    let (es, os) = (
        expect["steps"].as_array().cloned().unwrap_or_default(),
        output["steps"].as_array().cloned().unwrap_or_default(),
    );
    for i in 0..es.len().max(os.len()) {
        let (e, o) = (es.get(i).cloned().unwrap_or(Json::Null), os.get(i).cloned().unwrap_or(Json::Null));
        let idx = e["step"].as_u64().unwrap_or(0) as usize;
        let kind = steps.get(idx).and_then(|s| s["do"].as_str()).unwrap_or_default();
        let names = !matches!(kind, "dynamic_rnn" | "bidirectional_dynamic_rnn");
        for key in ["step", "do", "as", "error"] {
            if e[key] != o[key] {
                d.push(format!("step {idx}: `{key}` expected {} got {}", e[key], o[key]));
            }
        }
        let created = |j: &Json| j.get("created").cloned().unwrap_or(json!([]));
        if created(&e) != created(&o) {
            d.push(format!("step {idx}: created expected {} got {}", created(&e), created(&o)));
        }
        if !same_value(&e["value"], &o["value"], names) {
            d.push(format!("step {idx}: value expected {} got {}", e["value"], o["value"]));
        }
    }
    let gv = |j: &Json| -> Vec<Json> {
        j["global_variables"]
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|g| {
                        let init = match &g["init"] {
                            Json::Object(m) => json!({"constant": m.get("constant").and_then(Json::as_f64)}),
                            other => other.clone(),
                        };
                        json!({"name": g["name"], "shape": g["shape"], "dtype": g["dtype"], "trainable": g["trainable"], "init": init})
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (eg, og) = (gv(expect), gv(output));
    for i in 0..eg.len().max(og.len()) {
        if eg.get(i) != og.get(i) {
            d.push(format!("global_variables[{i}]: expected {:?} got {:?}", eg.get(i), og.get(i)));
        }
    }
    if expect["trainable_variables"] != output["trainable_variables"] {
        d.push(format!(
            "trainable_variables: expected {} got {}",
            expect["trainable_variables"], output["trainable_variables"]
        ));
    }
    if expect["update_ops"] != output["update_ops"] {
        d.push(format!("update_ops: expected {} got {}", expect["update_ops"], output["update_ops"]));
    }
    let (esess, osess) = (
        expect["session"].as_array().cloned().unwrap_or_default(),
        output["session"].as_array().cloned().unwrap_or_default(),
    );
    if esess.len() != osess.len() {
        d.push(format!("session: expected {} results got {}", esess.len(), osess.len()));
    }
    for (i, (e, o)) in esess.iter().zip(&osess).enumerate() {
        if let Some(worst) = close(&e["values"], &o["values"]).filter(|&w| w <= 1e-5) {
            let _ = worst;
        } else {
            d.push(format!("session[{i}]: expected {} got {}", e["values"], o["values"]));
        }
    }
    d
}

/// Whether two step values agree on structure, shapes, dtypes and (when
/// `names`) tensor names; TF's op type is not compared.
fn same_value(e: &Json, o: &Json, names: bool) -> bool {
    match (e, o) {
        (Json::Object(a), Json::Object(b)) if a.contains_key("dtype") => {
            a.get("shape") == b.get("shape")
                && a.get("dtype") == b.get("dtype")
                && (!names || a.get("name") == b.get("name"))
        }
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_value(v, w, names)))
        }
        (Json::Array(a), Json::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y, names)),
        _ => e == o,
    }
}

/// The largest absolute difference of two nested values, `None` if their
/// structures differ.
fn close(e: &Json, o: &Json) -> Option<f64> {
    match (e, o) {
        (Json::Object(a), Json::Object(b)) => {
            if a.len() != b.len() {
                return None;
            }
            a.iter().try_fold(0.0f64, |w, (k, v)| Some(w.max(close(v, b.get(k)?)?)))
        }
        (Json::Array(a), Json::Array(b)) => {
            if a.len() != b.len() {
                return None;
            }
            a.iter().zip(b).try_fold(0.0f64, |w, (x, y)| Some(w.max(close(x, y)?)))
        }
        _ => Some((e.as_f64()? - o.as_f64()?).abs()),
    }
}

/// What running a `layers_*.json` gave.
pub struct FileReport {
    /// The names of the cases that passed.
    pub passed: Vec<String>,
    /// The cases that ran but differ, with their differences.
    pub failed: Vec<(String, Vec<String>)>,
    /// The cases that could not be run, with why.
    pub broken: Vec<(String, String)>,
    /// `{"name", "output"}` of every case that ran.
    pub emitted: Vec<Json>,
}

/// Runs every case of a `layers_*.json`.
pub fn run_file(text: &str) -> Result<FileReport, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let cases = json.get("cases").and_then(Json::as_array).ok_or("no `cases` array")?;
    let mut r = FileReport { passed: Vec::new(), failed: Vec::new(), broken: Vec::new(), emitted: Vec::new() };
    for c in cases {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        match run_case(c) {
            Ok(out) => {
                let d = diff(c, &out);
                r.emitted.push(json!({"name": name, "output": out}));
                if d.is_empty() { r.passed.push(name) } else { r.failed.push((name, d)) }
            }
            Err(e) => r.broken.push((name, e)),
        }
    }
    Ok(r)
}
