//! Build once, run many: a [`Session`] runs the recorded graph again with new
//! feeds, as TF 1.x's `session.run` does.
//!
//! Every op is computed eagerly when it is built (so a model can be written
//! and debugged line by line); the record keeps what it is (`Op`) and its
//! inputs. A run takes the nodes its fetches need (stopping at fed tensors),
//! in the order they were built, and computes each from the current values
//! of the variables and the feeds with the same `ops::forward` the eager
//! methods use: constants keep their value, placeholders take their feed,
//! assignments write their variable, and a gradients node
//! ([`Scope::gradients`]) runs the backward pass over the values of this
//! run. Nothing is named, created or recorded by a run, so a training loop
//! needs no `clear_ops` and no reuse flags.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::autodiff::{Step, backprop, check_gradient_args, key};
use crate::dtype::DType;
use crate::error::{Error, Result, fmt_shape};
use crate::graph::{Graph, GraphState};
use crate::ops::{Naming, forward_into};
use crate::record::{BinaryOp, MathOp, NnOp, Op, Recorded, TrainOp, UnaryOp};
use crate::scope::Scope;
use crate::tensor::{Origin, Tensor, Value};

/// Where a step finds an input: an output of an earlier step, or a feed.
#[derive(Debug, Clone, Copy)]
enum Input {
    Step(usize, usize),
    Fed(usize),
}

/// What a step computes.
enum Kind {
    /// The variable's value when the step runs.
    Variable(Tensor),
    /// A constant's recorded value.
    Const(Vec<Value>),
    /// An unfed placeholder: the run is refused.
    Unfed,
    /// An op computed from its inputs; an assignment also writes `assigns`.
    Op { op: Op, assigns: Option<Tensor> },
    /// The backward pass from input 0 over the steps `over` (positions,
    /// latest first), with respect to the other inputs.
    Gradients { over: Vec<usize>, wrt: Vec<((usize, usize), DType, Vec<usize>)> },
}

struct PlanStep {
    index: usize,
    name: String,
    kind: Kind,
    inputs: Vec<Input>,
    /// The graph keys of the inputs, for the backward pass.
    input_keys: Vec<(usize, usize)>,
    /// Computed by a later step's [`Fusion`]: its slot holds a stand-in until then.
    deferred: bool,
    /// A `Relu` that computes its `Conv2D → AddV2/BiasAdd → Relu` chain in one convolution.
    fusion: Option<Fusion>,
}

/// `Conv2D → AddV2/BiasAdd(bias) → Relu` whose intermediate values nothing else in the plan
/// reads (not fetched, one consumer each), run as one convolution with the bias and relu
/// applied as it writes ([`crate::ops::conv2d_bias_relu`], the same bits). It runs at the
/// relu's position, when every input is there. The conv's and the add's slots then hold the
/// relu's output as a stand-in of their shape and dtype: their only readers are the fused
/// ops themselves and the backward pass, whose `Conv2D` gradient reads its inputs, `AddV2`'s
/// only the shapes, and `Relu`'s only its output.
struct Fusion {
    conv: usize,
    add: usize,
    win: crate::record::Window,
    x: Input,
    filter: Input,
    bias: Input,
    /// `bias + conv` rather than `conv + bias`.
    bias_first: bool,
}

/// The steps a set of fetches needs given a set of fed tensors, in build order.
struct Plan {
    epoch: u64,
    steps: Vec<PlanStep>,
    fetches: Vec<Input>,
}

/// A plan's cache key: the graph keys of the fetches and of the feeds.
type PlanKey = (Vec<(usize, usize)>, Vec<(usize, usize)>);

