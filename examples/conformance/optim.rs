//! Runs the optimizer cases (`optimizers.json`, OPTIM-FORMAT.md of the TF
//! oracle) on `varscope::train` and compares them with TF's record.
//!
//! A case's output has the shape of its `expect`: `steps` (each named step's
//! `step`, `do`, `as`, `name`, `error`, and for `minimize` the train op's
//! `name` and `type`), `global_variables` (`name`, `shape`, `dtype`,
//! `trainable`), `trainable_variables`, `slots`, `non_slot_variables` and
//! `trajectory` (the loss and every variable's value after each step).
//!
//! Compared: every field listed above. Not compared, because varscope
//! writes an update with ordinary ops instead of TF's fused kernels (so its
//! op graph differs by design): `gradient_ops`, `other_ops`, the train op's
//! `inputs` / `control_inputs` (names of those ops), and `colocate_with`,
//! `op`, `initial_value` of the variables (placement and initializer-op
//! names, which the runtime does not model). An `error` is compared by
//! presence: TF's message text is Python's.
//!
//! Floats: integers and names exactly. Every variable value passes when it
//! is within [`ULPS`] units in the last place (ULPs) of float32 at the
//! expected value (of float64 for float64 variables); today all 15 cases
//! are bit-identical (0 ULPs), because each update is the same float
//! operations in the order of TF's kernel. The bound is not 0 so that a
//! platform's `sqrt`/division rounding cannot fail a correct run; a wrong
//! formula, order or hyperparameter rounding is off by thousands of ULPs.
//! The loss is `add_n` of the terms, which TF's graph optimizer (Grappler)
//! reorders before the session runs it; a reordered float32 sum is exact
//! only to the rounding of its terms, so the loss passes within [`ULPS`]
//! ULPs of float32 at `sum |term|` (with Grappler off, TF's loss equals
//! ours bit for bit; with it, the momentum cases differ by 8 to 16 ULPs of
//! the loss itself, under one ULP of `sum |term|`).

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};
use varscope::train::{
    AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer, Minimize, MomentumOptimizer, RMSPropOptimizer,
    get_or_create_global_step,
};
use varscope::{DType, Graph, Reuse, Scope, Session, Tensor, Value, VarScope, VarSpec, Variable, ndarray};

/// The largest distance in units in the last place a float may be from TF's (see the module docs).
pub const ULPS: f64 = 4.0;

/// One optimizer, whichever kind.
enum Opt {
    Gd(GradientDescentOptimizer),
    Momentum(MomentumOptimizer),
    Adam(AdamOptimizer),
    Adagrad(AdagradOptimizer),
    RmsProp(RMSPropOptimizer),
}

macro_rules! each {
    ($o:expr, $x:ident => $e:expr) => {
        match $o {
            Opt::Gd($x) => $e,
            Opt::Momentum($x) => $e,
            Opt::Adam($x) => $e,
            Opt::Adagrad($x) => $e,
            Opt::RmsProp($x) => $e,
        }
    };
}

impl Opt {
    fn minimize(&mut self, cx: &mut Scope, loss: &Tensor, m: Minimize) -> varscope::Result<Tensor> {
        each!(self, o => o.minimize(cx, loss, m))
    }
    fn slot_names(&self) -> Vec<&'static str> {
        each!(self, o => o.get_slot_names())
    }
    fn slot(&self, v: &Variable, n: &str) -> Option<Variable> {
        each!(self, o => o.get_slot(v, n))
    }
    fn non_slot(&self) -> Vec<Variable> {
        each!(self, o => o.non_slot_variables())
    }
}

#[derive(Default)]
struct State {
    vars: HashMap<String, Variable>,
    losses: HashMap<String, Tensor>,
    opts: HashMap<String, Opt>,
    /// (optimizer ref, var_list) of each minimize, in order.
    minimized: Vec<(String, Option<Vec<Variable>>)>,
    train_ops: Vec<Tensor>,
    loss: Option<Tensor>,
    /// The loss's terms (for the tolerance of the loss, see the module docs).
    terms: Vec<Tensor>,
}

