//! Training: TF 1.x's `tf.compat.v1.train` optimizers, gradient clipping and
//! learning-rate schedules, built as graph ops so one
//! [`Session::run`](crate::Session::run) of the train op performs one step.
//!
//! An optimizer's `minimize` takes the gradients with [`Scope::gradients`]
//! (one `gradients` node, recomputed in every run), creates its slot
//! variables (named and ordered as TF names them: `a/Adam`, `a/Adam_1`,
//! `train/a/Adam` inside a variable scope, a second Adam's `a/Adam_2`) and
//! non-slot variables (Adam's `beta1_power`, `beta2_power`, float32 even for
//! float64 variables), then records each update with ordinary ops
//! (`Sub`, `Mul`, `Sqrt`, ... in the order TF's kernels evaluate them, so
//! float32 results round as TF's do) and writes with `Assign*` /
//! `Scatter*` ops. The train op is a `NoOp` named as the optimizer's name
//! scope (`Adam`, `Adam_1`, `train/Adam`), or with a global step an
//! `AssignAdd` of it by that name. Slots are ordinary variables: a
//! checkpoint saves and restores them.
//!
//! Building changes no value: every assignment the build computed eagerly
//! is undone, so values move only when the train op runs, as in TF.
//!
//! A variable used only through `gather` (an embedding lookup) gets a
//! sparse gradient ([`Gradient::Sparse`], TF's `IndexedSlices`) and the
//! sparse update TF applies (only looked-up rows change, except Adam, whose
//! moments decay on every row).
//!
//! ```
//! use varscope::train::{AdamOptimizer, Minimize, get_or_create_global_step};
//! use varscope::{Graph, Init, Session, VarSpec};
//!
//! let graph = Graph::new();
//! let mut cx = graph.scope();
//! let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(3.0)))?;
//! let loss = cx.mul(&w, &w)?;
//! let step = get_or_create_global_step(&cx)?;
//! let mut adam = AdamOptimizer::new(0.1);
//! let train = adam.minimize(&mut cx, &loss, Minimize::new().global_step(&step))?;
//! assert_eq!(train.name(), "Adam:0");
//! assert_eq!(adam.get_slot(&w, "m").map(|s| s.name().to_string()), Some("w/Adam:0".into()));
//! let sess = Session::new(&graph);
//! for _ in 0..3 {
//!     sess.run(&[&train], &[])?;
//! }
//! assert_eq!(step.value().to_f64_vec(), vec![3.0]);
//! assert!(w.value().to_f64_vec()[0] < 2.8); // three steps of about 0.1 each
//! # Ok::<(), varscope::Error>(())
//! ```

mod clip;
mod optimizers;
mod schedules;

use std::collections::{HashMap, HashSet};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::record::{Op, ShapeOp};
use crate::scope::{Scope, VarScope, VarSpec};
use crate::tensor::{Origin, Tensor, Value};
use crate::variable::Variable;

pub use clip::clip_by_global_norm;
pub use optimizers::{AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer, MomentumOptimizer, RMSPropOptimizer};
pub use schedules::{exponential_decay, piecewise_constant, polynomial_decay};

/// The gradient of one variable.
#[derive(Debug, Clone)]
pub enum Gradient {
    /// A dense gradient of the variable's shape.
    Dense(Tensor),
    /// Rows of the gradient at int32 row indices (TF's `IndexedSlices`),
    /// for a variable used only through `gather`; an index may repeat, its
    /// rows then add up.
    Sparse {
        /// The rows: shape `[n] ++ var.shape[1..]`.
        values: Tensor,
        /// The row of each: shape `[n]`.
        indices: Tensor,
    },
}

impl Gradient {
    /// The dense gradient, if this is one.
    pub fn dense(&self) -> Option<&Tensor> {
        match self {
            Gradient::Dense(t) => Some(t),
            Gradient::Sparse { .. } => None,
        }
    }
}

/// A learning rate: a number, or a tensor recomputed in every run (a schedule
/// such as [`exponential_decay`]).
#[derive(Debug, Clone)]
pub enum Rate {
    /// A fixed rate (a float32 constant, cast to the variable's dtype, as TF).
    Value(f64),
    /// A scalar float tensor.
    Tensor(Tensor),
}

impl From<f64> for Rate {
    fn from(x: f64) -> Rate {
        Rate::Value(x)
    }
}

impl From<&Tensor> for Rate {
    fn from(t: &Tensor) -> Rate {
        Rate::Tensor(t.clone())
    }
}