/// Runs a graph's recorded ops again with new feeds (TF's `tf.compat.v1.Session`).
///
/// A session is cheap: it keeps the plans of the fetch and feed sets it has
/// run, so a training loop pays the graph walk once. Feeds must have the
/// dtype and the shape of the tensor they replace.
///
/// ```
/// use varscope::{DType, Graph, Init, Session, Value, VarSpec};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.placeholder("x", Value::filled(DType::F32, &[2], 0.0)?)?;
/// let w = cx.get_variable("w", VarSpec::new().shape([2]).init(Init::constant(3.0)))?;
/// let y = cx.reduce_sum(&cx.mul(&x, &w)?, varscope::ops::Axes::All, false)?;
/// let sess = Session::new(&graph);
/// let feed = Value::from(vec![1.0f32, 2.0]);
/// assert_eq!(sess.run(&[&y], &[(&x, feed.clone())])?[0].to_f64_vec(), vec![9.0]);
/// w.assign(Value::from(vec![1.0f32, 1.0]))?;
/// assert_eq!(sess.run(&[&y], &[(&x, feed)])?[0].to_f64_vec(), vec![3.0]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub struct Session {
    graph: Graph,
    plans: Mutex<HashMap<PlanKey, Arc<Plan>>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("graph", &self.graph).finish()
    }
}

impl Session {
    /// A session on `graph`.
    pub fn new(graph: &Graph) -> Session {
        Session { graph: graph.clone(), plans: Mutex::new(HashMap::new()) }
    }

    /// The graph this session runs.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Computes `fetches` from the current variable values and `feeds`
    /// (each a tensor of the graph and the value it takes in this run), running
    /// only the ops they need; assignments among them write their
    /// variables. Returns one value per fetch.
    pub fn run(&self, fetches: &[&Tensor], feeds: &[(&Tensor, Value)]) -> Result<Vec<Value>> {
        let fetch_keys: Vec<(usize, usize)> = fetches.iter().map(|t| key(t)).collect();
        let feed_keys: Vec<(usize, usize)> = feeds.iter().map(|(t, _)| key(t)).collect();
        {
            let state = self.graph.state();
            for t in fetches.iter().copied().chain(feeds.iter().map(|(t, _)| *t)) {
                state.check_input(&self.graph, "Session::run", t)?;
            }
        }
        for (t, v) in feeds {
            if v.dtype() != t.dtype() || v.shape() != t.shape() {
                return Err(Error::invalid(format!(
                    "cannot feed a {} value of shape {} for `{}`, which is {} of shape {}: feed a value of its dtype and shape",
                    v.dtype(),
                    fmt_shape(v.shape()),
                    t.name(),
                    t.dtype(),
                    fmt_shape(t.shape())
                )));
            }
        }
        let plan = self.plan(fetches, &fetch_keys, &feed_keys)?;
        let feed_values: Vec<&Value> = feeds.iter().map(|(_, v)| v).collect();
        execute(&plan, &feed_values)
    }

    fn plan(
        &self,
        fetches: &[&Tensor],
        fetch_keys: &[(usize, usize)],
        feed_keys: &[(usize, usize)],
    ) -> Result<Arc<Plan>> {
        let cache_key = (fetch_keys.to_vec(), feed_keys.to_vec());
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        let state = self.graph.state();
        if let Some(plan) = plans.get(&cache_key).filter(|p| p.epoch == state.epoch) {
            return Ok(plan.clone());
        }
        let plan = Arc::new(build_plan(&state, fetches, feed_keys)?);
        drop(state);
        plans.insert(cache_key, plan.clone());
        Ok(plan)
    }
}

