//! The ops the layers and RNN cells need: `Maximum`, `Minimum` (and
//! `clip_by_value` made of them), `Rsqrt`, `Cast`, `Unpack` (`tf.unstack`),
//! `Pack` (`tf.stack`), `FusedBatchNormV3`, and for dropout `RandomUniform`,
//! `GreaterEqual` and `SelectV2`.
//!
//! Each has its TF op type and default name, its value in [`forward`] and
//! its gradient in [`backward`]:
//!
//! - `maximum(a, b)`: the gradient goes to `a` where `a >= b`, else to `b`
//!   (`minimum`: where `a <= b`), as TF's `_MaximumMinimumGrad`;
//! - `rsqrt(x) = x^-1/2`: `d/dx = -y³/2`;
//! - `cast`: passes a float gradient through (none to or from int32);
//! - `unstack`/`stack` are each other's gradient;
//! - `fused_batch_norm`: `y = γ (x - μ) / sqrt(σ² + ε) + β` over every axis
//!   but the last; training uses the batch's mean and biased variance and
//!   also outputs the variance corrected by `n / (n - 1)` (what TF's moving
//!   average uses); the gradient is TF's `FusedBatchNormGrad`;
//! - `select(c, a, b)`: the gradient goes to `a` where `c`, else to `b`;
//!   `random_uniform` and `greater_equal` pass none.

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

use super::basic::broadcast_shapes;
use super::math::{zip2, zip3};
use super::{
    Elem, ExtraOp, Float, Naming, arg, internal, norm_axis, op_error, same_dtype, same_value_dtype, shapes_error, typed,
};
use crate::dtype::DType;
use crate::error::{Result, fmt_shape};
use crate::scope::Scope;
use crate::tensor::{Tensor, Value, checked_len, too_large};