impl From<Tensor> for Rate {
    fn from(t: Tensor) -> Rate {
        Rate::Tensor(t)
    }
}

/// The options of `minimize` (TF's `var_list`, `global_step`, `name`).
#[derive(Debug, Clone, Default)]
pub struct Minimize {
    var_list: Option<Vec<Variable>>,
    global_step: Option<Variable>,
    name: Option<String>,
}

impl Minimize {
    /// No options: every trainable variable, no global step, the optimizer's name.
    pub fn new() -> Minimize {
        Minimize::default()
    }

    /// Trains only these variables.
    pub fn var_list(mut self, vars: &[Variable]) -> Minimize {
        self.var_list = Some(vars.to_vec());
        self
    }

    /// Increments `step` (an integer scalar variable) after each update; the
    /// train op is then that `AssignAdd`.
    pub fn global_step(mut self, step: &Variable) -> Minimize {
        self.global_step = Some(step.clone());
        self
    }

    /// The name scope of the update ops and the name of the train op
    /// (default: the optimizer's name).
    pub fn name(mut self, name: &str) -> Minimize {
        self.name = Some(name.to_string());
        self
    }
}

/// TF's `tf.compat.v1.train.get_or_create_global_step()`: the int64 scalar
/// variable `global_step` (zeros, not trainable), created by `get_variable`
/// in the current variable scope unless the graph already has one.
///
/// ```
/// use varscope::{DType, Graph};
/// let graph = Graph::new();
/// let cx = graph.scope();
/// let step = varscope::train::get_or_create_global_step(&cx)?;
/// assert_eq!((step.name(), step.dtype(), step.trainable()), ("global_step:0", DType::I64, false));
/// assert!(varscope::train::get_or_create_global_step(&cx)?.same(&step));
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn get_or_create_global_step(cx: &Scope) -> Result<Variable> {
    if let Some(v) = cx.graph().get_variable_by_name("global_step") {
        return Ok(v);
    }
    cx.get_variable("global_step", VarSpec::new().shape([]).dtype(DType::I64).init(Init::Zeros).trainable(false))
}

/// The gradients of `loss` for `var_list` (default: the trainable
/// variables), as TF's `compute_gradients` gives them: `None` for a variable
/// the loss does not depend on or that is not a float; sparse rows for one
/// used only through `gather` along axis 0.
pub(crate) fn compute_gradients(
    cx: &Scope,
    loss: &Tensor,
    var_list: Option<&[Variable]>,
) -> Result<Vec<(Option<Gradient>, Variable)>> {
    let graph = cx.graph();
    let vars = match var_list {
        Some(v) => v.to_vec(),
        None => graph.trainable_variables(),
    };
    if vars.is_empty() {
        return Err(Error::invalid(format!(
            "no variables to optimize for `{}`: create trainable variables first or pass a `var_list`",
            loss.name()
        )));
    }
    enum Plan {
        None,
        Dense,
        Sparse(Vec<(Tensor, Tensor)>), // (gather output, indices)
    }
    let plans: Vec<Plan> = {
        let state = graph.state();
        // The nodes the loss depends on, and who among them reads each node.
        let mut seen = HashSet::from([loss.node()]);
        let mut stack = vec![loss.node()];
        let mut readers: HashMap<usize, Vec<usize>> = HashMap::new();
        while let Some(i) = stack.pop() {
            let Some(node) = state.nodes.get(&i) else { continue };
            for t in &node.inputs {
                readers.entry(t.node()).or_default().push(i);
                if seen.insert(t.node()) {
                    stack.push(t.node());
                }
            }
        }
        vars.iter()
            .map(|v| {
                if !v.dtype().is_float() || !seen.contains(&v.node()) {
                    return Plan::None;
                }
                let mut gathers = Vec::new();
                for r in readers.get(&v.node()).into_iter().flatten() {
                    let node = &state.nodes[r];
                    let is_params =
                        node.inputs.first().is_some_and(|t| t.same(v)) && !node.inputs[1..].iter().any(|t| t.same(v));
                    let gather0 =
                        matches!(node.grad.as_deref().map(|r| &r.op), Some(Op::Shape(ShapeOp::Gather { axis: 0 })));
                    let out = node.grad.as_deref().and_then(|rec| rec.outputs.first());
                    match (gather0 && is_params, out) {
                        (true, Some(value)) => {
                            let t =
                                Tensor::new(graph.downgrade(), state.epoch, *r, &node.name, Origin::Op, value.clone());
                            gathers.push((t, node.inputs[1].clone()));
                        }
                        _ => return Plan::Dense,
                    }
                }
                // In build order, so the rows concatenate as the lookups were made.
                gathers.sort_by_key(|(out, _)| out.node());
                gathers.dedup_by(|a, b| a.0.node() == b.0.node());
                if gathers.is_empty() { Plan::Dense } else { Plan::Sparse(gathers) }
            })
            .collect()
    };
    let mut wrt: Vec<&Tensor> = Vec::new();
    for (v, p) in vars.iter().zip(&plans) {
        match p {
            Plan::None => {}
            Plan::Dense => wrt.push(v.tensor()),
            Plan::Sparse(g) => wrt.extend(g.iter().map(|(out, _)| out)),
        }
    }
    let grads = cx.gradients(loss, &wrt)?;
    let mut grads = grads.into_iter();
    let mut out = Vec::with_capacity(vars.len());
    for (v, p) in vars.into_iter().zip(plans) {
        let g = match p {
            Plan::None => None,
            Plan::Dense => grads.next().map(Gradient::Dense),
            Plan::Sparse(gathers) => {
                let rows: Vec<Tensor> = gathers.iter().filter_map(|_| grads.next()).collect();
                Some(sparse_rows(cx, &v, &gathers, rows)?)
            }
        };
        out.push((g, v));
    }
    Ok(out)
}

