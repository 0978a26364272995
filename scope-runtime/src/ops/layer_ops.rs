//! The elementwise, index and shape ops that models and layers reach for
//! beside the core families (the [`LayerOp`] family): `Abs`, `Square`,
//! `LeakyRelu`, `Elu`, `Softplus`, `StopGradient`, `Equal`, `ArgMax` /
//! `ArgMin`, `OneHot`, `Squeeze`, `ExpandDims` and `ReverseSequence`.
//!
//! Each has its TF op type and default name, its value in [`forward`] and its
//! gradient in [`backward`]:
//!
//! - `abs(x)`: `d/dx = sign(x)`; `square(x)`: `2x`;
//! - `leaky_relu(x)`: `1` where `x > 0`, else `alpha` (TF's `LeakyReluGrad`);
//! - `elu(x)`: `1` where `y > 0`, else `y + 1` (TF's `EluGrad`, from the output);
//! - `softplus(x) = log(1 + e^x)`, `x` itself above `-log(ε) - 2` and `e^x`
//!   below `log(ε) + 2` as TF's kernel chooses, else `ln_1p(e^x)` (within
//!   an ulp of TF, whose Eigen `exp`/`log` round differently);
//!   `d/dx = 1 / (1 + e^-x)`;
//! - `squeeze` / `expand_dims` reshape the gradient back; `reverse_sequence`
//!   reverses it as it reversed the input;
//! - `stop_gradient`, `equal`, `argmax`, `one_hot` pass none (TF registers none).

use ndarray::{ArrayD, Axis, IxDyn, Zip};

use super::basic::broadcast_shapes;
use super::math::zip2;
use super::{
    Elem, Float, Naming, arg, internal, norm_axis, op_error, same_dtype, same_value_dtype, shapes_error, typed,
};
use crate::dtype::DType;
use crate::error::{Result, fmt_shape};
use crate::record::LayerOp;
use crate::scope::Scope;
use crate::tensor::{Tensor, Value, checked_len, too_large};

impl Scope {
    fn layer_unary(&self, naming: Naming, op: LayerOp, x: &Tensor, float: bool) -> Result<Tensor> {
        let op_type = op.op_type();
        self.record_op(naming, op, &[x], |node| if float { super::float_only(op_type, node, x) } else { Ok(()) })
    }