fn num(step: &Json, key: &str) -> Result<f64, String> {
    step.get(key).and_then(Json::as_f64).ok_or(format!("step {step}: `{key}` must be a number"))
}

fn text<'a>(step: &'a Json, key: &str) -> Option<&'a str> {
    step.get(key).and_then(Json::as_str)
}

/// A nested JSON list as a value of `dtype`.
fn value_of(j: &Json, dtype: DType) -> Result<Value, String> {
    fn walk(j: &Json, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) -> Result<(), String> {
        match j {
            Json::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                } else if shape[depth] != items.len() {
                    return Err(format!("ragged list {j}"));
                }
                items.iter().try_for_each(|x| walk(x, depth + 1, shape, out))
            }
            Json::Number(n) => {
                out.push(n.as_f64().ok_or("not a number")?);
                Ok(())
            }
            other => Err(format!("{other} is not a number or a list")),
        }
    }
    let (mut shape, mut data) = (Vec::new(), Vec::new());
    walk(j, 0, &mut shape, &mut data)?;
    let dim = ndarray::IxDyn(&shape);
    let bad = |e: ndarray::ShapeError| e.to_string();
    Ok(match dtype {
        DType::F32 => {
            Value::from(ndarray::ArrayD::from_shape_vec(dim, data.iter().map(|&x| x as f32).collect()).map_err(bad)?)
        }
        DType::F64 => Value::from(ndarray::ArrayD::from_shape_vec(dim, data).map_err(bad)?),
        DType::I32 => {
            Value::from(ndarray::ArrayD::from_shape_vec(dim, data.iter().map(|&x| x as i32).collect()).map_err(bad)?)
        }
        DType::I64 => {
            Value::from(ndarray::ArrayD::from_shape_vec(dim, data.iter().map(|&x| x as i64).collect()).map_err(bad)?)
        }
    })
}

/// A value as TF's `to_py` writes it: a nested list, a number for a scalar.
fn json_of(v: &Value) -> Json {
    fn nest(shape: &[usize], flat: &[Json]) -> Json {
        match shape.split_first() {
            None => flat.first().cloned().unwrap_or(Json::Null),
            Some((&n, rest)) => {
                let size: usize = rest.iter().product();
                Json::Array((0..n).map(|i| nest(rest, &flat[i * size..(i + 1) * size])).collect())
            }
        }
    }
    let flat: Vec<Json> = match v {
        Value::I32(a) => a.iter().map(|&x| json!(x)).collect(),
        Value::I64(a) => a.iter().map(|&x| json!(x)).collect(),
        other => other.to_f64_vec().into_iter().map(|x| json!(x)).collect(),
    };
    nest(v.shape(), &flat)
}

fn var_ref(st: &State, r: &str) -> Result<Variable, String> {
    st.vars.get(r).cloned().ok_or(format!("unknown variable ref `{r}`"))
}

