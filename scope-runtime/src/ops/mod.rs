//! Ops: computed eagerly on `ndarray` and recorded in the graph.
//!
//! Every op goes through `Scope::record_op`, which follows TensorFlow's
//! order of events: the name is taken first (so a refused op still uses up
//! its name), then inputs of another graph, or made before the last
//! [`Graph::clear_ops`](crate::Graph::clear_ops), are refused, then the inputs'
//! dtypes are validated, then the node name is checked (valid, not a
//! duplicate), then the value is computed without the graph's lock (shape
//! errors; an output over [`MAX_ELEMENTS`](crate::MAX_ELEMENTS) is refused),
//! and finally the node is recorded with its inputs, the input and output
//! values and the op's attributes, which [`Graph::gradients`](crate::Graph::gradients)
//! differentiates.
//!
//! Op methods live on [`Scope`] and take `&self`, so calls nest as in the TF
//! code they port (`cx.relu(&cx.add(&cx.matmul(&x, &w)?, &b)?)`); an explicit
//! name is given with [`Scope::named`]. The families:
//!
//! - `basic`: `Const`, `Identity`;
//! - `math`: elementwise `AddV2`, `Sub`, `Mul`, `RealDiv`, `Pow` with
//!   broadcasting and `Neg`, `Exp`, `Log`, `Sqrt`, `Relu`, `Sigmoid`, `Tanh`;
//! - `linalg`: `MatMul` (with transposes), `BatchMatMulV2`;
//! - `nn`: `BiasAdd`, `Conv2D`, `MaxPool`, `AvgPool`, `Softmax`,
//!   `LogSoftmax`, `SigmoidCrossEntropyWithLogits`,
//!   `SoftmaxCrossEntropyWithLogits`;
//! - `reduce`: `Sum`, `Mean`, `Max`;
//! - `shape`: `Reshape`, `Transpose`, `ConcatV2`, `Split`, `Slice`, `GatherV2`;
//! - `layer_ops`: `Abs`, `Square`, `LeakyRelu`, `Elu`, `Softplus`, `StopGradient`, `Equal`,
//!   `ArgMax`, `ArgMin`, `OneHot`, `Squeeze`, `ExpandDims`, `ReverseSequence`;
//! - `train_ops`: `Cast`, `Minimum`, `Maximum`, `Floor`, `ScatterUpdate`, `ScatterAdd`,
//!   `ScatterSub`, `Unique`, `UnsortedSegmentSum`.

use std::fmt::Debug;
use std::ops::{Add, Mul, Sub};

use ndarray::{ArcArray, Array3, ArrayD, ArrayView3, ArrayViewD, Axis, IxDyn, LinalgScalar};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels;
use crate::record::Recorded;
pub(crate) use crate::record::{BinaryOp, ExtraOp, LinalgOp, MathOp, NnOp, Op, ReduceOp, ShapeOp, TrainOp, UnaryOp};
use crate::scope::Scope;
use crate::tensor::{Origin, Tensor, Value};

/// Calls the generic `$f::<T>` for a float dtype, refusing others.
macro_rules! float_dispatch {
    ($dtype:expr, $op:expr, $node:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $dtype {
            $crate::dtype::DType::F32 => $f::<f32>($($arg),*),
            $crate::dtype::DType::F64 => $f::<f64>($($arg),*),
            other => Err($crate::ops::unsupported($op, $node, other, "float32 or float64")),
        }
    };
}

/// Calls the generic `$f::<T>` for any dtype.
macro_rules! any_dispatch {
    ($dtype:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $dtype {
            $crate::dtype::DType::F32 => $f::<f32>($($arg),*),
            $crate::dtype::DType::F64 => $f::<f64>($($arg),*),
            $crate::dtype::DType::I32 => $f::<i32>($($arg),*),
            $crate::dtype::DType::I64 => $f::<i64>($($arg),*),
        }
    };
}