    /// `|x|` elementwise (TF's `tf.abs`, op and default name `Abs`); for integers
    /// the smallest value stays itself, as in TF.
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![-1.5f32, 2.0]))?;
    /// assert_eq!(cx.abs(&x)?.value().to_f64_vec(), [1.5, 2.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn abs(&self, x: &Tensor) -> Result<Tensor> {
        self.layer_unary(Naming::Scoped { default: "Abs" }, LayerOp::Abs, x, false)
    }

    /// `x * x` elementwise (TF's `tf.square`, op and default name `Square`).
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![-3i32, 2]))?;
    /// assert_eq!(cx.square(&x)?.value().to_f64_vec(), [9.0, 4.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn square(&self, x: &Tensor) -> Result<Tensor> {
        self.layer_unary(Naming::Helper { default: "Square" }, LayerOp::Square, x, false)
    }

    /// `x` where `x > 0`, else `alpha * x` (TF's `tf.nn.leaky_relu`, op and
    /// default name `LeakyRelu`; TF's default `alpha` is 0.2).
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![-2.0f32, 3.0]))?;
    /// let y = cx.leaky_relu(&x, 0.25)?;
    /// assert_eq!((y.name(), y.value().to_f64_vec()), ("LeakyRelu:0", vec![-0.5, 3.0]));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn leaky_relu(&self, x: &Tensor, alpha: f64) -> Result<Tensor> {
        if !alpha.is_finite() {
            let node = self.next_name.take().unwrap_or_else(|| "LeakyRelu".to_string());
            return Err(op_error("LeakyRelu", &node, format!("alpha must be finite, got {alpha}")));
        }
        self.layer_unary(Naming::Scoped { default: "LeakyRelu" }, LayerOp::LeakyRelu { alpha }, x, true)
    }

    /// `x` where `x > 0`, else `exp(x) - 1` (TF's `tf.nn.elu`, op and default name `Elu`).
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![0.0f64, 1.0]))?;
    /// assert_eq!(cx.elu(&x)?.value().to_f64_vec(), [0.0, 1.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn elu(&self, x: &Tensor) -> Result<Tensor> {
        self.layer_unary(Naming::Helper { default: "Elu" }, LayerOp::Elu, x, true)
    }

    /// `log(1 + exp(x))` elementwise (TF's `tf.nn.softplus`, op and default
    /// name `Softplus`), without overflow for large `x`.
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![0.0f64, 1000.0]))?;
    /// assert_eq!(cx.softplus(&x)?.value().to_f64_vec(), [std::f64::consts::LN_2, 1000.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn softplus(&self, x: &Tensor) -> Result<Tensor> {
        self.layer_unary(Naming::Helper { default: "Softplus" }, LayerOp::Softplus, x, true)
    }

    /// `x` itself, through which no gradient flows (TF's `tf.stop_gradient`,
    /// op and default name `StopGradient`).
    ///
    /// ```
    /// use varscope::Graph;
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let w = cx.get_variable("w", [])?;
    /// let y = cx.add(&w, &cx.stop_gradient(&w)?)?;
    /// let g = graph.gradients(&y, &[&w])?;
    /// assert_eq!(g[0].to_f64_vec(), [1.0]); // only the first term
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn stop_gradient(&self, x: &Tensor) -> Result<Tensor> {
        self.layer_unary(Naming::Helper { default: "StopGradient" }, LayerOp::StopGradient, x, false)
    }

    /// `1` where `a == b`, else `0`, with broadcasting (TF's `tf.equal`, op
    /// and default name `Equal`). TF's output is `bool`, which varscope has
    /// not: here it has the inputs' dtype, what [`Scope::select`] takes and
    /// what `reduce_mean` turns into an accuracy.
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let a = cx.constant(Value::from(vec![1i64, 2, 3]))?;
    /// let b = cx.constant(2i64)?;
    /// assert_eq!(cx.equal(&a, &b)?.value().to_f64_vec(), [0.0, 1.0, 0.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn equal(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        const OP: &str = "Equal";
        self.record_op(Naming::Helper { default: OP }, LayerOp::Equal, &[a, b], |node| same_dtype(OP, node, a, b))
    }

    /// The index of the largest element along `axis`, the first of equal ones
    /// (TF's `tf.argmax`, op and default name `ArgMax`), as `output` (`int64`
    /// by default in TF, or `int32`). An empty axis is refused, as TF refuses it.
    ///
    /// ```
    /// use varscope::{DType, Graph, ndarray::arr2};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let logits = cx.constant(arr2(&[[0.1f32, 0.7, 0.2], [0.5, 0.1, 0.4]]).into_dyn())?;
    /// let class = cx.argmax(&logits, -1, DType::I64)?;
    /// assert_eq!((class.name(), class.dtype(), class.value().to_f64_vec()), ("ArgMax:0", DType::I64, vec![1.0, 0.0]));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn argmax(&self, x: &Tensor, axis: isize, output: DType) -> Result<Tensor> {
        self.arg_extremum(x, axis, output, false)
    }

    /// The index of the smallest element along `axis` (TF's `tf.argmin`, op
    /// and default name `ArgMin`); see [`Scope::argmax`].
    ///
    /// ```
    /// use varscope::{DType, Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![3.0f32, -1.0, -1.0]))?;
    /// assert_eq!(cx.argmin(&x, 0, DType::I32)?.value().to_f64_vec(), [1.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn argmin(&self, x: &Tensor, axis: isize, output: DType) -> Result<Tensor> {
        self.arg_extremum(x, axis, output, true)
    }

    fn arg_extremum(&self, x: &Tensor, axis: isize, output: DType, min: bool) -> Result<Tensor> {
        let op_type = if min { "ArgMin" } else { "ArgMax" };
        let mut outputs = self.record_resolved(
            Naming::Helper { default: op_type },
            op_type,
            &[x],
            |node| match output {
                DType::I32 | DType::I64 => Ok(()),
                other => Err(super::unsupported(op_type, node, other, "int32 or int64 (the output type)")),
            },
            |node, _| {
                let axis = norm_axis(op_type, node, axis, x.shape().len())?;
                Ok(LayerOp::ArgMax { axis, min, output })
            },
        )?;
        super::first_output(op_type, &mut outputs)
    }

    /// Each index of `indices` (int32 or int64) as a row of `depth` values of
    /// `dtype`: `on` at the index, `off` elsewhere, on a new `axis` (`-1`: the
    /// last). An index outside `[0, depth)` gives a row of `off`, as in TF
    /// (`tf.one_hot`: op `OneHot`, default name `one_hot`).
    ///
    /// ```
    /// use varscope::{DType, Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let labels = cx.constant(Value::from(vec![2i32, 0]))?;
    /// let y = cx.one_hot(&labels, 3, 1.0, 0.0, -1, DType::F32)?;
    /// assert_eq!((y.name(), y.shape()), ("one_hot:0", &[2, 3][..]));
    /// assert_eq!(y.value().to_f64_vec(), [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn one_hot(
        &self,
        indices: &Tensor,
        depth: usize,
        on: f64,
        off: f64,
        axis: isize,
        dtype: DType,
    ) -> Result<Tensor> {
        const OP: &str = "OneHot";
        let mut outputs = self.record_resolved(
            Naming::Scoped { default: "one_hot" },
            OP,
            &[indices],
            |node| {
                if !matches!(indices.dtype(), DType::I32 | DType::I64) {
                    return Err(super::unsupported(OP, node, indices.dtype(), "int32 or int64 (the indices)"));
                }
                for (what, x) in [("on", on), ("off", off)] {
                    Value::filled(dtype, &[], x)
                        .map_err(|_| op_error(OP, node, format!("the {what} value {x} does not fit {dtype}")))?;
                }
                Ok(())
            },
            |node, _| {
                let rank = indices.shape().len();
                let axis = if axis == -1 { rank } else { norm_axis(OP, node, axis, rank + 1)? };
                Ok(LayerOp::OneHot { depth, on, off, axis, dtype })
            },
        )?;
        super::first_output(OP, &mut outputs)
    }

    /// `x` without the given axes of length 1, or without every axis of
    /// length 1 when `axes` is empty (TF's `tf.squeeze`, op and default name
    /// `Squeeze`). An axis of another length is refused.
    ///
    /// ```
    /// use varscope::{Graph, ndarray::ArrayD};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(ArrayD::<f32>::zeros(vec![1, 3, 1]))?;
    /// assert_eq!(cx.squeeze(&x, &[])?.shape(), &[3]);
    /// assert_eq!(cx.squeeze(&x, &[-1])?.shape(), &[1, 3]);
    /// assert!(cx.squeeze(&x, &[1]).is_err());
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn squeeze(&self, x: &Tensor, axes: &[isize]) -> Result<Tensor> {
        const OP: &str = "Squeeze";
        let mut outputs = self.record_resolved(
            Naming::Helper { default: OP },
            OP,
            &[x],
            |_| Ok(()),
            |node, _| {
                let rank = x.shape().len();
                let mut resolved = axes.iter().map(|&a| norm_axis(OP, node, a, rank)).collect::<Result<Vec<_>>>()?;
                resolved.sort_unstable();
                resolved.dedup();
                Ok(LayerOp::Squeeze { axes: resolved })
            },
        )?;
        super::first_output(OP, &mut outputs)
    }

    /// `x` with an axis of length 1 inserted at `axis` of the result
    /// (`-1`: last; TF's `tf.expand_dims`, op and default name `ExpandDims`).
    ///
    /// ```
    /// use varscope::{Graph, ndarray::ArrayD};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(ArrayD::<f32>::zeros(vec![2, 3]))?;
    /// assert_eq!(cx.expand_dims(&x, 0)?.shape(), &[1, 2, 3]);
    /// assert_eq!(cx.expand_dims(&x, -1)?.shape(), &[2, 3, 1]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn expand_dims(&self, x: &Tensor, axis: isize) -> Result<Tensor> {
        const OP: &str = "ExpandDims";
        let mut outputs = self.record_resolved(
            Naming::Helper { default: OP },
            OP,
            &[x],
            |_| Ok(()),
            |node, _| {
                let axis = norm_axis(OP, node, axis, x.shape().len() + 1)?;
                Ok(LayerOp::ExpandDims { axis })
            },
        )?;
        super::first_output(OP, &mut outputs)
    }
}