impl Scope {
    /// `tf.clip_by_value`: `maximum(minimum(t, max), min)` in a name scope
    /// `clip_by_value` (or the [`Scope::named`] name), whose `Maximum` node
    /// carries the scope's name (`clip_by_value:0`).
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let t = cx.constant(Value::from(vec![-3.0f32, 0.5, 3.0]))?;
    /// let (lo, hi) = (cx.constant(-1.0f32)?, cx.constant(1.0f32)?);
    /// let c = cx.clip_by_value(&t, &lo, &hi)?;
    /// assert_eq!((c.name(), c.value().to_f64_vec()), ("clip_by_value:0", vec![-1.0, 0.5, 1.0]));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn clip_by_value(&mut self, t: &Tensor, min: &Tensor, max: &Tensor) -> Result<Tensor> {
        let name = self.next_name.take().unwrap_or_else(|| "clip_by_value".to_string());
        let scope = self.push_name_scope(&name)?;
        let result = self.minimum(t, max).and_then(|lo| self.named(&scope).maximum(&lo, min));
        self.pop_scope()?;
        result
    }

    /// `1 / sqrt(x)` for floats (op and default name `Rsqrt`).
    pub fn rsqrt(&self, x: &Tensor) -> Result<Tensor> {
        let op_type = ExtraOp::Rsqrt.op_type();
        self.record_op(Naming::Helper { default: op_type }, ExtraOp::Rsqrt, &[x], |node| {
            super::float_only(op_type, node, x)
        })
    }

    /// Splits `x` along `axis` into its `x.shape[axis]` slices, each without
    /// that axis (`tf.unstack`: op `Unpack`, default name `unstack`; outputs
    /// `unstack:0`, `unstack:1`, ...). An axis of length 0 is refused: TF's
    /// graph needs at least one output.
    ///
    /// ```
    /// use varscope::{Graph, ndarray::ArrayD};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(ArrayD::<f32>::zeros(vec![2, 3, 5]))?;
    /// let xs = cx.unstack(&x, 1)?;
    /// assert_eq!((xs.len(), xs[2].name(), xs[2].shape()), (3, "unstack:2", &[2, 5][..]));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn unstack(&self, x: &Tensor, axis: isize) -> Result<Vec<Tensor>> {
        const OP: &str = "Unpack";
        self.record_resolved(
            Naming::Scoped { default: "unstack" },
            OP,
            &[x],
            |_| Ok(()),
            |node, _| {
                let axis = norm_axis(OP, node, axis, x.shape().len())?;
                Ok(ExtraOp::Unpack { axis, num: x.shape()[axis] })
            },
        )
    }

    /// Stacks equally shaped tensors along a new `axis` (`tf.stack`: op
    /// `Pack`, default name `stack`).
    ///
    /// ```
    /// use varscope::Graph;
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let (a, b) = (cx.constant(1.0f32)?, cx.constant(2.0f32)?);
    /// let s = cx.stack(&[&a, &b], 0)?;
    /// assert_eq!((s.name(), s.value().to_f64_vec()), ("stack:0", vec![1.0, 2.0]));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn stack(&self, xs: &[&Tensor], axis: isize) -> Result<Tensor> {
        const OP: &str = "Pack";
        let rank = xs.first().map_or(0, |x| x.shape().len());
        let mut outputs = self.record_resolved(
            Naming::Scoped { default: "stack" },
            OP,
            xs,
            |node| {
                if xs.is_empty() {
                    return Err(op_error(OP, node, "needs at least one tensor to stack"));
                }
                xs.iter().try_for_each(|x| same_dtype(OP, node, xs[0], x))
            },
            |node, _| Ok(ExtraOp::Pack { axis: norm_axis(OP, node, axis, rank + 1)? }),
        )?;
        super::first_output(OP, &mut outputs)
    }

    /// Values uniform in `[0, 1)` of `shape` and `dtype` (op `RandomUniform`,
    /// default name `random_uniform`), drawn from the stream that the graph
    /// seed and this op's full name select: the same in every run (a
    /// stateless random op; TF's stateful `RandomUniform` draws anew per run).
    ///
    /// ```
    /// use varscope::{DType, Graph};
    /// let graph = Graph::with_seed(3);
    /// let cx = graph.scope();
    /// let r = cx.random_uniform(&[1000], DType::F32)?;
    /// let v = r.value().to_f64_vec();
    /// assert!(v.iter().all(|&x| (0.0..1.0).contains(&x)));
    /// assert_eq!(v, Graph::with_seed(3).scope().random_uniform(&[1000], DType::F32)?.value().to_f64_vec());
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn random_uniform(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let op = ExtraOp::RandomUniform { shape: shape.to_vec(), dtype, seed: self.graph().seed() };
        let op_type = op.op_type();
        self.record_op(Naming::Scoped { default: "random_uniform" }, op, &[], |node| {
            if !dtype.is_float() {
                return Err(super::unsupported(op_type, node, dtype, "float32 or float64"));
            }
            if checked_len(shape).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), shape));
            }
            Ok(())
        })
    }

    /// `1` where `a >= b`, else `0`, with broadcasting (op `GreaterEqual`,
    /// default name `GreaterEqual`). TF's output is `bool`, which varscope
    /// has not: here it has the inputs' dtype, what [`Scope::select`] takes.
    pub fn greater_equal(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let op_type = ExtraOp::GreaterEqual.op_type();
        self.record_op(Naming::Helper { default: op_type }, ExtraOp::GreaterEqual, &[a, b], |node| {
            same_dtype(op_type, node, a, b)
        })
    }

    /// `a` where `cond` is nonzero, else `b`, all three broadcast together
    /// (TF's `tf.where` / op `SelectV2`, default name `SelectV2`; `cond` a 0/1
    /// tensor of the values' dtype, as [`Scope::greater_equal`] makes).
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![1.0f32, -2.0, 3.0]))?;
    /// let zero = cx.constant(0.0f32)?;
    /// let keep = cx.greater_equal(&x, &zero)?;
    /// assert_eq!(cx.select(&keep, &x, &zero)?.value().to_f64_vec(), [1.0, 0.0, 3.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn select(&self, cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let op_type = ExtraOp::Select.op_type();
        self.record_op(Naming::Helper { default: op_type }, ExtraOp::Select, &[cond, a, b], |node| {
            same_dtype(op_type, node, a, b)?;
            same_dtype(op_type, node, cond, a)
        })
    }

    /// Batch normalisation over every axis but the last (TF's
    /// `FusedBatchNormV3`, NHWC, default name `FusedBatchNormV3`). Inputs:
    /// `x`, `scale` and `offset` of the channel count, and the `mean` and
    /// `variance` used when not `training`. Returns `[y, batch_mean,
    /// batch_variance]`: in training the batch's mean and its variance
    /// corrected by `n / (n - 1)`, else `mean` and `variance` themselves.
    ///
    /// ```
    /// use varscope::{Graph, Value, ndarray::ArrayD};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(ArrayD::from_shape_vec(vec![2, 1], vec![1.0f32, 3.0]).unwrap())?;
    /// let (one, zero) = (cx.constant(Value::from(vec![1.0f32]))?, cx.constant(Value::from(vec![0.0f32]))?);
    /// let out = cx.fused_batch_norm(&x, &one, &zero, &zero, &one, 0.0, true)?;
    /// assert_eq!(out[0].value().to_f64_vec(), [-1.0, 1.0]);
    /// assert_eq!(out[2].value().to_f64_vec(), [2.0]); // 1.0 * 2 / (2 - 1)
    /// # Ok::<(), varscope::Error>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn fused_batch_norm(
        &self,
        x: &Tensor,
        scale: &Tensor,
        offset: &Tensor,
        mean: &Tensor,
        variance: &Tensor,
        epsilon: f64,
        training: bool,
    ) -> Result<Vec<Tensor>> {
        let op = ExtraOp::FusedBatchNorm { epsilon, training };
        let op_type = op.op_type();
        self.record_outputs(Naming::Helper { default: op_type }, op, &[x, scale, offset, mean, variance], |node| {
            [scale, offset, mean, variance].iter().try_for_each(|t| same_dtype(op_type, node, x, t))?;
            super::float_only(op_type, node, x)
        })
    }
}