/// One `IndexedSlices` of the rows every `gather` of `v` passed back
/// (concatenated as TF aggregates them when there are several).
fn sparse_rows(cx: &Scope, v: &Variable, gathers: &[(Tensor, Tensor)], rows: Vec<Tensor>) -> Result<Gradient> {
    let rest: Vec<isize> = v.shape()[1..].iter().map(|&d| d as isize).collect();
    if let ([(_, indices)], [values]) = (gathers, rows.as_slice())
        && indices.shape().len() == 1
    {
        return Ok(Gradient::Sparse { values: values.clone(), indices: indices.clone() });
    }
    let mut flat_values = Vec::new();
    let mut flat_ids = Vec::new();
    for ((_, ids), r) in gathers.iter().zip(&rows) {
        let mut shape = vec![-1];
        shape.extend_from_slice(&rest);
        flat_values.push(cx.reshape(r, &shape)?);
        flat_ids.push(cx.reshape(ids, &[-1])?);
    }
    let values = cx.concat(&flat_values.iter().collect::<Vec<_>>(), 0)?;
    let indices = cx.concat(&flat_ids.iter().collect::<Vec<_>>(), 0)?;
    Ok(Gradient::Sparse { values, indices })
}

/// What every optimizer keeps: its name and the variables it created.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub(crate) name: String,
    /// (primary variable, slot name, slot variable), in creation order.
    slots: Vec<(Variable, &'static str, Variable)>,
    /// Non-slot variables by name (`beta1_power`), in creation order.
    non_slot: Vec<(&'static str, Variable)>,
}

impl Core {
    pub(crate) fn new(name: &str) -> Core {
        Core { name: name.to_string(), slots: Vec::new(), non_slot: Vec::new() }
    }

    pub(crate) fn slot(&self, var: &Variable, name: &str) -> Option<Variable> {
        self.slots.iter().find(|(p, n, _)| p.same(var) && *n == name).map(|(_, _, s)| s.clone())
    }

    fn slot_of(&self, var: &Variable, name: &str) -> Result<Variable> {
        self.slot(var, name).ok_or_else(|| {
            Error::internal(format!("optimizer `{}` has no slot `{name}` for `{}`", self.name, var.op_name()))
        })
    }

    pub(crate) fn non_slot(&self, name: &str) -> Result<Variable> {
        self.non_slot
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Error::internal(format!("optimizer `{}` has no variable `{name}`", self.name)))
    }

    pub(crate) fn non_slot_variables(&self) -> Vec<Variable> {
        self.non_slot.iter().map(|(_, v)| v.clone()).collect()
    }

    /// TF's `slot_creator.create_slot`: a non-trainable variable of `var`'s
    /// shape and dtype, created by `get_variable` in the variable scope
    /// `default_name = "<var>/<optimizer name>"` (so `a/Adam`, `a/Adam_1`, ...).
    fn make_slot(&mut self, cx: &mut Scope, var: &Variable, slot: &'static str, init: Init) -> Result<()> {
        if self.slot(var, slot).is_some() {
            return Ok(());
        }
        let prefix = format!("{}/{}", var.op_name(), self.name);
        let spec = VarSpec::new().shape(var.shape()).dtype(var.dtype()).init(init).trainable(false);
        let made = {
            let s = cx.variable_scope(VarScope::default_name(prefix))?;
            s.get_variable("", spec)?
        };
        self.slots.push((var.clone(), slot, made));
        Ok(())
    }

    /// TF's `_create_non_slot_variable`: a plain non-trainable float32 scalar
    /// named in the current name scope (`beta1_power`, then `beta1_power_1`).
    fn make_non_slot(&mut self, cx: &Scope, name: &'static str, value: f64) -> Result<()> {
        if self.non_slot.iter().any(|(n, _)| *n == name) {
            return Ok(());
        }
        let v = cx.variable_with(Some(name), false, |_| Ok(Value::from(value as f32)))?;
        self.non_slot.push((name, v));
        Ok(())
    }
}

