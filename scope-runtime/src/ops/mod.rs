//! Ops: computed eagerly on `ndarray` and recorded in the graph.
//!
//! Every op goes through `Scope::record_op`, which follows TensorFlow's
//! order of events: the name is taken first (so a refused op still uses up
//! its name), then the inputs' dtypes are validated, then the node name is
//! checked (valid, not a duplicate), then the value is computed (shape errors),
//! and finally the node is recorded with its inputs, the input and output
//! values and the op's attributes, which [`Graph::gradients`](crate::Graph::gradients)
//! differentiates.
//!
//! Op methods live on [`Scope`]; an explicit name is given with
//! [`Scope::named`]. The families:
//!
//! - `basic`: `Const`, `Identity`;
//! - `math`: elementwise `AddV2`, `Sub`, `Mul`, `RealDiv`, `Pow` with
//!   broadcasting and `Neg`, `Exp`, `Log`, `Sqrt`, `Relu`, `Sigmoid`, `Tanh`;
//! - `linalg`: `MatMul` (with transposes), `BatchMatMulV2`;
//! - `nn`: `BiasAdd`, `Conv2D`, `MaxPool`, `AvgPool`, `Softmax`,
//!   `LogSoftmax`, `SigmoidCrossEntropyWithLogits`,
//!   `SoftmaxCrossEntropyWithLogits`;
//! - `reduce`: `Sum`, `Mean`, `Max`;
//! - `shape`: `Reshape`, `Transpose`, `ConcatV2`, `Split`, `Slice`, `GatherV2`.

use std::fmt::Debug;
use std::sync::{Arc, RwLock};

use ndarray::{ArcArray, Array2, Array4, ArrayD, ArrayView2, ArrayView4, Axis, IxDyn, LinalgScalar, NdFloat};

use crate::autodiff::Recorded;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::{self, KResult};
use crate::scope::Scope;
use crate::tensor::{Origin, Tensor, TensorInner, Value};

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
        }
    };
}

mod basic;
mod export;
pub(crate) mod grad;
mod linalg;
mod math;
mod nn;
mod reduce;
mod shape;

pub use crate::kernels::Padding;
pub use basic::broadcast_shapes;
pub use export::{AttrValue, NodeDetails};
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
    /// Directly by `Graph.unique_name`, as `tf.constant`.
    Direct {
        /// The default name (`Const`).
        default: &'static str,
    },
}

/// What an op did, with the attributes its gradient needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Const,
    Identity,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Neg,
    Exp,
    Log,
    Sqrt,
    Relu,
    Sigmoid,
    Tanh,
    Softmax,
    LogSoftmax,
    BiasAdd,
    MatMul { transpose_a: bool, transpose_b: bool },
    BatchMatMul { adj_x: bool, adj_y: bool },
    Conv2D(nn::Window),
    MaxPool(nn::Window),
    AvgPool(nn::Window),
    Sum { axes: Vec<usize>, keepdims: bool },
    Mean { axes: Vec<usize>, keepdims: bool },
    Max { axes: Vec<usize>, keepdims: bool },
    Reshape,
    Transpose { perm: Vec<usize> },
    Concat { axis: usize },
    Split { axis: usize },
    Slice { begin: Vec<usize> },
    Gather { axis: usize },
    SigmoidXent,
    SoftmaxXent,
}

impl Scope {
    /// Records a one-output op: names it, validates its inputs, checks the
    /// node name, computes its value from the inputs' values and adds the node.
    ///
    /// `validate` and `compute` get the full node name, for error messages.
    pub(crate) fn record_op(
        &mut self,
        naming: Naming,
        op_type: &'static str,
        op: Op,
        inputs: &[&Tensor],
        validate: impl FnOnce(&str) -> Result<()>,
        compute: impl FnOnce(&str, &[Value]) -> Result<Value>,
    ) -> Result<Tensor> {
        let mut outputs = self
            .record_outputs(naming, op_type, inputs, validate, |node, values| Ok((vec![compute(node, values)?], op)))?;
        outputs.pop().ok_or_else(|| Error::invalid(format!("op {op_type} made no output")))
    }