/// Runs one case and returns its output (shaped like `expect`) and, per
/// trajectory entry, `sum |term|` of the loss (the scale of its tolerance).
pub fn run_case(case: &Json) -> Result<(Json, Vec<f64>), String> {
    let steps = case.get("steps").and_then(Json::as_array).ok_or("a case without `steps`")?;
    let graph = Graph::new();
    let mut cx = graph.scope();
    let mut st = State::default();
    let mut out_steps = Vec::new();
    let mut opened: Vec<bool> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let kind = text(step, "do").ok_or("a step without `do`")?;
        let mut rec = Map::new();
        rec.insert("step".into(), json!(i));
        rec.insert("do".into(), json!(kind));
        match run_step(&mut cx, &mut st, step, kind, &mut opened) {
            Ok(Some(named)) => {
                rec.insert("as".into(), step.get("as").cloned().unwrap_or(Json::Null));
                for (k, v) in named {
                    rec.insert(k, v);
                }
                out_steps.push(Json::Object(rec));
            }
            Ok(None) => {}
            Err(Failure::Case(e)) => return Err(e),
            Err(Failure::Refused(e)) => {
                rec.insert("error".into(), json!(e.to_string()));
                out_steps.push(Json::Object(rec));
            }
        }
    }
    while let Some(real) = opened.pop() {
        if real {
            cx.pop_scope().map_err(|e| e.to_string())?;
        }
    }
    let mut out = Map::new();
    out.insert("steps".into(), Json::Array(out_steps));
    let globals = graph.global_variables();
    out.insert(
        "global_variables".into(),
        globals
            .iter()
            .map(|v| json!({"name": v.name(), "shape": v.shape(), "dtype": v.dtype().name(), "trainable": v.trainable()}))
            .collect(),
    );
    let trainable = graph.trainable_variables();
    out.insert("trainable_variables".into(), trainable.iter().map(|v| json!(v.name())).collect());
    let (mut slots, mut non_slot) = (Map::new(), Map::new());
    for (r, var_list) in &st.minimized {
        let opt = &st.opts[r];
        let names = opt.slot_names();
        let mut per = Map::new();
        for v in var_list.as_ref().unwrap_or(&trainable) {
            let mut m = Map::new();
            for n in &names {
                if let Some(s) = opt.slot(v, n) {
                    m.insert(n.to_string(), json!(s.name()));
                }
            }
            if !m.is_empty() {
                per.insert(v.name().to_string(), Json::Object(m));
            }
        }
        slots.insert(r.clone(), json!({"slot_names": names, "slots": per}));
        let mut ns: Vec<String> = opt.non_slot().iter().map(|v| v.name().to_string()).collect();
        ns.sort();
        non_slot.insert(r.clone(), json!(ns));
    }
    out.insert("slots".into(), Json::Object(slots));
    out.insert("non_slot_variables".into(), Json::Object(non_slot));
    let (trajectory, scales) = train(&graph, &st, case)?;
    out.insert("trajectory".into(), Json::Array(trajectory));
    Ok((Json::Object(out), scales))
}

fn train(graph: &Graph, st: &State, case: &Json) -> Result<(Vec<Json>, Vec<f64>), String> {
    let n = case.get("train_steps").and_then(Json::as_u64).unwrap_or(0);
    if n == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let loss = st.loss.as_ref().ok_or("a case that trains needs a loss")?;
    let sess = Session::new(graph);
    let globals = graph.global_variables();
    let mut fetches = vec![loss];
    fetches.extend(&st.terms);
    let mut scales = Vec::new();
    let mut observe = |k: u64| -> Result<Json, String> {
        let l = sess.run(&fetches, &[]).map_err(|e| e.to_string())?;
        scales.push(l[1..].iter().map(|t| t.to_f64_vec()[0].abs()).sum());
        let values: Map<String, Json> = globals.iter().map(|v| (v.name().to_string(), json_of(&v.value()))).collect();
        Ok(json!({"after_step": k, "loss": l[0].to_f64_vec()[0], "values": values}))
    };
    let mut out = vec![observe(0)?];
    for k in 1..=n {
        for op in &st.train_ops {
            sess.run(&[op], &[]).map_err(|e| e.to_string())?;
        }
        out.push(observe(k)?);
    }
    Ok((out, scales))
}

enum Failure {
    /// The case is malformed.
    Case(String),
    /// The runtime refused the step (TF raised).
    Refused(varscope::Error),
}

impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure::Case(s)
    }
}

impl From<&str> for Failure {
    fn from(s: &str) -> Failure {
        Failure::Case(s.to_string())
    }
}

impl From<varscope::Error> for Failure {
    fn from(e: varscope::Error) -> Failure {
        Failure::Refused(e)
    }
}

type Named = Vec<(String, Json)>;