impl Scope {
    /// Reverses, for each slice `b` along `batch_axis`, its first
    /// `lengths[b]` steps along `seq_axis`, leaving the rest in place (TF's
    /// `tf.reverse_sequence`, op and default name `ReverseSequence`; what the
    /// bidirectional RNNs use with sequence lengths). `lengths` is an int32 or
    /// int64 vector of one length per slice, each at most the axis's length.
    ///
    /// ```
    /// use varscope::{Graph, Value, ndarray::arr2};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(arr2(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]).into_dyn())?;
    /// let lengths = cx.constant(Value::from(vec![2i32, 3]))?;
    /// let r = cx.reverse_sequence(&x, &lengths, 1, 0)?;
    /// assert_eq!(r.value().to_f64_vec(), [2.0, 1.0, 3.0, 6.0, 5.0, 4.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn reverse_sequence(&self, x: &Tensor, lengths: &Tensor, seq_axis: isize, batch_axis: isize) -> Result<Tensor> {
        const OP: &str = "ReverseSequence";
        let mut outputs = self.record_resolved(
            Naming::Helper { default: OP },
            OP,
            &[x, lengths],
            |node| match lengths.dtype() {
                DType::I32 | DType::I64 => Ok(()),
                other => Err(super::unsupported(OP, node, other, "int32 or int64 (the lengths)")),
            },
            |node, _| {
                let rank = x.shape().len();
                let seq_axis = norm_axis(OP, node, seq_axis, rank)?;
                let batch_axis = norm_axis(OP, node, batch_axis, rank)?;
                if seq_axis == batch_axis {
                    return Err(op_error(
                        OP,
                        node,
                        format!("seq_axis and batch_axis are both {seq_axis}: use two axes"),
                    ));
                }
                Ok(LayerOp::ReverseSequence { seq_axis, batch_axis })
            },
        )?;
        super::first_output(OP, &mut outputs)
    }
}