/// Walks back from the fetches to the nodes they need (through inputs and
/// control inputs, stopping at feeds) and lays them out in build order.
fn build_plan(state: &GraphState, fetches: &[&Tensor], feed_keys: &[(usize, usize)]) -> Result<Plan> {
    let fed: HashMap<(usize, usize), usize> = feed_keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    // Node index -> a handle of one of its tensors (variables are read through it).
    let mut needed: BTreeMap<usize, Tensor> = BTreeMap::new();
    let mut stack: Vec<Tensor> = Vec::new();
    let visit = |t: &Tensor, stack: &mut Vec<Tensor>, needed: &mut BTreeMap<usize, Tensor>| {
        if !fed.contains_key(&key(t)) && !needed.contains_key(&t.node()) {
            needed.insert(t.node(), t.clone());
            stack.push(t.clone());
        }
    };
    for t in fetches {
        visit(t, &mut stack, &mut needed);
    }
    while let Some(t) = stack.pop() {
        if t.origin() != Origin::Op {
            continue;
        }
        let Some(node) = state.nodes.get(&t.node()) else {
            return Err(Error::StaleTensor { op: "Session::run".to_string(), tensor: t.name().to_string() });
        };
        for i in node.inputs.iter().chain(&node.control) {
            visit(i, &mut stack, &mut needed);
        }
    }
    let position: HashMap<usize, usize> = needed.keys().enumerate().map(|(p, &i)| (i, p)).collect();
    let resolve = |t: &Tensor| -> Input {
        let k = key(t);
        match fed.get(&k) {
            Some(&i) => Input::Fed(i),
            None => Input::Step(position[&k.0], k.1),
        }
    };
    let mut steps = Vec::with_capacity(needed.len());
    for (&index, t) in &needed {
        let (name, inputs, kind) = match t.origin() {
            Origin::Variable { .. } => (t.op_name().to_string(), Vec::new(), Kind::Variable(t.clone())),
            Origin::Op => {
                let node = &state.nodes[&index];
                let rec = node.grad.as_deref().ok_or_else(|| {
                    Error::internal(format!("op `{}` ({}) has no record to run", node.name, node.op_type))
                })?;
                let kind = match &rec.op {
                    Op::Const => Kind::Const(rec.outputs.clone()),
                    Op::Placeholder { with_default: false } => Kind::Unfed,
                    Op::Gradients => Kind::Gradients { over: Vec::new(), wrt: Vec::new() },
                    op => {
                        let assigns = matches!(op, Op::Assign(_) | Op::Train(TrainOp::Scatter(_)))
                            .then(|| node.inputs[0].clone());
                        Kind::Op { op: op.clone(), assigns }
                    }
                };
                (node.name.clone(), node.inputs.clone(), kind)
            }
        };
        let input_keys = inputs.iter().map(key).collect();
        steps.push(PlanStep {
            index,
            name,
            kind,
            inputs: inputs.iter().map(resolve).collect(),
            input_keys,
            deferred: false,
            fusion: None,
        });
    }
    // A gradients node differentiates over the steps its loss depends on.
    for p in 0..steps.len() {
        if !matches!(steps[p].kind, Kind::Gradients { .. }) {
            continue;
        }
        let Some(Input::Step(loss, _)) = steps[p].inputs.first().copied() else {
            return Err(Error::invalid(format!(
                "gradients `{}`: its loss is fed in this run: fetch the gradients without feeding the loss",
                steps[p].name
            )));
        };
        let mut over = Vec::new();
        let mut seen = HashSet::from([loss]);
        let mut todo = vec![loss];
        while let Some(q) = todo.pop() {
            over.push(q);
            for i in &steps[q].inputs {
                if let Input::Step(r, _) = *i
                    && seen.insert(r)
                {
                    todo.push(r);
                }
            }
        }
        over.sort_unstable_by(|a, b| b.cmp(a));
        let node = &state.nodes[&steps[p].index];
        let wrt = node.inputs[1..].iter().map(|t| (key(t), t.dtype(), t.shape().to_vec())).collect();
        steps[p].kind = Kind::Gradients { over, wrt };
    }
    let fetches: Vec<Input> = fetches.iter().map(|t| resolve(t)).collect();
    fuse_conv_bias_relu(state, &mut steps, &fetches);
    Ok(Plan { epoch: state.epoch, steps, fetches })
}