mod basic;
mod export;
mod extra;
pub(crate) mod grad;
mod layer_ops;
mod linalg;
mod math;
mod nn;
mod reduce;
mod regularizers;
mod shape;
mod train_ops;

pub use crate::kernels::Padding;
pub use basic::{ControlDependencies, broadcast_shapes};
pub use export::{AttrValue, NodeDetails};
pub(crate) use nn::conv2d_bias_relu;
pub use reduce::Axes;

/// How TensorFlow names an op.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Naming {
    /// Through a Python wrapper's `name_scope(name, default)` and then
    /// `_apply_op_helper` (`tf.add`, `tf.matmul`, `tf.transpose`, ...): an
    /// explicit `""` resets that scope to the root, where the op is named by
    /// its type.
    Scoped {
        /// The default name (`add`, `MatMul`, ...).
        default: &'static str,
    },
    /// By `_apply_op_helper` alone, with no wrapper scope (`tf.nn.relu`,
    /// `tf.identity`, `tf.multiply`, `tf.nn.conv2d`, ...): an explicit `""`
    /// names the op by its type in the current name scope.
    Helper {
        /// The default name (`mul`, `Relu`, ...).
        default: &'static str,
    },
    /// Inside the wrapper scope `name_scope(name or default)`, an op named
    /// `name` (or `default`) again (`xent/xent`, as
    /// `tf.nn.sparse_softmax_cross_entropy_with_logits` names its op).
    Nested {
        /// The default name of the scope and of the op.
        default: &'static str,
    },
    /// Directly by `Graph.unique_name`, as `tf.constant`.
    Direct {
        /// The default name (`Const`).
        default: &'static str,
    },
}

impl Scope {
    /// Records a one-output op: names it, validates its input tensors, checks
    /// the node name, computes its value with [`forward`] and adds the node.
    ///
    /// `validate` gets the full node name, for error messages.
    pub(crate) fn record_op(
        &self,
        naming: Naming,
        op: impl Into<Op>,
        inputs: &[&Tensor],
        validate: impl FnOnce(&str) -> Result<()>,
    ) -> Result<Tensor> {
        let op = op.into();
        let op_type = op.op_type();
        let mut outputs = self.record_outputs(naming, op, inputs, validate)?;
        first_output(op_type, &mut outputs)
    }

    /// Records an op with any number of outputs (`Split`), computed with [`forward`].
    pub(crate) fn record_outputs(
        &self,
        naming: Naming,
        op: impl Into<Op>,
        inputs: &[&Tensor],
        validate: impl FnOnce(&str) -> Result<()>,
    ) -> Result<Vec<Tensor>> {
        let op = op.into();
        self.record_resolved(naming, op.op_type(), inputs, validate, |_, _| Ok(op))
    }

    /// Records an op whose attributes are resolved once its node is named and
    /// its input values are known (a normalised axis): `resolve` returns the
    /// op, whose outputs [`forward`] computes.
    pub(crate) fn record_resolved<R: Into<Op>>(
        &self,
        naming: Naming,
        op_type: &'static str,
        inputs: &[&Tensor],
        validate: impl FnOnce(&str) -> Result<()>,
        resolve: impl FnOnce(&str, &[Value]) -> Result<R>,
    ) -> Result<Vec<Tensor>> {
        self.record_computed(naming, op_type, inputs, validate, |node, values| {
            let op = resolve(node, values)?.into();
            Ok((forward(&op, node, values)?, op))
        })
    }

