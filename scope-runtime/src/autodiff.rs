//! Reverse-mode automatic differentiation over the recorded ops, gradient
//! descent, and releasing the record.
//!
//! Every op records its kind, attributes, input values and output values
//! (cheap shared copies), so [`Graph::gradients`] can walk the record
//! backwards from a scalar loss. A tensor used in several places (a variable
//! shared by two towers, or by every step of an unrolled RNN) gets the sum of
//! the gradients flowing into it.
//!
//! The record keeps every intermediate value alive. In a training loop that
//! builds the forward pass again at every step, call [`Graph::clear_ops`]
//! once the step's gradients are applied: it drops the op nodes (variables
//! stay) and their names, so memory stays flat and each step reuses the same
//! op names.

use std::collections::{HashMap, HashSet};

use crate::dtype::DType;
use crate::error::{Error, Result, fmt_shape};
use crate::graph::Graph;
use crate::ops::{grad, output_index};
use crate::record::Recorded;
use crate::tensor::{Tensor, Value};
use crate::variable::Variable;

/// A node of the backward pass: its inputs (node, output) and its record.
pub(crate) struct Step<R> {
    pub(crate) index: usize,
    pub(crate) inputs: Vec<(usize, usize)>,
    pub(crate) rec: Option<R>,
}

fn add_values(a: &Value, b: &Value) -> Result<Value> {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) if x.shape() == y.shape() => Ok(Value::F32((x + y).into_shared())),
        (Value::F64(x), Value::F64(y)) if x.shape() == y.shape() => Ok(Value::F64((x + y).into_shared())),
        _ => Err(Error::internal(format!(
            "cannot sum gradients of shapes {} and {}",
            fmt_shape(a.shape()),
            fmt_shape(b.shape())
        ))),
    }
}

/// Reverse-mode autodiff over `steps` (every node `loss` depends on, in
/// descending index order, each with the values it computed): the gradient
/// of the scalar at `loss` with respect to each `wrt` output, zeros where
/// the loss does not depend on it. The one backward pass: eager gradients
/// read the graph's record, a session run its own values.
pub(crate) fn backprop<R: std::borrow::Borrow<Recorded>>(
    steps: &[Step<R>],
    loss: (usize, usize),
    loss_value: &Value,
    wrt: &[((usize, usize), DType, &[usize])],
) -> Result<Vec<Value>> {
    // Only nodes on a path from a `wrt` tensor to the loss need work.
    let targets: HashSet<usize> = wrt.iter().map(|(k, _, _)| k.0).collect();
    let mut needed: HashSet<usize> = HashSet::new();
    for s in steps.iter().rev() {
        if targets.contains(&s.index) || s.inputs.iter().any(|t| needed.contains(&t.0)) {
            needed.insert(s.index);
        }
    }
    let mut grads: HashMap<(usize, usize), Value> = HashMap::new();
    grads.insert(loss, Value::filled(loss_value.dtype(), loss_value.shape(), 1.0)?);
    for s in steps {
        let Some(rec) = &s.rec else { continue };
        let rec = rec.borrow();
        if !needed.contains(&s.index) {
            continue;
        }
        let outs: Vec<Option<Value>> = (0..rec.outputs.len()).map(|i| grads.remove(&(s.index, i))).collect();
        if outs.iter().all(Option::is_none) {
            continue;
        }
        let need: Vec<bool> = s.inputs.iter().map(|t| needed.contains(&t.0)).collect();
        // Outputs that are themselves targets keep their gradient.
        let kept = targets.contains(&s.index).then(|| outs.clone());
        let ins = grad::backward(rec, outs, &need)?;
        for (&key, g) in s.inputs.iter().zip(ins) {
            let (Some(g), true) = (g, needed.contains(&key.0)) else { continue };
            let sum = match grads.get(&key) {
                Some(prev) => add_values(prev, &g)?,
                None => g,
            };
            grads.insert(key, sum);
        }
        if let Some(outs) = kept {
            for (i, g) in outs.into_iter().enumerate() {
                if let Some(g) = g {
                    grads.insert((s.index, i), g);
                }
            }
        }
    }
    wrt.iter()
        .map(|(key, dtype, shape)| match grads.get(key) {
            Some(g) => Ok(g.clone()),
            None => Value::filled(*dtype, shape, 0.0),
        })
        .collect()
}

/// Refuses a loss that is not a float scalar, or a non-float `wrt`.
pub(crate) fn check_gradient_args(loss_name: &str, loss: &Value, wrt: &[(&str, DType)]) -> Result<()> {
    if loss.len() != 1 || !loss.dtype().is_float() {
        return Err(Error::invalid(format!(
            "gradients of `{loss_name}`: the loss must be a float scalar, found {} of shape {}: \
             reduce it first (for example with `reduce_sum` or `reduce_mean`)",
            loss.dtype(),
            fmt_shape(loss.shape())
        )));
    }
    if let Some((name, dtype)) = wrt.iter().find(|(_, d)| !d.is_float()) {
        return Err(Error::invalid(format!(
            "gradients of `{loss_name}` with respect to `{name}`: only float tensors have gradients, found {dtype}"
        )));
    }
    Ok(())
}

/// A tensor's key in the backward pass: its node and output index.
pub(crate) fn key(t: &Tensor) -> (usize, usize) {
    (t.node(), output_index(t))
}