/// Marks every `Conv2D → AddV2/BiasAdd(bias) → Relu` chain that can run as one convolution
/// (see [`Fusion`]): the conv's and the add's outputs are read once, by the next op of the
/// chain, and not fetched; the bias is a vector of the conv's output channels; no assignment
/// runs between the conv and the relu (a deferred conv must read the same variable values).
fn fuse_conv_bias_relu(state: &GraphState, steps: &mut [PlanStep], fetches: &[Input]) {
    let mut uses = vec![0usize; steps.len()];
    for i in steps.iter().flat_map(|s| &s.inputs).chain(fetches) {
        if let Input::Step(p, _) = *i {
            uses[p] += 1;
        }
    }
    let op_of = |steps: &[PlanStep], p: usize| match &steps[p].kind {
        Kind::Op { op, assigns: None } => Some(op.clone()),
        _ => None,
    };
    for r in 0..steps.len() {
        let (Some(Op::Math(MathOp::Unary(UnaryOp::Relu))), [Input::Step(a, 0)]) =
            (op_of(steps, r), steps[r].inputs.as_slice())
        else {
            continue;
        };
        let a = *a;
        let Some(add @ (Op::Math(MathOp::Binary(BinaryOp::Add)) | Op::Nn(NnOp::BiasAdd))) = op_of(steps, a) else {
            continue;
        };
        let conv_at = |i: Input| match i {
            Input::Step(c, 0) => match op_of(steps, c) {
                Some(Op::Nn(NnOp::Conv2D(win))) if !steps[c].deferred => Some((c, win)),
                _ => None,
            },
            _ => None,
        };
        let (c, win, bias, bias_first, at) = match *steps[a].inputs.as_slice() {
            [i0, i1] if let Some((c, win)) = conv_at(i0) => (c, win, i1, false, 0),
            [i0, i1]
                if add == Op::Math(MathOp::Binary(BinaryOp::Add))
                    && let Some((c, win)) = conv_at(i1) =>
            {
                (c, win, i0, true, 1)
            }
            _ => continue,
        };
        let Some(node) = state.nodes.get(&steps[a].index) else { continue };
        let (Some(conv_out), Some(b)) = (node.inputs.get(at), node.inputs.get(1 - at)) else { continue };
        let channels = conv_out.shape().last().copied();
        let fits = b.shape().len() == 1 && Some(b.shape()[0]) == channels && b.dtype() == conv_out.dtype();
        let assigns_between = steps[c + 1..r].iter().any(|s| matches!(s.kind, Kind::Op { assigns: Some(_), .. }));
        let [x, filter] = *steps[c].inputs.as_slice() else { continue };
        if uses[c] != 1 || uses[a] != 1 || !fits || assigns_between || !conv_out.dtype().is_float() {
            continue;
        }
        steps[c].deferred = true;
        steps[a].deferred = true;
        steps[r].fusion = Some(Fusion { conv: c, add: a, win, x, filter, bias, bias_first });
    }
}