/// An optimizer's update rule: the slots it needs and the ops of one step.
pub(crate) trait Rule {
    /// `get_slot_names()`, sorted as TF returns them.
    fn slot_names(&self) -> Vec<&'static str>;
    /// Creates the slots (and non-slot variables) of `vars`, in TF's order.
    fn create_slots(&self, cx: &mut Scope, core: &mut Core, vars: &[Variable]) -> Result<()>;
    /// The update of `var` by a dense gradient; returns the op to group.
    fn apply_dense(&self, cx: &Scope, core: &Core, h: &mut Hyper, grad: &Tensor, var: &Variable) -> Result<Tensor>;
    /// The update of `var` by gradient rows (`indices` may repeat).
    fn apply_sparse(
        &self,
        cx: &Scope,
        core: &Core,
        h: &mut Hyper,
        values: &Tensor,
        indices: &Tensor,
        var: &Variable,
    ) -> Result<Tensor>;
    /// The op that ends a step (`name` exact): by default a `NoOp` grouping the updates.
    fn finish(&self, cx: &Scope, _core: &Core, _h: &mut Hyper, updates: &[Tensor], name: &str) -> Result<Tensor> {
        cx.named(name).group(&updates.iter().collect::<Vec<_>>())
    }
}

/// The hyperparameter constants of one `apply_gradients`, made once per
/// dtype in its name scope (float32 constants cast to the variable's dtype,
/// exactly as TF's `_prepare` then `math_ops.cast` give them).
pub(crate) struct Hyper {
    made: HashMap<(String, DType), Tensor>,
}

impl Hyper {
    fn new() -> Hyper {
        Hyper { made: HashMap::new() }
    }

    /// The constant `name` = `x` (rounded to float32 first) of `dtype`.
    pub(crate) fn get(&mut self, cx: &Scope, name: &str, x: f64, dtype: DType) -> Result<Tensor> {
        if let Some(t) = self.made.get(&(name.to_string(), dtype)) {
            return Ok(t.clone());
        }
        let x = x as f32;
        let value = match dtype {
            DType::F64 => Value::from(f64::from(x)),
            _ => Value::from(x),
        };
        let t = cx.named(name).constant(value)?;
        self.made.insert((name.to_string(), dtype), t.clone());
        Ok(t)
    }

    /// A rate as a tensor of `dtype`.
    pub(crate) fn rate(&mut self, cx: &Scope, name: &str, rate: &Rate, dtype: DType) -> Result<Tensor> {
        match rate {
            Rate::Value(x) => self.get(cx, name, *x, dtype),
            Rate::Tensor(t) if t.dtype() == dtype => Ok(t.clone()),
            Rate::Tensor(t) => {
                let key = (format!("{name}:cast"), dtype);
                if let Some(c) = self.made.get(&key) {
                    return Ok(c.clone());
                }
                let c = cx.cast(t, dtype)?;
                self.made.insert(key, c.clone());
                Ok(c)
            }
        }
    }
}

/// `x` of `var`'s dtype (a float32 variable such as `beta1_power`, cast for
/// float64 variables as TF does).
pub(crate) fn as_dtype(cx: &Scope, x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype { Ok(x.clone()) } else { cx.cast(x, dtype) }
}