    /// Records an op with any number of outputs (`Split`); `compute` returns
    /// the output values and the op's attributes.
    pub(crate) fn record_outputs(
        &mut self,
        naming: Naming,
        op_type: &'static str,
        inputs: &[&Tensor],
        validate: impl FnOnce(&str) -> Result<()>,
        compute: impl FnOnce(&str, &[Value]) -> Result<(Vec<Value>, Op)>,
    ) -> Result<Vec<Tensor>> {
        let graph = self.graph().clone();
        let graph_id = graph.id();
        let node = {
            let mut g = graph.state();
            if let Some(foreign) = inputs.iter().find(|t| t.graph_id() != graph_id) {
                self.next_name = None;
                return Err(Error::invalid(format!(
                    "input `{}` of a {op_type} op belongs to another graph: build every input in this graph",
                    foreign.name()
                )));
            }
            let node = match naming {
                Naming::Scoped { default } => self.scoped_op_name(&mut g, default, op_type, true)?,
                Naming::Helper { default } => self.scoped_op_name(&mut g, default, op_type, false)?,
                Naming::Direct { default } => self.direct_op_name(&mut g, default),
            };
            drop(g);
            validate(&node)?;
            graph.state().check_new_node(&node)?;
            node
        };
        // Snapshots: a variable's value may be assigned later, but the
        // gradient must see the values this op computed with.
        let values: Vec<Value> = inputs.iter().map(|t| t.value()).collect();
        let (outputs, op) = compute(&node, &values)?;
        let Some(first) = outputs.first().cloned() else {
            return Err(Error::invalid(format!("op `{node}` ({op_type}) made no output")));
        };
        let mut g = graph.state();
        // Another thread may have taken an exact name meanwhile.
        g.check_new_node(&node)?;
        let input_tensors = inputs.iter().map(|t| (*t).clone()).collect();
        let tensor = g.add_node(graph_id, node.clone(), op_type, input_tensors, Origin::Op, first);
        let index = tensor.node();
        let mut tensors = vec![tensor];
        for (i, value) in outputs.iter().enumerate().skip(1) {
            tensors.push(extra_output(graph_id, index, &node, i, value.clone()));
        }
        if let Some(n) = g.nodes.get_mut(&index) {
            n.grad = Some(Box::new(Recorded { op, inputs: values, outputs }));
        }
        Ok(tensors)
    }
}

/// Output `i` (> 0) of a multi-output node: `node:i`.
fn extra_output(graph_id: u64, index: usize, node: &str, i: usize, value: Value) -> Tensor {
    Tensor {
        inner: Arc::new(TensorInner {
            graph_id,
            node: index,
            name: format!("{node}:{i}"),
            dtype: value.dtype(),
            shape: value.shape().to_vec(),
            origin: Origin::Op,
            value: RwLock::new(value),
        }),
    }
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
    /// Wraps an array as a value.
    fn wrap(a: ArrayD<Self>) -> Value;
    /// The smallest value (`-inf` for floats), the identity of `max`.
    fn lowest() -> Self;
    /// `op(a) · op(b)`, transposing where asked; shapes were checked.
    fn gemm(a: ArrayView2<'_, Self>, ta: bool, b: ArrayView2<'_, Self>, tb: bool) -> Result<Array2<Self>>;
}