/// The value of one of this file's ops.
pub(crate) fn forward(op: &ExtraOp, node: &str, v: &[Value], out: &mut Vec<Value>) -> Result<()> {
    let op_type = op.op_type();
    let values = match op {
        ExtraOp::RandomUniform { shape, dtype, seed } => {
            let mut rng = crate::init::stream(*seed, node);
            vec![crate::init::Init::random_uniform(0.0, 1.0).build(node, shape, *dtype, &mut rng)?]
        }
        ExtraOp::Rsqrt => {
            let x = arg(op_type, node, v, 0)?;
            vec![float_dispatch!(x.dtype(), op_type, node, rsqrt_value(x))?]
        }
        ExtraOp::Unpack { axis, num } => {
            let x = arg(op_type, node, v, 0)?;
            let Some(&dim) = x.shape().get(*axis) else {
                return Err(op_error(
                    op_type,
                    node,
                    format!("axis {axis} is out of range for {}", fmt_shape(x.shape())),
                ));
            };
            if dim != *num || dim == 0 {
                return Err(op_error(
                    op_type,
                    node,
                    format!("cannot unstack {num} tensors from axis {axis} of shape {}", fmt_shape(x.shape())),
                ));
            }
            any_dispatch!(x.dtype(), unpack_value(x, *axis))?
        }
        ExtraOp::Pack { axis } => {
            let x = arg(op_type, node, v, 0)?;
            for t in v {
                same_value_dtype(op_type, node, x, t)?;
                if t.shape() != x.shape() {
                    return Err(shapes_error(
                        op_type,
                        node,
                        x.shape(),
                        t.shape(),
                        "every stacked tensor needs one shape",
                    ));
                }
            }
            let mut shape = x.shape().to_vec();
            shape.insert((*axis).min(shape.len()), v.len());
            if checked_len(&shape).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &shape));
            }
            vec![any_dispatch!(x.dtype(), pack_value(v, *axis))?]
        }
        ExtraOp::FusedBatchNorm { epsilon, training } => {
            let x = arg(op_type, node, v, 0)?;
            let channels = x.shape().last().copied().unwrap_or(0);
            if x.shape().is_empty() {
                return Err(op_error(op_type, node, "needs an input of rank at least 1 (channels last)"));
            }
            for i in 1..5 {
                let p = arg(op_type, node, v, i)?;
                same_value_dtype(op_type, node, x, p)?;
                if p.shape() != [channels] {
                    return Err(shapes_error(op_type, node, x.shape(), p.shape(), "parameters need the channel count"));
                }
            }
            float_dispatch!(x.dtype(), op_type, node, batch_norm_value(v, *epsilon, *training))?
        }
        ExtraOp::GreaterEqual | ExtraOp::Select => {
            let x = arg(op_type, node, v, 0)?;
            let mut shape = x.shape().to_vec();
            for t in &v[1..] {
                same_value_dtype(op_type, node, x, t)?;
                shape = broadcast_shapes(&shape, t.shape()).ok_or_else(|| {
                    shapes_error(op_type, node, x.shape(), t.shape(), "dimensions must be equal or 1 to broadcast")
                })?;
            }
            if checked_len(&shape).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &shape));
            }
            if *op == ExtraOp::Select {
                vec![any_dispatch!(x.dtype(), select_value(v, &shape))?]
            } else {
                vec![any_dispatch!(x.dtype(), greater_equal_value(x, &v[1], &shape))?]
            }
        }
    };
    out.extend(values);
    Ok(())
}