/// TF's `apply_gradients`: slots, then the update ops in the name scope
/// `name` (default the optimizer's), then the train op.
pub(crate) fn apply_gradients(
    rule: &dyn Rule,
    core: &mut Core,
    cx: &mut Scope,
    grads_and_vars: &[(Option<Gradient>, Variable)],
    global_step: Option<&Variable>,
    name: Option<&str>,
) -> Result<Tensor> {
    let with_grad: Vec<(&Gradient, &Variable)> =
        grads_and_vars.iter().filter_map(|(g, v)| g.as_ref().map(|g| (g, v))).collect();
    if with_grad.is_empty() {
        let names: Vec<String> = grads_and_vars.iter().map(|(_, v)| format!("`{}`", v.op_name())).collect();
        return Err(Error::invalid(format!(
            "no gradients provided for any variable ({}): the loss does not depend on them (or they are not \
             float); check the var_list and the loss",
            names.join(", ")
        )));
    }
    for (g, v) in &with_grad {
        check_gradient(&core.name, g, v)?;
    }
    if let Some(step) = global_step
        && step.dtype().is_float()
    {
        return Err(Error::invalid(format!(
            "global step `{}` is {}: use an integer variable (`get_or_create_global_step`)",
            step.op_name(),
            step.dtype()
        )));
    }
    let vars: Vec<Variable> = with_grad.iter().map(|(_, v)| (*v).clone()).collect();
    rule.create_slots(cx, core, &vars)?;
    // Every value as it is before the update ops are built: the eager
    // computation of their assignments is undone afterwards.
    let before: Vec<(Variable, Value)> = cx
        .graph()
        .global_variables()
        .into_iter()
        .map(|v| {
            let x = v.value();
            (v, x)
        })
        .collect();
    let scope = cx.push_name_scope(name.unwrap_or(&core.name))?;
    let built = build_updates(rule, core, cx, &with_grad, global_step, &scope);
    let popped = cx.pop_scope();
    for (v, x) in before {
        v.tensor().set_value(x);
    }
    let train = built?;
    popped?;
    Ok(train)
}

fn build_updates(
    rule: &dyn Rule,
    core: &Core,
    cx: &mut Scope,
    with_grad: &[(&Gradient, &Variable)],
    global_step: Option<&Variable>,
    scope: &str,
) -> Result<Tensor> {
    let mut h = Hyper::new();
    let mut updates = Vec::with_capacity(with_grad.len());
    for (g, v) in with_grad {
        cx.push_name_scope(&format!("update_{}", v.op_name()))?;
        let op = match g {
            Gradient::Dense(g) => rule.apply_dense(cx, core, &mut h, g, v),
            Gradient::Sparse { values, indices } => rule.apply_sparse(cx, core, &mut h, values, indices, v),
        };
        cx.pop_scope()?;
        updates.push(op?);
    }
    match global_step {
        None => rule.finish(cx, core, &mut h, &updates, scope),
        Some(step) => {
            let update = rule.finish(cx, core, &mut h, &updates, "update")?;
            let _after = cx.control_dependencies(&[&update])?;
            let one = cx.named("value").constant(Value::filled(step.dtype(), &[], 1.0)?)?;
            cx.named(scope).assign_add(step, &one)
        }
    }
}

/// Refuses a gradient whose dtype or shape does not fit its variable.
fn check_gradient(opt: &str, g: &Gradient, v: &Variable) -> Result<()> {
    let (t, shape_ok) = match g {
        Gradient::Dense(t) => (t, t.shape() == v.shape()),
        Gradient::Sparse { values, indices } => {
            let ok = !v.shape().is_empty()
                && indices.shape().len() == 1
                && values.shape().first() == indices.shape().first()
                && values.shape()[1..] == v.shape()[1..];
            (values, ok)
        }
    };
    if !v.dtype().is_float() || t.dtype() != v.dtype() || !shape_ok {
        return Err(Error::invalid(format!(
            "optimizer `{opt}`: the gradient `{}` ({} of shape {:?}) does not fit variable `{}` ({} of shape {:?}): \
             pass a float gradient of the variable's dtype and shape",
            t.name(),
            t.dtype(),
            t.shape(),
            v.op_name(),
            v.dtype(),
            v.shape()
        )));
    }
    Ok(())
}

/// Reads and writes of one update: the whole variables (dense), or the rows
/// at the unique `indices` (sparse: read by `gather`, written by
/// `ScatterUpdate`/`ScatterSub`), so one formula serves both.
pub(crate) struct Io<'a> {
    cx: &'a Scope,
    rows: Option<&'a Tensor>,
    effects: Vec<Tensor>,
}

impl<'a> Io<'a> {
    pub(crate) fn dense(cx: &'a Scope) -> Io<'a> {
        Io { cx, rows: None, effects: Vec::new() }
    }

    pub(crate) fn rows(cx: &'a Scope, indices: &'a Tensor) -> Io<'a> {
        Io { cx, rows: Some(indices), effects: Vec::new() }
    }