/// The value of one of this family's ops.
pub(crate) fn forward(op: &LayerOp, node: &str, v: &[Value]) -> Result<Value> {
    let op_type = op.op_type();
    let x = arg(op_type, node, v, 0)?;
    let float = || match x.dtype() {
        DType::F32 | DType::F64 => Ok(()),
        other => Err(super::unsupported(op_type, node, other, "float32 or float64")),
    };
    match op {
        LayerOp::Abs | LayerOp::Square => any_dispatch!(x.dtype(), unary_any(op, x)),
        LayerOp::LeakyRelu { .. } | LayerOp::Elu | LayerOp::Softplus => {
            float()?;
            float_dispatch!(x.dtype(), op_type, node, unary_float(op, x))
        }
        LayerOp::StopGradient => Ok(x.clone()),
        LayerOp::Equal => {
            let b = arg(op_type, node, v, 1)?;
            same_value_dtype(op_type, node, x, b)?;
            let shape = broadcast_shapes(x.shape(), b.shape()).ok_or_else(|| {
                shapes_error(op_type, node, x.shape(), b.shape(), "dimensions must be equal or 1 to broadcast")
            })?;
            if checked_len(&shape).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &shape));
            }
            any_dispatch!(x.dtype(), equal_value(x, b, &shape))
        }
        LayerOp::ArgMax { axis, min, output } => {
            let Some(&len) = x.shape().get(*axis) else {
                return Err(op_error(
                    op_type,
                    node,
                    format!("axis {axis} is out of range for {}", fmt_shape(x.shape())),
                ));
            };
            if len == 0 {
                return Err(op_error(
                    op_type,
                    node,
                    format!("reduction axis {axis} is empty in shape {}: there is no extremum", fmt_shape(x.shape())),
                ));
            }
            if *output == DType::I32 && len > i32::MAX as usize {
                return Err(op_error(op_type, node, format!("axis {axis} is too long for int32 indices: use int64")));
            }
            let idx = any_dispatch!(x.dtype(), arg_extremum(x, *axis, *min))?;
            Ok(match output {
                DType::I32 => Value::I32(idx.mapv(|i| i as i32).into_shared()),
                _ => Value::I64(idx.mapv(|i| i as i64).into_shared()),
            })
        }
        LayerOp::OneHot { depth, on, off, axis, dtype } => {
            let mut shape = x.shape().to_vec();
            if *axis > shape.len() {
                return Err(op_error(
                    op_type,
                    node,
                    format!("axis {axis} is out of range for {}", fmt_shape(x.shape())),
                ));
            }
            shape.insert(*axis, *depth);
            if checked_len(&shape).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &shape));
            }
            let indices: Vec<i64> = match x {
                Value::I32(a) => a.iter().map(|&i| i64::from(i)).collect(),
                Value::I64(a) => a.iter().copied().collect(),
                other => return Err(super::unsupported(op_type, node, other.dtype(), "int32 or int64 (the indices)")),
            };
            one_hot_value(&indices, x.shape(), *depth, *axis, *dtype, *on, *off)
        }
        LayerOp::Squeeze { axes } => {
            let shape = x.shape();
            for &a in axes {
                match shape.get(a) {
                    Some(1) => {}
                    Some(&d) => {
                        return Err(op_error(
                            op_type,
                            node,
                            format!("cannot squeeze axis {a} of shape {}: its length is {d}, not 1", fmt_shape(shape)),
                        ));
                    }
                    None => {
                        return Err(op_error(
                            op_type,
                            node,
                            format!("axis {a} is out of range for {}", fmt_shape(shape)),
                        ));
                    }
                }
            }
            let out: Vec<usize> = shape
                .iter()
                .enumerate()
                .filter(|&(i, &d)| if axes.is_empty() { d != 1 } else { !axes.contains(&i) })
                .map(|(_, &d)| d)
                .collect();
            reshaped(x, &out)
        }
        LayerOp::ExpandDims { axis } => {
            let mut out = x.shape().to_vec();
            if *axis > out.len() {
                return Err(op_error(
                    op_type,
                    node,
                    format!("axis {axis} is out of range for {}", fmt_shape(x.shape())),
                ));
            }
            out.insert(*axis, 1);
            reshaped(x, &out)
        }
        LayerOp::ReverseSequence { seq_axis, batch_axis } => {
            let lengths =
                sequence_lengths(op_type, node, x.shape(), arg(op_type, node, v, 1)?, *seq_axis, *batch_axis)?;
            any_dispatch!(x.dtype(), reverse_sequence_value(x, &lengths, *seq_axis, *batch_axis))
        }
    }
}