    /// Records an op whose attributes depend on its inputs (a normalised
    /// axis): `compute` returns the output values and the resolved op, which
    /// must be what [`forward`] computes those values from. `op_type` names
    /// the op before it is resolved; it must be the resolved op's
    /// [`Op::op_type`] (a mismatch is an internal error).
    pub(crate) fn record_computed(
        &self,
        naming: Naming,
        op_type: &'static str,
        inputs: &[&Tensor],
        validate: impl FnOnce(&str) -> Result<()>,
        compute: impl FnOnce(&str, &[Value]) -> Result<(Vec<Value>, Op)>,
    ) -> Result<Vec<Tensor>> {
        let graph = self.graph().clone();
        let node = {
            let mut g = graph.state();
            let node = match naming {
                Naming::Scoped { default } => self.scoped_op_name(&mut g, default, op_type, true),
                Naming::Helper { default } => self.scoped_op_name(&mut g, default, op_type, false),
                Naming::Direct { default } => Ok(self.direct_op_name(&mut g, default)),
                Naming::Nested { default } => {
                    let explicit = self.next_name.take();
                    let leaf = explicit.as_deref().filter(|n| !n.is_empty()).unwrap_or(default).to_string();
                    self.next_name.set(explicit);
                    self.scoped_op_name(&mut g, default, op_type, true).map(|stack| g.unique_name(&stack, &leaf))
                }
            };
            let node = match node {
                Ok(node) => node,
                Err(e) => {
                    self.next_name.set(None);
                    return Err(e);
                }
            };
            let what = format!("op `{node}` ({op_type})");
            for t in inputs {
                g.check_input(&graph, &what, t)?;
            }
            // Reserved until recorded, so `clear_ops` on another thread
            // cannot hand the name out again meanwhile.
            g.begin_op(&node);
            node
        };
        let result = compute_outputs(&graph, &node, op_type, inputs, validate, compute);
        let mut g = graph.state();
        g.end_op(&node);
        let (values, outputs, op) = result?;
        if op.op_type() != op_type {
            return Err(Error::internal(format!("op `{node}` was named as {op_type} but computed as {op:?}")));
        }
        // Another thread may have taken an exact name, or cleared the graph.
        g.check_new_node(&node)?;
        let what = format!("op `{node}` ({op_type})");
        for t in inputs {
            g.check_input(&graph, &what, t)?;
        }
        let mut outputs = outputs.into_iter();
        let Some(first) = outputs.next() else {
            return Err(Error::internal(format!("op `{node}` ({op_type}) made no output")));
        };
        let input_tensors = inputs.iter().map(|t| (*t).clone()).collect();
        let tensor = g.add_node(graph.downgrade(), node.clone(), op_type, input_tensors, Origin::Op, first.clone());
        let index = tensor.node();
        let mut tensors = vec![tensor];
        let mut kept = vec![first];
        for (i, value) in outputs.enumerate() {
            let name = format!("{node}:{}", i + 1);
            tensors.push(Tensor::output(graph.downgrade(), g.epoch, index, name, Origin::Op, value.clone()));
            kept.push(value);
        }
        if let Some(n) = g.nodes.get_mut(&index) {
            n.grad = Some(Box::new(Recorded { op, inputs: values, outputs: kept }));
            n.control = self.control.borrow().clone();
        }
        Ok(tensors)
    }
}

/// The first of an op's outputs.
pub(crate) fn first_output(op_type: &str, outputs: &mut Vec<Tensor>) -> Result<Tensor> {
    if outputs.is_empty() {
        return Err(Error::internal(format!("op {op_type} made no output")));
    }
    Ok(outputs.swap_remove(0))
}

/// An op's outputs computed from its inputs' values: the one definition the
/// eager op methods and [`Session::run`](crate::Session::run) share. Every
/// check that depends on values (shapes, index ranges) is made here, so a
/// run with new feeds is refused as the build would have been. Ops whose
/// value is not a function of their inputs (`Const`, `Placeholder`,
/// assignments, gradients) are computed by their callers.
pub(crate) fn forward(op: &Op, node: &str, v: &[Value]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(1);
    forward_into(op, node, v, &mut out)?;
    Ok(out)
}