fn run_step(
    cx: &mut Scope,
    st: &mut State,
    step: &Json,
    kind: &str,
    opened: &mut Vec<bool>,
) -> Result<Option<Named>, Failure> {
    let name_of = |t: &Tensor| Some(vec![("name".to_string(), json!(t.name()))]);
    match kind {
        "variable_scope" => {
            let reuse = match step.get("reuse") {
                None | Some(Json::Null) | Some(Json::Bool(false)) => None,
                Some(Json::Bool(true)) => Some(Reuse::ReuseOnly),
                Some(Json::String(s)) if s == "auto" => Some(Reuse::Auto),
                Some(other) => return Err(format!("reuse {other}").into()),
            };
            let mut spec = match (text(step, "name"), text(step, "default_name")) {
                (Some(n), d) => {
                    let s = VarScope::new(n);
                    if let Some(d) = d { s.with_default_name(d) } else { s }
                }
                (None, Some(d)) => VarScope::default_name(d),
                (None, None) => return Err("variable_scope needs `name` or `default_name`".into()),
            };
            if let Some(r) = reuse {
                spec = spec.reuse(r);
            }
            match cx.push_variable_scope(spec) {
                Ok(_) => opened.push(true),
                Err(e) => {
                    opened.push(false);
                    return Err(e.into());
                }
            }
            Ok(None)
        }
        "name_scope" => {
            let n = text(step, "name").ok_or("name_scope needs `name`")?;
            match cx.push_name_scope(n) {
                Ok(_) => opened.push(true),
                Err(e) => {
                    opened.push(false);
                    return Err(e.into());
                }
            }
            Ok(None)
        }
        "end" => {
            match opened.pop() {
                Some(true) => cx.pop_scope()?,
                Some(false) => {}
                None => return Err("`end` with no open scope".into()),
            }
            Ok(None)
        }
        "get_variable" => {
            let n = text(step, "name").ok_or("get_variable needs `name`")?;
            let dtype = DType::from_name(text(step, "dtype").unwrap_or("float32")).ok_or("unknown dtype")?;
            let mut spec =
                VarSpec::new().dtype(dtype).trainable(step.get("trainable").and_then(Json::as_bool).unwrap_or(true));
            if let Some(shape) = step.get("shape").and_then(Json::as_array) {
                let shape: Vec<usize> = shape
                    .iter()
                    .map(|d| d.as_u64().map(|d| d as usize).ok_or("a bad dimension"))
                    .collect::<Result<_, _>>()?;
                spec = spec.shape(shape);
            }
            let existed = cx.graph().global_variables().len();
            let v = cx.get_variable(n, spec)?;
            // `constant_initializer(value)`: a new variable starts at `value`.
            if let Some(value) = step.get("value")
                && cx.graph().global_variables().len() > existed
            {
                let value = value_of(value, dtype)?;
                v.assign(value)?;
            }
            if let Some(r) = text(step, "as") {
                st.vars.insert(r.to_string(), v.clone());
            }
            Ok(name_of(&v))
        }
        "global_step" => {
            let v = get_or_create_global_step(cx)?;
            if let Some(r) = text(step, "as") {
                st.vars.insert(r.to_string(), v.clone());
            }
            Ok(name_of(&v))
        }
        "loss" => {
            let terms = step.get("terms").and_then(Json::as_array).ok_or("loss needs `terms`")?;
            let mut built = Vec::new();
            for t in terms {
                let v = var_ref(st, text(t, "var").ok_or("a term needs `var`")?)?;
                let dt = v.dtype();
                let c = |key: &str| -> Result<Tensor, Failure> {
                    let j = t.get(key).ok_or(format!("term {t}: no `{key}`"))?;
                    Ok(cx.constant(value_of(j, dt)?)?)
                };
                let all = varscope::ops::Axes::All;
                let term = match text(t, "kind").ok_or("a term needs `kind`")? {
                    "sq" => {
                        let d = cx.sub(&v, &c("target")?)?;
                        let coef = cx.constant(value_of(t.get("coef").ok_or("no `coef`")?, dt)?)?;
                        cx.mul(&coef, &cx.reduce_sum(&cx.mul(&d, &d)?, all, false)?)?
                    }
                    "lin" => cx.reduce_sum(&cx.mul(&v, &c("c")?)?, all, false)?,
                    "prod" => {
                        let w = var_ref(st, text(t, "with").ok_or("prod needs `with`")?)?;
                        cx.reduce_sum(&cx.mul(&v, &w)?, all, false)?
                    }
                    "lookup" => {
                        let ids = cx.constant(value_of(t.get("ids").ok_or("lookup needs `ids`")?, DType::I32)?)?;
                        let e = cx.gather(&v, &ids, 0)?;
                        cx.reduce_sum(&cx.mul(&e, &c("c")?)?, all, false)?
                    }
                    other => return Err(format!("unknown loss term `{other}`").into()),
                };
                built.push(if term.dtype() == DType::F32 { term } else { cx.cast(&term, DType::F32)? });
            }
            let name = text(step, "name").unwrap_or("loss");
            let loss = match built.as_slice() {
                [] => return Err("a loss without terms".into()),
                [one] => cx.named(name).identity(one)?,
                [first, rest @ ..] => {
                    let mut acc = first.clone();
                    for (k, t) in rest.iter().enumerate() {
                        acc = if k + 1 == rest.len() { cx.named(name).add(&acc, t)? } else { cx.add(&acc, t)? };
                    }
                    acc
                }
            };
            if let Some(r) = text(step, "as") {
                st.losses.insert(r.to_string(), loss.clone());
            }
            st.loss = Some(loss.clone());
            st.terms = built;
            Ok(name_of(&loss))
        }
        "optimizer" => {
            let lr = num(step, "learning_rate")?;
            let mut opt = match text(step, "kind").ok_or("optimizer needs `kind`")? {
                "GradientDescent" => Opt::Gd(GradientDescentOptimizer::new(lr)),
                "Momentum" => Opt::Momentum(
                    MomentumOptimizer::new(lr, num(step, "momentum")?)
                        .use_nesterov(step.get("use_nesterov").and_then(Json::as_bool).ok_or("no `use_nesterov`")?),
                ),
                "Adam" => Opt::Adam(
                    AdamOptimizer::new(lr)
                        .beta1(num(step, "beta1")?)
                        .beta2(num(step, "beta2")?)
                        .epsilon(num(step, "epsilon")?),
                ),
                "Adagrad" => Opt::Adagrad(
                    AdagradOptimizer::new(lr).initial_accumulator_value(num(step, "initial_accumulator_value")?),
                ),
                "RMSProp" => Opt::RmsProp(
                    RMSPropOptimizer::new(lr)
                        .decay(num(step, "decay")?)
                        .momentum(num(step, "momentum")?)
                        .epsilon(num(step, "epsilon")?)
                        .centered(step.get("centered").and_then(Json::as_bool).ok_or("no `centered`")?),
                ),
                other => return Err(format!("unknown optimizer `{other}`").into()),
            };
            if let Some(n) = text(step, "name") {
                opt = match opt {
                    Opt::Gd(o) => Opt::Gd(o.name(n)),
                    Opt::Momentum(o) => Opt::Momentum(o.name(n)),
                    Opt::Adam(o) => Opt::Adam(o.name(n)),
                    Opt::Adagrad(o) => Opt::Adagrad(o.name(n)),
                    Opt::RmsProp(o) => Opt::RmsProp(o.name(n)),
                };
            }
            st.opts.insert(text(step, "as").ok_or("optimizer needs `as`")?.to_string(), opt);
            Ok(None)
        }
        "minimize" => {
            let r = text(step, "opt").ok_or("minimize needs `opt`")?.to_string();
            let loss =
                st.losses.get(text(step, "loss").ok_or("minimize needs `loss`")?).cloned().ok_or("unknown loss")?;
            let mut m = Minimize::new();
            let var_list = match step.get("var_list").and_then(Json::as_array) {
                Some(list) => Some(list.iter().map(|x| var_ref(st, x.as_str().unwrap_or_default())).collect::<Result<
                    Vec<_>,
                    _,
                >>(
                )?),
                None => None,
            };
            if let Some(vl) = &var_list {
                m = m.var_list(vl);
            }
            if let Some(gs) = text(step, "global_step") {
                m = m.global_step(&var_ref(st, gs)?);
            }
            if let Some(n) = text(step, "name") {
                m = m.name(n);
            }
            let opt = st.opts.get_mut(&r).ok_or("unknown optimizer")?;
            let train = opt.minimize(cx, &loss, m)?;
            st.minimized.push((r, var_list));
            st.train_ops.push(train.clone());
            let op_type = cx
                .graph()
                .nodes()
                .into_iter()
                .find(|n| n.name == train.op_name())
                .map(|n| n.op_type)
                .unwrap_or_default();
            Ok(Some(vec![("train_op".to_string(), json!({"name": train.op_name(), "type": op_type}))]))
        }
        other => Err(format!("unknown step `{other}`").into()),
    }
}