/// The lengths of a `ReverseSequence`, each checked against the sequence axis.
fn sequence_lengths(
    op_type: &'static str,
    node: &str,
    shape: &[usize],
    lengths: &Value,
    seq_axis: usize,
    batch_axis: usize,
) -> Result<Vec<usize>> {
    let (Some(&steps), Some(&batch)) = (shape.get(seq_axis), shape.get(batch_axis)) else {
        return Err(op_error(
            op_type,
            node,
            format!("axes {seq_axis} and {batch_axis} do not fit {}", fmt_shape(shape)),
        ));
    };
    if lengths.shape() != [batch] {
        return Err(shapes_error(
            op_type,
            node,
            shape,
            lengths.shape(),
            "needs one length per slice of the batch axis",
        ));
    }
    let raw: Vec<i64> = match lengths {
        Value::I32(a) => a.iter().map(|&l| i64::from(l)).collect(),
        Value::I64(a) => a.iter().copied().collect(),
        other => return Err(super::unsupported(op_type, node, other.dtype(), "int32 or int64 (the lengths)")),
    };
    raw.iter()
        .map(|&l| {
            usize::try_from(l).ok().filter(|&l| l <= steps).ok_or_else(|| {
                op_error(op_type, node, format!("length {l} is outside [0, {steps}], the length of axis {seq_axis}"))
            })
        })
        .collect()
}

fn reverse_sequence_value<T: Elem>(x: &Value, lengths: &[usize], seq_axis: usize, batch_axis: usize) -> Result<Value> {
    Ok(T::wrap(reverse_sequence_array(&typed::<T>(x)?.view(), lengths, seq_axis, batch_axis)))
}

/// `a` with each batch slice's first `lengths[b]` steps reversed.
fn reverse_sequence_array<T: Clone>(
    a: &ndarray::ArrayViewD<'_, T>,
    lengths: &[usize],
    seq_axis: usize,
    batch_axis: usize,
) -> ArrayD<T> {
    let mut out = a.to_owned();
    for (b, &len) in lengths.iter().enumerate() {
        let src = a.index_axis(Axis(batch_axis), b);
        let mut dst = out.index_axis_mut(Axis(batch_axis), b);
        // `seq_axis` counts past the removed batch axis.
        let s = if seq_axis > batch_axis { seq_axis - 1 } else { seq_axis };
        for t in 0..len {
            dst.index_axis_mut(Axis(s), t).assign(&src.index_axis(Axis(s), len - 1 - t));
        }
    }
    out
}