/// A float element type: every differentiable op computes in one. The
/// window kernels are reached through it so generic op code needs one bound.
pub(crate) trait Float: Elem + NdFloat {
    /// Converts an `f64` constant.
    fn c(x: f64) -> Self;
    /// [`kernels::conv2d`].
    fn conv2d(x: ArrayView4<'_, Self>, f: ArrayView4<'_, Self>, s: [usize; 2], p: Padding) -> KResult<Array4<Self>>;
    /// [`kernels::conv2d_backward_input`].
    fn conv2d_backward_input(
        dy: ArrayView4<'_, Self>,
        f: ArrayView4<'_, Self>,
        input_shape: [usize; 4],
        s: [usize; 2],
        p: Padding,
    ) -> KResult<Array4<Self>>;
    /// [`kernels::conv2d_backward_filter`].
    fn conv2d_backward_filter(
        x: ArrayView4<'_, Self>,
        dy: ArrayView4<'_, Self>,
        filter_shape: [usize; 4],
        s: [usize; 2],
        p: Padding,
    ) -> KResult<Array4<Self>>;
    /// [`kernels::max_pool2d`].
    fn max_pool2d(x: ArrayView4<'_, Self>, k: [usize; 2], s: [usize; 2], p: Padding) -> KResult<Array4<Self>>;
    /// [`kernels::max_pool2d_backward`].
    fn max_pool2d_backward(
        x: ArrayView4<'_, Self>,
        dy: ArrayView4<'_, Self>,
        k: [usize; 2],
        s: [usize; 2],
        p: Padding,
    ) -> KResult<Array4<Self>>;
    /// [`kernels::avg_pool2d`].
    fn avg_pool2d(x: ArrayView4<'_, Self>, k: [usize; 2], s: [usize; 2], p: Padding) -> KResult<Array4<Self>>;
    /// [`kernels::avg_pool2d_backward`].
    fn avg_pool2d_backward(
        dy: ArrayView4<'_, Self>,
        input_shape: [usize; 4],
        k: [usize; 2],
        s: [usize; 2],
        p: Padding,
    ) -> KResult<Array4<Self>>;
}

macro_rules! float {
    ($t:ty, $c:expr) => {
        impl Float for $t {
            fn c(x: f64) -> Self {
                $c(x)
            }
            fn conv2d(
                x: ArrayView4<'_, Self>,
                f: ArrayView4<'_, Self>,
                s: [usize; 2],
                p: Padding,
            ) -> KResult<Array4<Self>> {
                kernels::conv2d(x, f, s, p)
            }
            fn conv2d_backward_input(
                dy: ArrayView4<'_, Self>,
                f: ArrayView4<'_, Self>,
                input_shape: [usize; 4],
                s: [usize; 2],
                p: Padding,
            ) -> KResult<Array4<Self>> {
                kernels::conv2d_backward_input(dy, f, input_shape, s, p)
            }
            fn conv2d_backward_filter(
                x: ArrayView4<'_, Self>,
                dy: ArrayView4<'_, Self>,
                filter_shape: [usize; 4],
                s: [usize; 2],
                p: Padding,
            ) -> KResult<Array4<Self>> {
                kernels::conv2d_backward_filter(x, dy, filter_shape, s, p)
            }
            fn max_pool2d(x: ArrayView4<'_, Self>, k: [usize; 2], s: [usize; 2], p: Padding) -> KResult<Array4<Self>> {
                kernels::max_pool2d(x, k, s, p)
            }
            fn max_pool2d_backward(
                x: ArrayView4<'_, Self>,
                dy: ArrayView4<'_, Self>,
                k: [usize; 2],
                s: [usize; 2],
                p: Padding,
            ) -> KResult<Array4<Self>> {
                kernels::max_pool2d_backward(x, dy, k, s, p)
            }
            fn avg_pool2d(x: ArrayView4<'_, Self>, k: [usize; 2], s: [usize; 2], p: Padding) -> KResult<Array4<Self>> {
                kernels::avg_pool2d(x, k, s, p)
            }
            fn avg_pool2d_backward(
                dy: ArrayView4<'_, Self>,
                input_shape: [usize; 4],
                k: [usize; 2],
                s: [usize; 2],
                p: Padding,
            ) -> KResult<Array4<Self>> {
                kernels::avg_pool2d_backward(dy, input_shape, k, s, p)
            }
        }
    };
}
float!(f32, |x: f64| x as f32);
float!(f64, |x: f64| x);

macro_rules! elem {
    ($t:ty, $variant:ident, $lowest:expr, $gemm:expr) => {
        impl Elem for $t {
            const DTYPE: DType = DType::$variant;
            fn get(v: &Value) -> Option<&ArcArray<Self, IxDyn>> {
                match v {
                    Value::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn wrap(a: ArrayD<Self>) -> Value {
                Value::$variant(a.into_shared())
            }
            fn lowest() -> Self {
                $lowest
            }
            fn gemm(a: ArrayView2<'_, Self>, ta: bool, b: ArrayView2<'_, Self>, tb: bool) -> Result<Array2<Self>> {
                $gemm(a, ta, b, tb)
            }
        }
    };
}
elem!(f32, F32, f32::NEG_INFINITY, kernel_gemm::<f32>);
elem!(f64, F64, f64::NEG_INFINITY, kernel_gemm::<f64>);
elem!(i32, I32, i32::MIN, ndarray_gemm::<i32>);

/// Float products run on the GEMM kernel (AVX-512 where available).
fn kernel_gemm<T: kernels::Float>(a: ArrayView2<'_, T>, ta: bool, b: ArrayView2<'_, T>, tb: bool) -> Result<Array2<T>> {
    kernels::matmul(a, b, ta, tb).map_err(|e| Error::invalid(format!("internal error: {e}")))
}

/// Integer products use `ndarray`'s `dot`.
fn ndarray_gemm<T: LinalgScalar>(a: ArrayView2<'_, T>, ta: bool, b: ArrayView2<'_, T>, tb: bool) -> Result<Array2<T>> {
    let a = if ta { a.reversed_axes() } else { a };
    let b = if tb { b.reversed_axes() } else { b };
    let out = a.dot(&b);
    Ok(if out.is_standard_layout() { out } else { out.as_standard_layout().into_owned() })
}

/// The typed array of `v`; the dtype was validated before, so a mismatch is
/// an internal error, reported rather than panicking.
pub(crate) fn typed<T: Elem>(v: &Value) -> Result<&ArcArray<T, IxDyn>> {
    T::get(v)
        .ok_or_else(|| Error::invalid(format!("internal error: expected a {} value, found {}", T::DTYPE, v.dtype())))
}

/// Sums `g` (of a broadcast shape) down to `shape`, undoing broadcasting.
pub(crate) fn unbroadcast<T: Elem>(g: ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    let mut r = g;
    while r.ndim() > shape.len() {
        r = r.sum_axis(Axis(0));
    }
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 && r.shape()[i] != 1 {
            r = r.sum_axis(Axis(i)).insert_axis(Axis(i));
        }
    }
    r
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