/// [`forward`], appending the outputs to `out` (a session keeps every value
/// of a run in one buffer, so a run of small ops allocates less).
pub(crate) fn forward_into(op: &Op, node: &str, v: &[Value], out: &mut Vec<Value>) -> Result<()> {
    let op_type = op.op_type();
    match op {
        Op::Identity => out.push(arg(op_type, node, v, 0)?.clone()),
        Op::Group => out.push(Value::filled(DType::F32, &[0], 0.0)?),
        Op::Placeholder { with_default: true } => out.push(arg(op_type, node, v, 0)?.clone()),
        Op::Const | Op::Placeholder { with_default: false } | Op::Gradients => {
            return Err(Error::internal(format!(
                "op `{node}` ({op_type}) has no value of its own inputs: it is computed where it is run"
            )));
        }
        Op::Assign(kind) => out.push(basic::assigned(*kind, op_type, node, v)?),
        Op::Math(op) => out.push(math::forward(op, node, v)?),
        Op::Linalg(op) => out.push(linalg::forward(op, node, v)?),
        Op::Nn(op) => nn::forward(op, node, v, out)?,
        Op::Reduce(op) => out.push(reduce::forward(op, node, v)?),
        Op::Shape(op) => shape::forward(op, node, v, out)?,
        Op::Extra(op) => extra::forward(op, node, v, out)?,
        Op::Train(op) => train_ops::forward(op, node, v, out)?,
        Op::Layer(op) => out.push(layer_ops::forward(op, node, v)?),
    }
    Ok(())
}

/// An internal error from a failure that the checks before it rule out (an
/// ndarray shape error after the shapes were validated).
pub(crate) fn internal(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("{e}"))
}

/// Input `i` of an op, or an internal error if the record has fewer.
pub(crate) fn arg<'a>(op_type: &'static str, node: &str, v: &'a [Value], i: usize) -> Result<&'a Value> {
    v.get(i).ok_or_else(|| Error::internal(format!("op `{node}` ({op_type}) has no input {i}")))
}

/// Refuses two input values of different dtypes.
pub(crate) fn same_value_dtype(op: &'static str, node: &str, a: &Value, b: &Value) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(Error::IncompatibleDTypes { op, node: node.to_string(), lhs: a.dtype(), rhs: b.dtype() });
    }
    Ok(())
}

/// The part of recording an op that runs without the graph lock: validation,
/// checking the node name, and the computation itself.
fn compute_outputs(
    graph: &crate::graph::Graph,
    node: &str,
    op_type: &'static str,
    inputs: &[&Tensor],
    validate: impl FnOnce(&str) -> Result<()>,
    compute: impl FnOnce(&str, &[Value]) -> Result<(Vec<Value>, Op)>,
) -> Result<(Vec<Value>, Vec<Value>, Op)> {
    validate(node)?;
    graph.state().check_new_node(node)?;
    // Snapshots: a variable's value may be assigned later, but the
    // gradient must see the values this op computed with.
    let values: Vec<Value> = inputs.iter().map(|t| t.value()).collect();
    let (outputs, op) = compute(node, &values)?;
    for v in &outputs {
        if crate::tensor::checked_len(v.shape()).is_none() {
            return Err(crate::tensor::too_large(&format!("op `{node}` ({op_type})"), v.shape()));
        }
    }
    Ok((values, outputs, op))
}

/// Which output of its node a tensor is (the `i` of `node:i`).
pub(crate) fn output_index(t: &Tensor) -> usize {
    t.name().rsplit(':').next().and_then(|i| i.parse().ok()).unwrap_or(0)
}

/// Refuses two inputs of different dtypes.
pub(crate) fn same_dtype(op: &'static str, node: &str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(Error::IncompatibleDTypes { op, node: node.to_string(), lhs: a.dtype(), rhs: b.dtype() });
    }
    Ok(())
}

/// Refuses a non-float input.
pub(crate) fn float_only(op: &'static str, node: &str, t: &Tensor) -> Result<()> {
    if t.dtype().is_float() { Ok(()) } else { Err(unsupported(op, node, t.dtype(), "float32 or float64")) }
}