/// `x`'s elements (row-major) in a new shape of the same size.
fn reshaped(x: &Value, shape: &[usize]) -> Result<Value> {
    any_dispatch!(x.dtype(), reshape_value(x, shape))
}

fn reshape_value<T: Elem>(x: &Value, shape: &[usize]) -> Result<Value> {
    let a = typed::<T>(x)?;
    Ok(T::wrap(a.as_standard_layout().into_owned().into_shape_with_order(IxDyn(shape)).map_err(internal)?))
}

fn unary_any<T: Elem>(op: &LayerOp, x: &Value) -> Result<Value> {
    let a = typed::<T>(x)?;
    let zero = T::zero();
    Ok(T::wrap(match op {
        LayerOp::Abs => a.mapv(|v| if v < zero { zero.minus(v) } else { v }),
        _ => a.mapv(|v| v.times(v)),
    }))
}

/// TF's softplus thresholds: `log(ε) + 2` of the float type.
fn softplus_threshold<T: Float>() -> T {
    T::epsilon().ln() + T::c(2.0)
}

fn unary_float<T: Float>(op: &LayerOp, x: &Value) -> Result<Value> {
    let a = typed::<T>(x)?;
    let (zero, one) = (T::zero(), T::one());
    Ok(T::wrap(match op {
        LayerOp::LeakyRelu { alpha } => {
            let alpha = T::c(*alpha);
            a.mapv(|v| if v > zero { v } else { v * alpha })
        }
        LayerOp::Elu => a.mapv(|v| if v < zero { v.exp() - one } else { v }),
        _ => {
            let t = softplus_threshold::<T>();
            a.mapv(|v| {
                if v > -t {
                    v
                } else if v < t {
                    v.exp()
                } else {
                    v.exp().ln_1p()
                }
            })
        }
    }))
}

fn equal_value<T: Elem>(a: &Value, b: &Value, shape: &[usize]) -> Result<Value> {
    let (a, b) = (typed::<T>(a)?.view(), typed::<T>(b)?.view());
    Ok(T::wrap(zip2(a, b, shape, |x, y| if x == y { T::one() } else { T::zero() })?))
}

/// The position of the first extremum of each lane along `axis`.
fn arg_extremum<T: Elem>(x: &Value, axis: usize, min: bool) -> Result<ArrayD<usize>> {
    let a = typed::<T>(x)?;
    Ok(a.map_axis(Axis(axis), |lane| {
        let mut best = 0;
        for (i, &v) in lane.iter().enumerate() {
            if if min { v < lane[best] } else { v > lane[best] } {
                best = i;
            }
        }
        best
    }))
}

fn one_hot_value(
    indices: &[i64],
    index_shape: &[usize],
    depth: usize,
    axis: usize,
    dtype: DType,
    on: f64,
    off: f64,
) -> Result<Value> {
    // `[outer, depth, inner]` where `outer`/`inner` are the index dimensions
    // before/after `axis`.
    let outer: usize = index_shape[..axis].iter().product();
    let inner: usize = index_shape[axis..].iter().product();
    let mut shape = index_shape.to_vec();
    shape.insert(axis, depth);
    let mut hot = vec![false; outer * depth * inner];
    for o in 0..outer {
        for i in 0..inner {
            let k = indices[o * inner + i];
            if k >= 0 && (k as u64) < depth as u64 {
                hot[(o * depth + k as usize) * inner + i] = true;
            }
        }
    }
    let (on, off) = (Value::filled(dtype, &[], on)?, Value::filled(dtype, &[], off)?);
    any_dispatch!(dtype, one_hot_typed(&hot, &shape, &on, &off))
}

fn one_hot_typed<T: Elem>(hot: &[bool], shape: &[usize], on: &Value, off: &Value) -> Result<Value> {
    let scalar = |v: &Value| typed::<T>(v).and_then(|a| a.iter().next().copied().ok_or_else(|| internal("no scalar")));
    let (on, off) = (scalar(on)?, scalar(off)?);
    let data = hot.iter().map(|&h| if h { on } else { off }).collect();
    Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(shape), data).map_err(internal)?))
}