/// Keeps only the compared fields of an `expect` (see the module docs).
pub fn compared(expect: &Json) -> Json {
    let mut e = expect.clone();
    if let Some(steps) = e.get_mut("steps").and_then(Json::as_array_mut) {
        for s in steps {
            if let Some(o) = s.as_object_mut() {
                o.remove("gradient_ops");
                o.remove("other_ops");
                if o.contains_key("error") {
                    o.insert("error".into(), json!(true));
                }
                if let Some(t) = o.get_mut("train_op").and_then(Json::as_object_mut) {
                    t.retain(|k, _| k == "name" || k == "type");
                }
            }
        }
    }
    if let Some(vars) = e.get_mut("global_variables").and_then(Json::as_array_mut) {
        for v in vars {
            if let Some(o) = v.as_object_mut() {
                o.retain(|k, _| matches!(k.as_str(), "name" | "shape" | "dtype" | "trainable"));
            }
        }
    }
    e
}

/// The differences between `expect` (TF's) and `got` (ours), one line each;
/// `scales[k]` is `sum |term|` of the loss after step `k`.
pub fn diff(expect: &Json, got: &Json, scales: &[f64]) -> Vec<String> {
    let (e, g) = (compared(expect), compared(got));
    let mut out = Vec::new();
    walk("", &e, &g, &Ctx { dtypes: dtypes_of(&e), scales }, &mut out);
    out
}