/// The error for an input dtype an op does not support.
pub(crate) fn unsupported(op: &'static str, node: &str, dtype: DType, supported: &'static str) -> Error {
    Error::UnsupportedDType { op, node: node.to_string(), dtype, supported }
}

/// The error for two input shapes that do not fit.
pub(crate) fn shapes_error(
    op: &'static str,
    node: &str,
    lhs: &[usize],
    rhs: &[usize],
    reason: impl Into<String>,
) -> Error {
    Error::IncompatibleShapes {
        op,
        node: node.to_string(),
        lhs: lhs.to_vec(),
        rhs: rhs.to_vec(),
        reason: reason.into(),
    }
}

/// Any other refused op argument; `message` says what to do.
pub(crate) fn op_error(op: &'static str, node: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("op `{node}` ({op}): {message}"))
}

/// An element type tensors can hold.
pub(crate) trait Elem: Copy + Send + Sync + Debug + PartialOrd + LinalgScalar {
    /// The matching dtype.
    const DTYPE: DType;
    /// The typed array inside `v`, if it has this dtype.
    fn get(v: &Value) -> Option<&ArcArray<Self, IxDyn>>;
    /// The typed array of `v` by value (no copy when `v` holds the only handle), or `v` back.
    fn take(v: Value) -> std::result::Result<ArrayD<Self>, Value>;
    /// Wraps an array as a value.
    fn wrap(a: ArrayD<Self>) -> Value;
    /// The smallest value (`-inf` for floats), the identity of `max`.
    fn lowest() -> Self;
    /// `op(a[i]) · op(b[i])` for each `i` of two equal batches, transposing where asked;
    /// shapes were checked.
    fn gemm(a: ArrayView3<'_, Self>, ta: bool, b: ArrayView3<'_, Self>, tb: bool) -> Result<Array3<Self>>;
    /// `a + b`; integers wrap around as in TensorFlow (never a panic).
    fn plus(self, b: Self) -> Self;
    /// `a - b`; integers wrap around.
    fn minus(self, b: Self) -> Self;
    /// `a * b`; integers wrap around.
    fn times(self, b: Self) -> Self;
    /// The sum along `axis`; integers wrap around.
    fn sum_axis(a: &ArrayD<Self>, axis: Axis) -> ArrayD<Self>;
}

/// A float element type: every differentiable op computes in one, on the
/// kernels (`kernels::Float`), so generic op code calls them directly.
pub(crate) trait Float: Elem + kernels::Float {
    /// Converts an `f64` constant.
    fn c(x: f64) -> Self;
}

impl Float for f32 {
    fn c(x: f64) -> Self {
        x as f32
    }
}

impl Float for f64 {
    fn c(x: f64) -> Self {
        x
    }
}