fn execute(plan: &Plan, feeds: &[&Value]) -> Result<Vec<Value>> {
    // Every output of the run in one buffer: step `p`'s start at `starts[p]`.
    let mut values: Vec<Value> = Vec::with_capacity(plan.steps.len());
    let mut starts: Vec<usize> = Vec::with_capacity(plan.steps.len() + 1);
    // A variable is read when an op uses it, so an assignment that runs
    // first (a control input) is seen, as with TF's reference variables.
    let get = |values: &[Value], starts: &[usize], i: Input| -> Result<Value> {
        match i {
            Input::Fed(f) => Ok(feeds[f].clone()),
            Input::Step(p, _) if let Some(PlanStep { kind: Kind::Variable(t), .. }) = plan.steps.get(p) => {
                Ok(t.value())
            }
            Input::Step(p, o) => starts
                .get(p)
                .and_then(|&s| values.get(s + o))
                .cloned()
                .ok_or_else(|| Error::internal(format!("a run read output {o} of step {p} before computing it"))),
        }
    };
    // One buffer for every step's inputs: a run of small ops is dominated by allocations.
    let mut inputs: Vec<Value> = Vec::new();
    let mut stand_in: Option<Value> = None;
    for step in &plan.steps {
        inputs.clear();
        if step.deferred {
            // Filled in by the fused step that computes it.
            let v = match &stand_in {
                Some(v) => v.clone(),
                None => stand_in.insert(Value::filled(DType::F32, &[0], 0.0)?).clone(),
            };
            starts.push(values.len());
            values.push(v);
            continue;
        }
        if let Some(fu) = &step.fusion {
            let (x, f, b) =
                (get(&values, &starts, fu.x)?, get(&values, &starts, fu.filter)?, get(&values, &starts, fu.bias)?);
            let start = values.len();
            match crate::ops::conv2d_bias_relu(&fu.win, &x, &f, &b) {
                Some(y) => {
                    values[starts[fu.conv]] = y.clone();
                    values[starts[fu.add]] = y.clone();
                    values.push(y);
                }
                None => {
                    // The three ops one by one, with their own checks and errors.
                    let one = |p: usize, ins: &[Value]| -> Result<Value> {
                        let s = &plan.steps[p];
                        let Kind::Op { op, .. } = &s.kind else {
                            return Err(Error::internal(format!("fused step `{}` is not an op", s.name)));
                        };
                        let mut out = Vec::with_capacity(1);
                        forward_into(op, &s.name, ins, &mut out)?;
                        out.into_iter().next().ok_or_else(|| Error::internal(format!("op `{}` made no output", s.name)))
                    };
                    let conv = one(fu.conv, &[x, f])?;
                    values[starts[fu.conv]] = conv.clone();
                    let add = one(fu.add, &if fu.bias_first { [b, conv] } else { [conv, b] })?;
                    values[starts[fu.add]] = add.clone();
                    let Kind::Op { op, .. } = &step.kind else {
                        return Err(Error::internal(format!("fused step `{}` is not an op", step.name)));
                    };
                    forward_into(op, &step.name, &[add], &mut values)?;
                }
            }
            starts.push(start);
            continue;
        }
        for &i in &step.inputs {
            inputs.push(get(&values, &starts, i)?);
        }
        let start = values.len();
        match &step.kind {
            Kind::Variable(t) => values.push(t.value()), // a fetch of the variable itself
            Kind::Const(v) => values.extend(v.iter().cloned()),
            Kind::Unfed => {
                return Err(Error::invalid(format!(
                    "placeholder `{}` needs a value in this run: feed it (`Session::run(fetches, &[(&{}, value)])`)",
                    step.name, step.name
                )));
            }
            Kind::Op { op, assigns } => {
                forward_into(op, &step.name, &inputs, &mut values)?;
                if let (Some(var), Some(v)) = (assigns, values.get(start)) {
                    var.set_value(v.clone());
                }
            }
            Kind::Gradients { over, wrt } => {
                let steps: Vec<Step<Recorded>> = over
                    .iter()
                    .map(|&q| {
                        let s = &plan.steps[q];
                        let rec = match &s.kind {
                            Kind::Op { op, .. } => Some(Recorded {
                                op: op.clone(),
                                inputs: s.inputs.iter().map(|&i| get(&values, &starts, i)).collect::<Result<_>>()?,
                                outputs: values[starts[q]..starts.get(q + 1).copied().unwrap_or(start)].to_vec(),
                            }),
                            _ => None,
                        };
                        Ok(Step { index: s.index, inputs: s.input_keys.clone(), rec })
                    })
                    .collect::<Result<_>>()?;
                let loss = &inputs[0];
                // The wrt dtypes were checked when the node was built; a feed may change the loss.
                check_gradient_args(&step.name, loss, &[])?;
                let wrt: Vec<((usize, usize), DType, &[usize])> =
                    wrt.iter().map(|(k, d, s)| (*k, *d, s.as_slice())).collect();
                values.extend(backprop(&steps, step.input_keys[0], loss, &wrt)?);
            }
        }
        starts.push(start);
    }
    let out = plan.fetches.iter().map(|&i| get(&values, &starts, i)).collect();
    // The values nothing outside this run holds: their buffers serve the next run's outputs.
    drop(inputs);
    for v in values {
        v.recycle();
    }
    out
}