    /// The current value (of the rows).
    pub(crate) fn read(&self, v: &Variable) -> Result<Tensor> {
        match self.rows {
            None => Ok(v.tensor().clone()),
            Some(i) => self.cx.gather(v, i, 0),
        }
    }

    /// Writes `new` to `v` (its rows); returns the value later ops use.
    pub(crate) fn write(&mut self, v: &Variable, new: &Tensor) -> Result<Tensor> {
        match self.rows {
            None => self.cx.assign(v, new),
            Some(i) => {
                let op = self.cx.scatter_update(v, i, new)?;
                self.effects.push(op);
                Ok(new.clone())
            }
        }
    }

    /// `var -= delta` (on its rows), after every write: the update's op.
    pub(crate) fn subtract(&mut self, v: &Variable, delta: &Tensor) -> Result<Tensor> {
        match self.rows {
            None => self.cx.assign_sub(v, delta),
            Some(i) => {
                let _after = self.cx.control_dependencies(&self.effects.iter().collect::<Vec<_>>())?;
                self.cx.scatter_sub(v, i, delta)
            }
        }
    }
}

/// TF's `_deduplicate_indexed_slices`: the unique indices and the rows
/// summed per index.
pub(crate) fn deduplicate(cx: &Scope, values: &Tensor, indices: &Tensor) -> Result<(Tensor, Tensor)> {
    let (unique, positions) = cx.unique(indices)?;
    let summed = cx.unsorted_segment_sum(values, &positions, &unique)?;
    Ok((summed, unique))
}

/// The public methods every optimizer type shares, written once.
macro_rules! optimizer_methods {
    ($t:ty) => {
        impl $t {
            /// TF's `minimize`: [`compute_gradients`](Self::compute_gradients)
            /// then [`apply_gradients`](Self::apply_gradients); returns the train op.
            pub fn minimize(
                &mut self,
                cx: &mut $crate::Scope,
                loss: &$crate::Tensor,
                options: $crate::train::Minimize,
            ) -> $crate::Result<$crate::Tensor> {
                let grads = self.compute_gradients(cx, loss, options.var_list.as_deref())?;
                self.apply_gradients(cx, &grads, options.global_step.as_ref(), options.name.as_deref())
            }

            /// The gradient of `loss` for each variable of `var_list` (default:
            /// the trainable ones): `None` where the loss does not depend on it
            /// or it is not a float; sparse rows for a variable used only by `gather`.
            pub fn compute_gradients(
                &self,
                cx: &$crate::Scope,
                loss: &$crate::Tensor,
                var_list: Option<&[$crate::Variable]>,
            ) -> $crate::Result<Vec<(Option<$crate::train::Gradient>, $crate::Variable)>> {
                $crate::train::compute_gradients(cx, loss, var_list)
            }

            /// Records one update of each variable by its gradient (those with
            /// `None` are skipped) in the name scope `name` (default: the
            /// optimizer's name) and returns the train op: a `NoOp` of that
            /// name, or with `global_step` its `AssignAdd` by 1.
            pub fn apply_gradients(
                &mut self,
                cx: &mut $crate::Scope,
                grads_and_vars: &[(Option<$crate::train::Gradient>, $crate::Variable)],
                global_step: Option<&$crate::Variable>,
                name: Option<&str>,
            ) -> $crate::Result<$crate::Tensor> {
                $crate::train::apply_gradients(&self.rule, &mut self.core, cx, grads_and_vars, global_step, name)
            }

            /// The slot `name` (see [`get_slot_names`](Self::get_slot_names)) of `var`.
            pub fn get_slot(&self, var: &$crate::Variable, name: &str) -> Option<$crate::Variable> {
                self.core.slot(var, name)
            }

            /// The names of the slots this optimizer makes, sorted (TF's `get_slot_names`).
            pub fn get_slot_names(&self) -> Vec<&'static str> {
                $crate::train::Rule::slot_names(&self.rule)
            }

            /// The variables it made that belong to no variable (Adam's beta powers).
            pub fn non_slot_variables(&self) -> Vec<$crate::Variable> {
                self.core.non_slot_variables()
            }

            /// Its name: the default name scope of its ops and the name of its slots.
            pub fn get_name(&self) -> &str {
                &self.core.name
            }

            /// Names it (default: its kind, `Adam`, `Momentum`, ...).
            pub fn name(mut self, name: &str) -> Self {
                self.core.name = name.to_string();
                self
            }
        }
    };
}
pub(crate) use optimizer_methods;