macro_rules! elem {
    ($t:ty, $variant:ident, $lowest:expr, $gemm:expr, $plus:ident, $minus:ident, $times:ident, $sum:expr) => {
        impl Elem for $t {
            const DTYPE: DType = DType::$variant;
            fn get(v: &Value) -> Option<&ArcArray<Self, IxDyn>> {
                match v {
                    Value::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn take(v: Value) -> std::result::Result<ArrayD<Self>, Value> {
                match v {
                    Value::$variant(a) => Ok(a.into_owned()),
                    other => Err(other),
                }
            }
            fn wrap(a: ArrayD<Self>) -> Value {
                Value::$variant(a.into_shared())
            }
            fn lowest() -> Self {
                $lowest
            }
            fn gemm(a: ArrayView3<'_, Self>, ta: bool, b: ArrayView3<'_, Self>, tb: bool) -> Result<Array3<Self>> {
                $gemm(a, ta, b, tb)
            }
            fn plus(self, b: Self) -> Self {
                <$t>::$plus(self, b)
            }
            fn minus(self, b: Self) -> Self {
                <$t>::$minus(self, b)
            }
            fn times(self, b: Self) -> Self {
                <$t>::$times(self, b)
            }
            fn sum_axis(a: &ArrayD<Self>, axis: Axis) -> ArrayD<Self> {
                $sum(a, axis)
            }
        }
    };
}
elem!(f32, F32, f32::NEG_INFINITY, kernel_gemm::<f32>, add, sub, mul, |a: &ArrayD<f32>, ax| a.sum_axis(ax));
elem!(f64, F64, f64::NEG_INFINITY, kernel_gemm::<f64>, add, sub, mul, |a: &ArrayD<f64>, ax| a.sum_axis(ax));
elem!(i32, I32, i32::MIN, int_gemm, wrapping_add, wrapping_sub, wrapping_mul, |a: &ArrayD<i32>, ax| a.fold_axis(
    ax,
    0i32,
    |&s: &i32, &v| s.wrapping_add(v)
));
elem!(i64, I64, i64::MIN, int_gemm, wrapping_add, wrapping_sub, wrapping_mul, |a: &ArrayD<i64>, ax| a.fold_axis(
    ax,
    0i64,
    |&s: &i64, &v| s.wrapping_add(v)
));

/// Float products run on the GEMM kernel (AVX-512 where available).
fn kernel_gemm<T: kernels::Float>(a: ArrayView3<'_, T>, ta: bool, b: ArrayView3<'_, T>, tb: bool) -> Result<Array3<T>> {
    kernels::batch_matmul(a, b, ta, tb).map_err(|e| Error::internal(format!("{e}")))
}

/// Integer products, wrapping around on overflow as TensorFlow's do.
fn int_gemm<T: Elem>(a: ArrayView3<'_, T>, ta: bool, b: ArrayView3<'_, T>, tb: bool) -> Result<Array3<T>> {
    let a = if ta { a.permuted_axes([0, 2, 1]) } else { a };
    let b = if tb { b.permuted_axes([0, 2, 1]) } else { b };
    let ((n, m, k), p) = (a.dim(), b.dim().2);
    Ok(Array3::from_shape_fn((n, m, p), |(i, r, c)| {
        (0..k).fold(T::zero(), |s, l| s.plus(a[[i, r, l]].times(b[[i, l, c]])))
    }))
}

/// The typed array of `v`; the dtype was validated before, so a mismatch is
/// an internal error, reported rather than panicking.
pub(crate) fn typed<T: Elem>(v: &Value) -> Result<&ArcArray<T, IxDyn>> {
    T::get(v).ok_or_else(|| Error::internal(format!("expected a {} value, found {}", T::DTYPE, v.dtype())))
}

/// Sums `g` (of a broadcast shape) down to `shape`, undoing broadcasting
/// ([`kernels::reduce_to_shape`]; `g` itself when nothing was broadcast).
pub(crate) fn unbroadcast<T: Float>(g: ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>> {
    if g.shape() == shape {
        return Ok(g);
    }
    kernels::reduce_to_shape(g.view(), shape).map_err(|e| Error::internal(format!("{e}")))
}

/// [`unbroadcast`] of a borrowed gradient (the kernel sums from the view; a copy only when
/// nothing is summed).
pub(crate) fn unbroadcast_view<T: Float>(g: ArrayViewD<'_, T>, shape: &[usize]) -> Result<ArrayD<T>> {
    if g.shape() == shape {
        return Ok(g.to_owned());
    }
    kernels::reduce_to_shape(g, shape).map_err(|e| Error::internal(format!("{e}")))
}

/// A possibly negative axis of a rank-`rank` tensor, as an index.
pub(crate) fn norm_axis(op: &'static str, node: &str, axis: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    if axis < -r || axis >= r {
        return Err(op_error(
            op,
            node,
            format!("axis {axis} is out of range for a tensor of rank {rank}: use an axis in [-{rank}, {rank})"),
        ));
    }
    Ok(if axis < 0 { (axis + r) as usize } else { axis as usize })
}