struct Ctx<'a> {
    /// Variable name -> dtype (the ULPs of a value are its variable's dtype's).
    dtypes: HashMap<String, String>,
    scales: &'a [f64],
}

/// The float32 ULP at `x`.
fn ulp32(x: f64) -> f64 {
    let x = (x.abs() as f32).max(f32::MIN_POSITIVE);
    f64::from(f32::from_bits(x.to_bits() + 1) - x)
}

/// `|expect - got|` in ULPs of float32 (or float64) at `expect`.
fn ulps(expect: f64, got: f64, f64_var: bool) -> f64 {
    if expect == got {
        return 0.0;
    }
    let ulp = if f64_var {
        let x = expect.abs().max(f64::MIN_POSITIVE);
        f64::from_bits(x.to_bits() + 1) - x
    } else {
        ulp32(expect)
    };
    (expect - got).abs() / ulp
}

/// The distance of a float of `path` in the units its tolerance is counted in.
fn distance(path: &str, expect: f64, got: f64, cx: &Ctx<'_>) -> f64 {
    // `/trajectory[k]/loss`: ULPs of float32 at `sum |term|` after step k.
    if let Some(k) = path.strip_prefix("/trajectory[").and_then(|r| r.strip_suffix("]/loss")) {
        let scale = k.parse::<usize>().ok().and_then(|k| cx.scales.get(k)).copied().unwrap_or(0.0);
        return if expect == got { 0.0 } else { (expect - got).abs() / ulp32(scale.max(expect.abs())) };
    }
    // `.../values/<name>[i]`: ULPs of the variable's dtype.
    let var = path.split("/values/").nth(1).map(|s| s.split('[').next().unwrap_or(s));
    let f64_var = var.and_then(|v| cx.dtypes.get(v)).is_some_and(|d| d == "float64");
    ulps(expect, got, f64_var)
}