fn greater_equal_value<T: Elem>(a: &Value, b: &Value, shape: &[usize]) -> Result<Value> {
    let (a, b) = (typed::<T>(a)?.view(), typed::<T>(b)?.view());
    Ok(T::wrap(zip2(a, b, shape, |x, y| if x >= y { T::one() } else { T::zero() })?))
}

fn select_value<T: Elem>(v: &[Value], shape: &[usize]) -> Result<Value> {
    let (c, a, b) = (typed::<T>(&v[0])?.view(), typed::<T>(&v[1])?.view(), typed::<T>(&v[2])?.view());
    Ok(T::wrap(zip3(c, a, b, shape, |c, a, b| if c != T::zero() { a } else { b })?))
}

fn rsqrt_value<T: Float>(x: &Value) -> Result<Value> {
    Ok(T::wrap(typed::<T>(x)?.mapv(|v| T::one() / v.sqrt())))
}

fn unpack_value<T: Elem>(x: &Value, axis: usize) -> Result<Vec<Value>> {
    let a = typed::<T>(x)?;
    Ok(a.axis_iter(Axis(axis)).map(|s| T::wrap(s.as_standard_layout().into_owned())).collect())
}

fn pack_value<T: Elem>(v: &[Value], axis: usize) -> Result<Value> {
    let views: Vec<ArrayViewD<'_, T>> = v.iter().map(|x| typed::<T>(x).map(|a| a.view())).collect::<Result<_>>()?;
    Ok(T::wrap(ndarray::stack(Axis(axis), &views).map_err(internal)?))
}

/// `x` viewed as `[n, channels]`, and `n`.
fn rows<T: Elem>(x: &Value) -> Result<(ndarray::Array2<T>, usize)> {
    let a = typed::<T>(x)?;
    let c = a.shape().last().copied().unwrap_or(1);
    let n = a.len().checked_div(c).unwrap_or(0);
    let m = a.as_standard_layout().into_owned().into_shape_with_order((n, c)).map_err(internal)?;
    Ok((m, n))
}

/// The statistics a batch norm normalises with: mean and biased variance
/// per channel (the batch's in training, else the given ones).
fn stats<T: Float>(v: &[Value], training: bool) -> Result<(ndarray::Array1<T>, ndarray::Array1<T>)> {
    if !training {
        let m = typed::<T>(&v[3])?.iter().copied().collect();
        let s = typed::<T>(&v[4])?.iter().copied().collect();
        return Ok((m, s));
    }
    let (x, n) = rows::<T>(&v[0])?;
    let count = T::c(n.max(1) as f64);
    let mean = x.sum_axis(Axis(0)).mapv(|s| s / count);
    let var = (&x - &mean.view().insert_axis(Axis(0))).mapv(|d| d * d).sum_axis(Axis(0)).mapv(|s| s / count);
    Ok((mean, var))
}

fn batch_norm_value<T: Float>(v: &[Value], epsilon: f64, training: bool) -> Result<Vec<Value>> {
    let shape = v[0].shape().to_vec();
    let (x, n) = rows::<T>(&v[0])?;
    let (mean, var) = stats::<T>(v, training)?;
    let scale = typed::<T>(&v[1])?;
    let offset = typed::<T>(&v[2])?;
    let eps = T::c(epsilon);
    let mut y = x;
    for ((mut col, (&m, &s)), (&g, &b)) in
        y.columns_mut().into_iter().zip(mean.iter().zip(var.iter())).zip(scale.iter().zip(offset.iter()))
    {
        let inv = T::one() / (s + eps).sqrt();
        col.mapv_inplace(|e| (e - m) * inv * g + b);
    }
    let y = y.into_shape_with_order(IxDyn(&shape)).map_err(internal)?;
    let var_out = if training && n > 1 {
        let k = T::c(n as f64 / (n as f64 - 1.0));
        var.mapv(|s| s * k)
    } else {
        var
    };
    Ok(vec![T::wrap(y), T::wrap(mean.into_dyn()), T::wrap(var_out.into_dyn())])
}