impl Graph {
    /// The gradients of the scalar `loss` with respect to each tensor of
    /// `wrt` (usually variables), by reverse-mode autodiff over the recorded
    /// ops (TF's `tf.gradients(loss, wrt)`), as values. A tensor `loss` does not depend
    /// on gets zeros (TF would give `None`). [`Scope::gradients`](crate::Scope::gradients) records
    /// them as a node instead, so a [`Session`](crate::Session) computes
    /// them again in every run.
    ///
    /// ```
    /// use varscope::{Graph, Init, VarSpec};
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(3.0)))?;
    /// // Shared weights: w is used twice, so its gradient is the sum 2w + 1.
    /// let sq = cx.mul(&w, &w)?;
    /// let loss = cx.add(&sq, &w)?;
    /// let grads = graph.gradients(&loss, &[&w])?;
    /// assert_eq!(grads[0].to_f64_vec(), vec![7.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn gradients(&self, loss: &Tensor, wrt: &[&Tensor]) -> Result<Vec<Value>> {
        let loss_name = loss.name();
        {
            let state = self.state();
            let what = format!("gradients of `{loss_name}`");
            for t in std::iter::once(loss).chain(wrt.iter().copied()) {
                state.check_input(self, &what, t)?;
            }
        }
        let named: Vec<(&str, DType)> = wrt.iter().map(|t| (t.name(), t.dtype())).collect();
        check_gradient_args(loss_name, &loss.value(), &named)?;
        let steps = self.steps_from(loss)?;
        let wrt: Vec<((usize, usize), DType, &[usize])> = wrt.iter().map(|t| (key(t), t.dtype(), t.shape())).collect();
        backprop(&steps, key(loss), &loss.value(), &wrt)
    }

    /// The nodes `loss` depends on, latest first, copied out of the graph so
    /// the backward pass runs without holding its lock.
    fn steps_from(&self, loss: &Tensor) -> Result<Vec<Step<Recorded>>> {
        let state = self.state();
        if !state.nodes.contains_key(&loss.node()) {
            return Err(Error::invalid(format!(
                "gradients of `{}`: its op was removed by `clear_ops`: build the loss again after clearing",
                loss.name()
            )));
        }
        let mut seen = HashSet::from([loss.node()]);
        let mut stack = vec![loss.node()];
        let mut steps = Vec::new();
        while let Some(index) = stack.pop() {
            let Some(node) = state.nodes.get(&index) else { continue };
            for t in &node.inputs {
                if seen.insert(t.node()) {
                    stack.push(t.node());
                }
            }
            let inputs = node.inputs.iter().map(key).collect();
            steps.push(Step { index, inputs, rec: node.grad.as_deref().cloned() });
        }
        // Inputs always precede their op, so descending indices are a
        // reverse topological order.
        steps.sort_by_key(|s| std::cmp::Reverse(s.index));
        Ok(steps)
    }

    /// One step of gradient descent on `var`: `var -= learning_rate * grad`
    /// (TF's `ApplyGradientDescent`); `grad` must have the variable's dtype
    /// and shape.
    pub fn apply_gradient_descent(&self, var: &Variable, learning_rate: f64, grad: &Value) -> Result<()> {
        if !self.owns(var) {
            return Err(Error::ForeignTensor {
                op: "apply_gradient_descent".to_string(),
                tensor: var.name().to_string(),
            });
        }
        if grad.dtype() != var.dtype() || grad.shape() != var.shape() {
            return Err(Error::invalid(format!(
                "cannot apply a {} gradient of shape {} to variable `{}` ({} of shape {}): \
                 pass the gradient `gradients` computed for this variable",
                grad.dtype(),
                fmt_shape(grad.shape()),
                var.op_name(),
                var.dtype(),
                fmt_shape(var.shape())
            )));
        }
        let next = match (var.value(), grad) {
            (Value::F32(v), Value::F32(g)) => {
                let lr = learning_rate as f32;
                Value::F32((&v - &g.mapv(|x| x * lr)).into_shared())
            }
            (Value::F64(v), Value::F64(g)) => Value::F64((&v - &g.mapv(|x| x * learning_rate)).into_shared()),
            _ => {
                return Err(Error::invalid(format!(
                    "variable `{}` is {}: gradient descent needs a float variable",
                    var.op_name(),
                    var.dtype()
                )));
            }
        };
        var.assign(next)
    }

    /// Differentiates `loss` with respect to every trainable float variable
    /// and takes one gradient-descent step on each (TF's
    /// `GradientDescentOptimizer(learning_rate).minimize(loss)`). Returns the
    /// gradients, in the order of [`Graph::trainable_variables`] without the
    /// integer ones (an `int32` step counter is trainable by default, and TF
    /// skips it too).
    pub fn minimize(&self, loss: &Tensor, learning_rate: f64) -> Result<Vec<Value>> {
        let mut vars = self.trainable_variables();
        vars.retain(|v| v.dtype().is_float());
        let wrt: Vec<&Tensor> = vars.iter().map(|v| v.tensor()).collect();
        let grads = self.gradients(loss, &wrt)?;
        for (v, g) in vars.iter().zip(&grads) {
            self.apply_gradient_descent(v, learning_rate, g)?;
        }
        Ok(grads)
    }

    /// Removes every recorded op node, keeping the variables, and returns how
    /// many nodes went.
    ///
    /// The record holds every intermediate value for [`Graph::gradients`];
    /// call this between training steps so a loop that rebuilds its forward
    /// pass does not grow without bound. The names of the removed ops (and of
    /// name scopes that hold no variable) become free again, so each step
    /// names its ops alike. Tensors made before keep their values but are no
    /// longer connected: differentiate only tensors built after the last
    /// clear. Scopes should be closed (back at the root) when clearing.
    pub fn clear_ops(&self) -> usize {
        self.state().clear_ops()
    }
}