fn walk(path: &str, e: &Json, g: &Json, cx: &Ctx<'_>, out: &mut Vec<String>) {
    match (e, g) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}/{k}");
                match b.get(k) {
                    Some(w) => walk(&p, v, w, cx, out),
                    None => out.push(format!("{p}: expected {v}, missing")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}/{k}: not expected, got {}", b[k]));
            }
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                walk(&format!("{path}[{i}]"), v, w, cx, out);
            }
        }
        (Json::Number(a), Json::Number(b)) if a.is_f64() || b.is_f64() => {
            let (x, y) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
            let d = distance(path, x, y, cx);
            // NaN (a missing number) fails too.
            if d.is_nan() || d > ULPS {
                out.push(format!("{path}: expected {x}, got {y} ({d:.0} ULPs)"));
            }
        }
        _ if e == g => {}
        _ => out.push(format!("{path}: expected {e}, got {g}")),
    }
}

/// The largest distance (in the units of [`distance`]) of any float of `got`
/// from `expect`: 0 when every value is bit-identical to TF's.
pub fn max_distance(expect: &Json, got: &Json, scales: &[f64]) -> f64 {
    fn go(path: &str, e: &Json, g: &Json, cx: &Ctx<'_>, worst: &mut f64) {
        match (e, g) {
            (Json::Object(a), Json::Object(b)) => {
                for (k, v) in a {
                    if let Some(w) = b.get(k) {
                        go(&format!("{path}/{k}"), v, w, cx, worst);
                    }
                }
            }
            (Json::Array(a), Json::Array(b)) => {
                for (i, (v, w)) in a.iter().zip(b).enumerate() {
                    go(&format!("{path}[{i}]"), v, w, cx, worst);
                }
            }
            (Json::Number(a), Json::Number(b)) if a.is_f64() || b.is_f64() => {
                let d = distance(path, a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0), cx);
                *worst = worst.max(d);
            }
            _ => {}
        }
    }
    let (e, g) = (compared(expect), compared(got));
    let cx = Ctx { dtypes: dtypes_of(&e), scales };
    let mut worst = 0.0;
    go("", &e, &g, &cx, &mut worst);
    worst
}

fn dtypes_of(expect: &Json) -> HashMap<String, String> {
    expect
        .get("global_variables")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| Some((v.get("name")?.as_str()?.to_string(), v.get("dtype")?.as_str()?.to_string())))
        .collect()
}

/// One case's result: our output, its differences from `expect`, and the
/// largest float distance (see [`max_distance`]).
pub type Outcome = Result<(Json, Vec<String>, f64), String>;

/// Runs every case of an optimizers file: `(name, outcome)` per case.
pub fn run_file(text: &str) -> Result<Vec<(String, Outcome)>, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let cases = json.get("cases").and_then(Json::as_array).ok_or("no `cases` array")?;
    Ok(cases
        .iter()
        .map(|c| {
            let name = c.get("name").and_then(Json::as_str).unwrap_or("?").to_string();
            let result = run_case(c).map(|(got, scales)| match c.get("expect") {
                Some(e) => {
                    let worst = max_distance(e, &got, &scales);
                    (diff(e, &got, &scales), worst, got)
                }
                None => (vec!["no `expect`".to_string()], f64::NAN, got),
            });
            let result = result.map(|(d, worst, got)| (got, d, worst));
            (name, result)
        })
        .collect())
}