/// The gradients of this file's ops; `g` holds every output's gradient.
pub(crate) fn backward<T: Float>(
    op: &ExtraOp,
    x: &[Value],
    y: &Value,
    g: &[ArrayD<T>],
) -> Result<Vec<Option<ArrayD<T>>>> {
    let g0 = g.first().ok_or_else(|| internal("no output gradient"))?;
    let shape = g0.shape().to_vec();
    match op {
        ExtraOp::Rsqrt => {
            let ya = typed::<T>(y)?;
            Ok(vec![Some(zip2(g0.view(), ya.view(), &shape, |g, y| g * T::c(-0.5) * y * y * y)?)])
        }
        ExtraOp::Unpack { axis, .. } => {
            let views: Vec<ArrayViewD<'_, T>> = g.iter().map(|a| a.view()).collect();
            Ok(vec![Some(ndarray::stack(Axis(*axis), &views).map_err(internal)?)])
        }
        ExtraOp::Pack { axis } => {
            Ok(g0.axis_iter(Axis(*axis)).map(|s| Some(s.as_standard_layout().into_owned())).collect())
        }
        ExtraOp::FusedBatchNorm { epsilon, training } => batch_norm_backward::<T>(x, g0, *epsilon, *training),
        // Random draws and comparisons pass no gradient (TF registers none).
        ExtraOp::RandomUniform { .. } | ExtraOp::GreaterEqual => Ok(Vec::new()),
        ExtraOp::Select => {
            let (c, a, b) = (typed::<T>(&x[0])?, typed::<T>(&x[1])?, typed::<T>(&x[2])?);
            let zero = T::zero();
            let ga = zip3(g0.view(), c.view(), c.view(), &shape, |g, c, _| if c != zero { g } else { zero })?;
            let gb = zip3(g0.view(), c.view(), c.view(), &shape, |g, c, _| if c != zero { zero } else { g })?;
            Ok(vec![None, Some(super::unbroadcast(ga, a.shape())?), Some(super::unbroadcast(gb, b.shape())?)])
        }
    }
}

/// TF's `FusedBatchNormGrad`: the gradients of `y` for `x`, `scale`,
/// `offset` (and, when not training, for `mean` and `variance`).
fn batch_norm_backward<T: Float>(
    x: &[Value],
    g: &ArrayD<T>,
    epsilon: f64,
    training: bool,
) -> Result<Vec<Option<ArrayD<T>>>> {
    let shape = x[0].shape().to_vec();
    let (xs, n) = rows::<T>(&x[0])?;
    let c = xs.ncols();
    let gs = g.as_standard_layout().into_owned().into_shape_with_order((n, c)).map_err(internal)?;
    let (mean, var) = stats::<T>(x, training)?;
    let scale: Vec<T> = typed::<T>(&x[1])?.iter().copied().collect();
    let eps = T::c(epsilon);
    let count = T::c(n.max(1) as f64);
    let mut dx = ndarray::Array2::<T>::zeros((n, c));
    let mut dscale = ndarray::Array1::<T>::zeros(c);
    let mut doffset = ndarray::Array1::<T>::zeros(c);
    let mut dmean = ndarray::Array1::<T>::zeros(c);
    let mut dvar = ndarray::Array1::<T>::zeros(c);
    for j in 0..c {
        let inv = T::one() / (var[j] + eps).sqrt();
        let col = xs.column(j);
        let gc = gs.column(j);
        let xhat: Vec<T> = col.iter().map(|&e| (e - mean[j]) * inv).collect();
        let sum_g = gc.iter().fold(T::zero(), |s, &v| s + v);
        let sum_gx = gc.iter().zip(&xhat).fold(T::zero(), |s, (&v, &h)| s + v * h);
        dscale[j] = sum_gx;
        doffset[j] = sum_g;
        for i in 0..n {
            dx[[i, j]] = if training {
                scale[j] * inv * (gc[i] - sum_g / count - xhat[i] * sum_gx / count)
            } else {
                scale[j] * inv * gc[i]
            };
        }
        dmean[j] = -scale[j] * inv * sum_g;
        dvar[j] = T::c(-0.5) * scale[j] * inv * inv * sum_gx;
    }
    let dx = dx.into_shape_with_order(IxDyn(&shape)).map_err(internal)?;
    let stats_grad = |a: ndarray::Array1<T>| if training { None } else { Some(a.into_dyn()) };
    Ok(vec![Some(dx), Some(dscale.into_dyn()), Some(doffset.into_dyn()), stats_grad(dmean), stats_grad(dvar)])
}