/// The gradients of this family's ops with respect to their inputs.
pub(crate) fn backward<T: Float>(
    op: &LayerOp,
    x: &[Value],
    y: &Value,
    g: &ArrayD<T>,
) -> Result<Vec<Option<ArrayD<T>>>> {
    let (zero, one) = (T::zero(), T::one());
    let unary = |f: &dyn Fn(T, T) -> T| -> Result<Vec<Option<ArrayD<T>>>> {
        let xa = typed::<T>(&x[0])?;
        let mut out = g.clone();
        Zip::from(&mut out).and(xa).for_each(|g, &x| *g = f(*g, x));
        Ok(vec![Some(out)])
    };
    match op {
        LayerOp::Abs => unary(&|g, x| {
            if x > zero {
                g
            } else if x < zero {
                -g
            } else {
                zero
            }
        }),
        LayerOp::Square => unary(&|g, x| g * T::c(2.0) * x),
        LayerOp::LeakyRelu { alpha } => {
            let alpha = T::c(*alpha);
            unary(&|g, x| if x > zero { g } else { g * alpha })
        }
        LayerOp::Elu => {
            let ya = typed::<T>(y)?;
            let mut out = g.clone();
            Zip::from(&mut out).and(ya).for_each(|g, &y| *g = if y > zero { *g } else { *g * (y + one) });
            Ok(vec![Some(out)])
        }
        LayerOp::Softplus => unary(&|g, x| g / ((-x).exp() + one)),
        LayerOp::Squeeze { .. } | LayerOp::ExpandDims { .. } => {
            let back =
                g.as_standard_layout().into_owned().into_shape_with_order(IxDyn(x[0].shape())).map_err(internal)?;
            Ok(vec![Some(back)])
        }
        LayerOp::ReverseSequence { seq_axis, batch_axis } => {
            let op_type = op.op_type();
            let lengths = sequence_lengths(op_type, "gradient", g.shape(), &x[1], *seq_axis, *batch_axis)?;
            Ok(vec![Some(reverse_sequence_array(&g.view(), &lengths, *seq_axis, *batch_axis)), None])
        }
        LayerOp::StopGradient | LayerOp::Equal | LayerOp::ArgMax { .. } | LayerOp::OneHot { .. } => Ok(Vec::new()),
    }
}

/// TF's attributes of this family's ops.
pub(crate) fn attrs(op: &LayerOp, dtypes: &[DType], outputs: &[Value]) -> Vec<(&'static str, super::AttrValue)> {
    use super::AttrValue;
    let t = |i: usize| AttrValue::Type(dtypes.get(i).copied().unwrap_or_default());
    match op {
        LayerOp::Abs | LayerOp::Square | LayerOp::Elu | LayerOp::Softplus | LayerOp::StopGradient => vec![("T", t(0))],
        LayerOp::LeakyRelu { alpha } => vec![("T", t(0)), ("alpha", AttrValue::Float(*alpha as f32))],
        LayerOp::Equal => vec![("T", t(0)), ("incompatible_shape_error", AttrValue::Bool(true))],
        LayerOp::ArgMax { output, .. } => {
            vec![("T", t(0)), ("Tidx", AttrValue::Type(DType::I32)), ("output_type", AttrValue::Type(*output))]
        }
        LayerOp::OneHot { axis, dtype, .. } => {
            let rank = outputs.first().map_or(1, |v| v.shape().len()) as i64;
            let axis = if *axis as i64 == rank - 1 { -1 } else { *axis as i64 };
            vec![("T", AttrValue::Type(*dtype)), ("TI", t(0)), ("axis", AttrValue::Int(axis))]
        }
        LayerOp::Squeeze { axes } => {
            vec![("T", t(0)), ("squeeze_dims", AttrValue::Ints(axes.iter().map(|&a| a as i64).collect()))]
        }
        LayerOp::ExpandDims { .. } => vec![("T", t(0)), ("Tdim", AttrValue::Type(DType::I32))],
        LayerOp::ReverseSequence { seq_axis, batch_axis } => vec![
            ("T", t(0)),
            ("Tlen", t(1)),
            ("batch_dim", AttrValue::Int(*batch_axis as i64)),
            ("seq_dim", AttrValue::Int(*seq_axis as i64)),
        ],
    }
}