impl Scope {
    /// The gradients of the scalar `loss` with respect to each of `wrt`, as
    /// tensors (TF's `tf.gradients`): one node, named `gradients` (then
    /// `gradients_1`, ...) whose outputs are computed now and again in every
    /// [`Session::run`] that needs them, from that run's values. Ops built on
    /// them (clipping, an optimizer's update) run in the session too.
    ///
    /// ```
    /// use varscope::{Graph, Init, Session, VarSpec};
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(3.0)))?;
    /// let loss = cx.mul(&w, &w)?;
    /// let g = cx.gradients(&loss, &[&w])?;
    /// assert_eq!(g[0].value().to_f64_vec(), vec![6.0]);
    /// w.assign(varscope::Value::from(5.0f32))?;
    /// assert_eq!(Session::new(&graph).run(&[&g[0]], &[])?[0].to_f64_vec(), vec![10.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn gradients(&self, loss: &Tensor, wrt: &[&Tensor]) -> Result<Vec<Tensor>> {
        if wrt.is_empty() {
            return Ok(Vec::new());
        }
        let mut inputs = vec![loss];
        inputs.extend_from_slice(wrt);
        let graph = self.graph().clone();
        self.record_computed(
            Naming::Scoped { default: "gradients" },
            "SymbolicGradient",
            &inputs,
            |_| Ok(()),
            |_, _| Ok((graph.gradients(loss, wrt)?, Op::Gradients)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::Init;
    use crate::ops::{Axes, Padding};
    use crate::scope::VarSpec;

    /// How many fused chains the plan of `fetches` has.
    fn fused(sess: &Session, fetches: &[&Tensor]) -> Result<usize> {
        let keys: Vec<(usize, usize)> = fetches.iter().map(|t| key(t)).collect();
        Ok(sess.plan(fetches, &keys, &[])?.steps.iter().filter(|s| s.fusion.is_some()).count())
    }

    #[test]
    fn a_plan_fuses_conv_bias_relu_only_when_nothing_else_reads_the_intermediates() -> Result<()> {
        let graph = Graph::with_seed(1);
        let cx = graph.scope();
        let x = cx.get_variable("x", VarSpec::new().shape([1, 4, 4, 2]).init(Init::constant(0.5)))?;
        let w = cx.get_variable("w", VarSpec::new().shape([3, 3, 2, 16]).init(Init::constant(0.1)))?;
        let b = cx.get_variable("b", VarSpec::new().shape([16]).init(Init::constant(-0.2)))?;
        let conv = cx.conv2d(&x, &w, [1, 1], Padding::Same)?;
        let y = cx.relu(&cx.add(&conv, &b)?)?;
        let loss = cx.reduce_sum(&y, Axes::All, false)?;
        let g = cx.gradients(&loss, &[&w, &b])?;
        let sess = Session::new(&graph);
        assert_eq!(fused(&sess, &[&y])?, 1);
        assert_eq!(fused(&sess, &[&loss, &g[0], &g[1]])?, 1);
        // Fetched, or read by another op: the chain runs as three ops.
        assert_eq!(fused(&sess, &[&y, &conv])?, 0);
        let other = cx.mul(&conv, &conv)?;
        assert_eq!(fused(&sess, &[&y, &other])?, 0);
        // A bias that is not a vector of the output channels is an ordinary broadcast add.
        let c = cx.get_variable("c", VarSpec::new().shape([4, 1, 16]).init(Init::constant(0.0)))?;
        let y2 = cx.relu(&cx.add(&cx.conv2d(&x, &w, [1, 1], Padding::Same)?, &c)?)?;
        assert_eq!(fused(&sess, &[&y2])?, 0);
        Ok(())
    }
}
