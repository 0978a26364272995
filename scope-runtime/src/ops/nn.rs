//! Neural-network ops: `BiasAdd`, `Conv2D` (NHWC input, HWIO filter),
//! `MaxPool`, `AvgPool`, `Softmax`, `LogSoftmax`,
//! `SigmoidCrossEntropyWithLogits` and `SoftmaxCrossEntropyWithLogits`.
//!
//! Windows are laid out exactly as TensorFlow does: with `VALID` padding the
//! output has `ceil((in - k + 1) / stride)` positions; with `SAME` it has
//! `ceil(in / stride)` and the `max((out - 1) * stride + k - in, 0)` padded
//! cells are split with the extra one at the end (bottom/right).

use ndarray::{Array2, ArrayD, ArrayView4, Axis, Ix1, Ix4, IxDyn};

use crate::kernels::{self, Padding};
pub(crate) use crate::record::Window;

use super::{
    Elem, Float, Naming, NnOp, arg, float_only, internal, op_error, same_dtype, same_value_dtype, shapes_error, typed,
};
use crate::dtype::DType;
use crate::error::Result;
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};

impl Window {
    /// Checks that the window fits an NHWC input of shape `x` (`other` is
    /// the second shape named in errors) with the kernels' one window
    /// validator, [`kernels::Window`](crate::kernels::Window); returns the
    /// input's channels.
    fn geometry(&self, op: &'static str, node: &str, x: &[usize], other: &[usize]) -> Result<usize> {
        if x.len() != 4 {
            return Err(shapes_error(op, node, x, other, "the input must be of rank 4 (NHWC)"));
        }
        for (axis, dim) in [(0, "height"), (1, "width")] {
            crate::kernels::Window::new(op, dim, x[axis + 1], self.k[axis], self.stride[axis], self.padding)
                .map_err(|e| e.into_error(op, node, x, other))?;
        }
        Ok(x[3])
    }
}

/// A rank-4 view of a value whose rank was checked.
fn view4<T: Elem>(v: &Value) -> Result<ArrayView4<'_, T>> {
    typed::<T>(v)?.view().into_dimensionality::<Ix4>().map_err(internal)
}

/// A rank-4 array from a gradient whose shape matches the recorded output.
fn grad4<T: Elem>(g: &ArrayD<T>) -> Result<ArrayView4<'_, T>> {
    g.view().into_dimensionality::<Ix4>().map_err(internal)
}

fn conv2d_fwd<T: Float>(x: &Value, f: &Value, win: &Window, op_type: &'static str, node: &str) -> Result<Value> {
    let y = kernels::conv2d(view4::<T>(x)?, view4::<T>(f)?, win.stride, win.padding)
        .map_err(|e| e.into_error(op_type, node, x.shape(), f.shape()))?;
    Ok(T::wrap(y.into_dyn()))
}

fn conv2d_bwd<T: Float>(
    x: &Value,
    f: &Value,
    g: &ArrayD<T>,
    win: &Window,
    need: &[bool],
) -> Result<Vec<Option<ArrayD<T>>>> {
    let (xv, fv, gv) = (view4::<T>(x)?, view4::<T>(f)?, grad4(g)?);
    let shape = |v: &Value| -> Result<[usize; 4]> { v.shape().try_into().map_err(internal) };
    let gx = match need.first() {
        Some(false) => None,
        _ => Some(
            kernels::conv2d_backward_input(gv, fv, shape(x)?, win.stride, win.padding).map_err(internal)?.into_dyn(),
        ),
    };
    let gf = match need.get(1) {
        Some(false) => None,
        _ => Some(
            kernels::conv2d_backward_filter(xv, gv, shape(f)?, win.stride, win.padding).map_err(internal)?.into_dyn(),
        ),
    };
    Ok(vec![gx, gf])
}

fn pool_fwd<T: Float>(x: &Value, win: &Window, max: bool, op_type: &'static str, node: &str) -> Result<Value> {
    let xv = view4::<T>(x)?;
    let y = if max {
        kernels::max_pool2d(xv, win.k, win.stride, win.padding)
    } else {
        kernels::avg_pool2d(xv, win.k, win.stride, win.padding)
    };
    Ok(T::wrap(y.map_err(|e| e.into_error(op_type, node, x.shape(), &win.k))?.into_dyn()))
}

fn pool_bwd<T: Float>(x: &Value, g: &ArrayD<T>, win: &Window, max: bool) -> Result<Vec<Option<ArrayD<T>>>> {
    let (xv, gv) = (view4::<T>(x)?, grad4(g)?);
    let gx = if max {
        kernels::max_pool2d_backward(xv, gv, win.k, win.stride, win.padding)
    } else {
        let shape: [usize; 4] = x.shape().try_into().map_err(internal)?;
        kernels::avg_pool2d_backward(gv, shape, win.k, win.stride, win.padding)
    };
    Ok(vec![Some(gx.map_err(internal)?.into_dyn())])
}

/// Rows of the last axis: the value as `[rows, last]`.
fn as_rows<T: Elem>(v: &Value) -> Result<Array2<T>> {
    let a = typed::<T>(v)?;
    let (lead, last) = match a.shape() {
        [] => (&[][..], 1),
        [lead @ .., last] => (lead, *last),
    };
    // The leading dimensions, not `len / last`: a class axis of size 0 still
    // has its rows (each an empty sum).
    let rows = lead.iter().product();
    a.as_standard_layout().into_owned().into_shape_with_order((rows, last)).map_err(internal)
}

fn softmax_fwd<T: Float>(x: &Value, log: bool) -> Result<Value> {
    let x = typed::<T>(x)?.view();
    Ok(T::wrap(if log { kernels::log_softmax(x) } else { kernels::softmax(x) }.map_err(internal)?))
}

/// The log-softmax of `x` over its last axis as `[rows, classes]`.
fn log_softmax_rows<T: Float>(x: &Value) -> Result<Array2<T>> {
    as_rows::<T>(&T::wrap(kernels::log_softmax(typed::<T>(x)?.view()).map_err(internal)?))
}

fn xent_fwd<T: Float>(z: &Value, x: &Value, softmax: bool) -> Result<Value> {
    if !softmax {
        let (z, x) = (typed::<T>(z)?, typed::<T>(x)?);
        let zero = T::zero();
        let out = ndarray::Zip::from(x).and(z).map_collect(|&x, &z| x.max(zero) - x * z + (-x.abs()).exp().ln_1p());
        return Ok(T::wrap(out));
    }
    let (zr, logp) = (as_rows::<T>(z)?, log_softmax_rows::<T>(x)?);
    let loss: Vec<T> = logp
        .rows()
        .into_iter()
        .zip(zr.rows())
        .map(|(lrow, zrow)| lrow.iter().zip(zrow).fold(T::zero(), |acc, (&l, &zv)| acc - zv * l))
        .collect();
    let shape = &x.shape()[..x.shape().len() - 1];
    Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(shape), loss).map_err(internal)?))
}

/// `relu(conv2d(x, filter) + bias)` as one convolution that applies the bias and the relu as
/// it writes each output (`Epilogue::BiasRelu`): the same bits as `Conv2D`, `AddV2`/`BiasAdd`
/// and `Relu` one after the other (the kernels add the bias to the finished sum, and
/// `max(v, 0)` is the relu's `v > 0 ? v : 0`, NaN included), without the two intermediate
/// arrays. `None` when the values do not fit that form; the caller then runs the three ops,
/// with their checks and errors.
pub(crate) fn conv2d_bias_relu(win: &Window, x: &Value, filter: &Value, bias: &Value) -> Option<Value> {
    match (x, filter, bias) {
        (Value::F32(_), Value::F32(_), Value::F32(_)) => conv2d_bias_relu_typed::<f32>(win, x, filter, bias),
        (Value::F64(_), Value::F64(_), Value::F64(_)) => conv2d_bias_relu_typed::<f64>(win, x, filter, bias),
        _ => None,
    }
}

fn conv2d_bias_relu_typed<T: Float + crate::kernels::Float>(
    win: &Window,
    x: &Value,
    filter: &Value,
    bias: &Value,
) -> Option<Value> {
    let (xv, fv) = (view4::<T>(x).ok()?, view4::<T>(filter).ok()?);
    let b = typed::<T>(bias).ok()?.view().into_dimensionality::<ndarray::Ix1>().ok()?;
    let g = crate::kernels::Conv2dGeometry::new(xv.shape(), fv.shape(), win.stride, win.padding).ok()?;
    let mut out = crate::kernels::zeros4::<T>(g.output_shape());
    let epilogue = crate::kernels::Epilogue::BiasRelu(b);
    crate::kernels::with_scratch(|scratch| {
        crate::kernels::conv2d_into(xv, fv, win.stride, win.padding, epilogue, scratch, out.view_mut())
    })
    .ok()?;
    Some(T::wrap(out.into_dyn()))
}

fn bias_add_float<T: Float>(x: &Value, b: &Value) -> Result<Value> {
    let (x, b) = (typed::<T>(x)?, typed::<T>(b)?);
    let b = b.view().into_dimensionality::<Ix1>().map_err(internal)?;
    Ok(T::wrap(kernels::bias_add(x.view(), b).map_err(internal)?))
}

/// Integers wrap around, as TF's.
fn bias_add_int<T: Elem>(x: &Value, b: &Value) -> Result<Value> {
    let (x, b) = (typed::<T>(x)?, typed::<T>(b)?);
    Ok(T::wrap(super::math::zip2(x.view(), b.view(), x.shape(), T::plus)?))
}

impl Scope {
    /// Adds a rank-1 `bias` along the last axis of `x` (rank ≥ 2; op and
    /// default name `BiasAdd`, NHWC).
    pub fn bias_add(&self, x: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let op_type = NnOp::BiasAdd.op_type();
        self.record_op(Naming::Scoped { default: op_type }, NnOp::BiasAdd, &[x, bias], |node| {
            same_dtype(op_type, node, x, bias)
        })
    }

    /// 2-D convolution of an NHWC `input` with an HWIO `filter` (op and
    /// default name `Conv2D`); `strides` are along height and width
    /// (TensorFlow's `[1, sh, sw, 1]`).
    ///
    /// ```
    /// use varscope::{Graph, ops::Padding};
    /// use varscope::ndarray::ArrayD;
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let x = cx.constant(ArrayD::<f32>::ones(vec![1, 5, 5, 1]))?;
    /// let f = cx.constant(ArrayD::<f32>::ones(vec![3, 3, 1, 2]))?;
    /// let y = cx.conv2d(&x, &f, [2, 2], Padding::Same)?;
    /// assert_eq!(y.shape(), &[1, 3, 3, 2]);
    /// // The top-left window hangs over one padded row and column.
    /// assert_eq!(y.value().to_f64_vec()[0], 4.0);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn conv2d(&self, input: &Tensor, filter: &Tensor, strides: [usize; 2], padding: Padding) -> Result<Tensor> {
        let fs = filter.shape();
        let k = if fs.len() == 4 { [fs[0], fs[1]] } else { [1, 1] };
        let op = NnOp::Conv2D(Window { k, stride: strides, padding });
        let op_type = op.op_type();
        self.record_op(Naming::Helper { default: op_type }, op, &[input, filter], |node| {
            same_dtype(op_type, node, input, filter)?;
            float_only(op_type, node, input)
        })
    }

    /// Max pooling of an NHWC tensor over `ksize` windows (op and default
    /// name `MaxPool`); padded cells never win.
    pub fn max_pool(&self, x: &Tensor, ksize: [usize; 2], strides: [usize; 2], padding: Padding) -> Result<Tensor> {
        let op = NnOp::MaxPool(Window { k: ksize, stride: strides, padding });
        self.nn_float(Naming::Scoped { default: "MaxPool" }, op, x)
    }

    /// Average pooling of an NHWC tensor (op and default name `AvgPool`);
    /// as in TensorFlow, each window averages only the cells inside the input.
    pub fn avg_pool(&self, x: &Tensor, ksize: [usize; 2], strides: [usize; 2], padding: Padding) -> Result<Tensor> {
        let op = NnOp::AvgPool(Window { k: ksize, stride: strides, padding });
        self.nn_float(Naming::Scoped { default: "AvgPool" }, op, x)
    }

    /// A one-input op of floats.
    fn nn_float(&self, naming: Naming, op: NnOp, x: &Tensor) -> Result<Tensor> {
        let op_type = op.op_type();
        self.record_op(naming, op, &[x], |node| float_only(op_type, node, x))
    }

    /// Softmax over the last axis (op and default name `Softmax`).
    pub fn softmax(&self, logits: &Tensor) -> Result<Tensor> {
        self.nn_float(Naming::Helper { default: "Softmax" }, NnOp::Softmax, logits)
    }

    /// Log-softmax over the last axis (op and default name `LogSoftmax`).
    pub fn log_softmax(&self, logits: &Tensor) -> Result<Tensor> {
        self.nn_float(Naming::Helper { default: "LogSoftmax" }, NnOp::LogSoftmax, logits)
    }

    /// Elementwise logistic loss `max(x, 0) - x * z + log(1 + e^-|x|)` of
    /// `logits` x against `labels` z of the same shape (TF's
    /// `tf.nn.sigmoid_cross_entropy_with_logits`, recorded as one op
    /// `SigmoidCrossEntropyWithLogits` with default name `logistic_loss`).
    pub fn sigmoid_cross_entropy_with_logits(&self, labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
        self.xent("logistic_loss", NnOp::SigmoidXent, labels, logits)
    }

    /// Softmax cross entropy `-sum(labels * log_softmax(logits))` over the
    /// last axis; the result drops that axis (op
    /// `SoftmaxCrossEntropyWithLogits`, default name
    /// `softmax_cross_entropy_with_logits`).
    pub fn softmax_cross_entropy_with_logits(&self, labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
        self.xent("softmax_cross_entropy_with_logits", NnOp::SoftmaxXent, labels, logits)
    }

    /// Local response normalisation over the channels of an NHWC tensor (TF's `tf.nn.lrn`,
    /// op and default name `LRN`): `x / (bias + alpha * sum(x²))^beta`, the sum over the
    /// `2 * depth_radius + 1` channels around each one.
    ///
    /// ```
    /// use varscope::Graph;
    /// use varscope::ndarray::ArrayD;
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(ArrayD::<f32>::ones(vec![1, 1, 1, 3]))?;
    /// // As cifar10.py's norm1: depth radius 4, bias 1, alpha 0.001 / 9, beta 0.75.
    /// let y = cx.named("norm1").lrn(&x, 4, 1.0, 0.001 / 9.0, 0.75)?;
    /// assert_eq!(y.name(), "norm1:0");
    /// let expected = (1.0 + 3.0 * 0.001 / 9.0f64).powf(-0.75);
    /// assert!((y.value().to_f64_vec()[0] - expected).abs() < 1e-6);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn lrn(&self, x: &Tensor, depth_radius: usize, bias: f64, alpha: f64, beta: f64) -> Result<Tensor> {
        self.nn_float(Naming::Helper { default: "LRN" }, NnOp::Lrn { depth_radius, bias, alpha, beta }, x)
    }

    /// `sum(x²) / 2` (TF's `tf.nn.l2_loss`, op and default name `L2Loss`), the weight decay
    /// of cifar10.py.
    pub fn l2_loss(&self, x: &Tensor) -> Result<Tensor> {
        self.nn_float(Naming::Helper { default: "L2Loss" }, NnOp::L2Loss, x)
    }

    /// Softmax cross entropy of `logits` (`[.., classes]`) against int32 class `labels`
    /// (`[..]`), one loss per row (TF's `tf.nn.sparse_softmax_cross_entropy_with_logits`, op
    /// `SparseSoftmaxCrossEntropyWithLogits`, named `name/name` inside its own name scope,
    /// default `SparseSoftmaxCrossEntropyWithLogits`). A label outside `[0, classes)` is an error.
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// use varscope::ndarray::{ArrayD, IxDyn};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let logits = cx.constant(ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![0.0f32, 0.0]).unwrap())?;
    /// let labels = cx.constant(ArrayD::from_shape_vec(IxDyn(&[1]), vec![1i32]).unwrap())?;
    /// let xent = cx.named("cross_entropy_per_example").sparse_softmax_cross_entropy_with_logits(&labels, &logits)?;
    /// assert_eq!(xent.name(), "cross_entropy_per_example/cross_entropy_per_example:0");
    /// assert!((xent.value().to_f64_vec()[0] - 2f64.ln()).abs() < 1e-6);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn sparse_softmax_cross_entropy_with_logits(&self, labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
        const OP: NnOp = NnOp::SparseSoftmaxXent;
        let op_type = OP.op_type();
        let mut outs = self.record_outputs(Naming::Nested { default: op_type }, OP, &[logits, labels], |node| {
            float_only(op_type, node, logits)?;
            if labels.dtype() != crate::dtype::DType::I32 {
                return Err(super::unsupported(op_type, node, labels.dtype(), "int32 labels"));
            }
            Ok(())
        })?;
        super::first_output(op_type, &mut outs)
    }

    fn xent(&self, default: &'static str, op: NnOp, z: &Tensor, x: &Tensor) -> Result<Tensor> {
        let op_type = op.op_type();
        self.record_op(Naming::Scoped { default }, op, &[z, x], |node| {
            same_dtype(op_type, node, z, x)?;
            float_only(op_type, node, x)
        })
    }
}

/// The value of the ops of this module, with every shape check.
pub(crate) fn forward(op: &NnOp, node: &str, v: &[Value], out: &mut Vec<Value>) -> Result<()> {
    let op_type = op.op_type();
    let x = arg(op_type, node, v, 0)?;
    let y = match op {
        NnOp::BiasAdd => {
            let bias = arg(op_type, node, v, 1)?;
            same_value_dtype(op_type, node, x, bias)?;
            let (sx, sb) = (x.shape(), bias.shape());
            if sx.len() < 2 || sb.len() != 1 || sx.last() != sb.last() {
                return Err(shapes_error(
                    op_type,
                    node,
                    sx,
                    sb,
                    "the input must be of rank 2 or more and the bias a vector as long as its last dimension",
                ));
            }
            match x.dtype() {
                DType::F32 => bias_add_float::<f32>(x, bias),
                DType::F64 => bias_add_float::<f64>(x, bias),
                DType::I32 => bias_add_int::<i32>(x, bias),
                DType::I64 => bias_add_int::<i64>(x, bias),
            }
        }
        NnOp::Conv2D(win) => {
            let filter = arg(op_type, node, v, 1)?;
            same_value_dtype(op_type, node, x, filter)?;
            let (sx, sf) = (x.shape(), filter.shape());
            if sf.len() != 4 {
                return Err(shapes_error(op_type, node, sx, sf, "the filter must be of rank 4 (HWIO)"));
            }
            let win = Window { k: [sf[0], sf[1]], ..*win };
            let channels = win.geometry(op_type, node, sx, sf)?;
            if sf[2] != channels {
                return Err(shapes_error(
                    op_type,
                    node,
                    sx,
                    sf,
                    format!("the filter's input depth {} must equal the input's channels {channels}", sf[2]),
                ));
            }
            float_dispatch!(x.dtype(), op_type, node, conv2d_fwd(x, filter, &win, op_type, node))
        }
        NnOp::MaxPool(win) | NnOp::AvgPool(win) => {
            win.geometry(op_type, node, x.shape(), &win.k)?;
            let max = matches!(op, NnOp::MaxPool(_));
            float_dispatch!(x.dtype(), op_type, node, pool_fwd(x, win, max, op_type, node))
        }
        NnOp::Softmax | NnOp::LogSoftmax => {
            if x.shape().is_empty() {
                return Err(op_error(op_type, node, "the logits must be of rank 1 or more"));
            }
            float_dispatch!(x.dtype(), op_type, node, softmax_fwd(x, *op == NnOp::LogSoftmax))
        }
        NnOp::SigmoidXent | NnOp::SoftmaxXent => {
            let (z, logits) = (x, arg(op_type, node, v, 1)?);
            same_value_dtype(op_type, node, z, logits)?;
            let softmax = *op == NnOp::SoftmaxXent;
            if z.shape() != logits.shape() || (softmax && logits.shape().is_empty()) {
                return Err(shapes_error(
                    op_type,
                    node,
                    z.shape(),
                    logits.shape(),
                    "labels and logits must have the same shape (of rank 1 or more for softmax)",
                ));
            }
            float_dispatch!(logits.dtype(), op_type, node, xent_fwd(z, logits, softmax))
        }
        NnOp::Lrn { depth_radius, bias, alpha, beta } => {
            if x.shape().len() != 4 {
                return Err(op_error(op_type, node, "the input must be of rank 4 (NHWC)"));
            }
            float_dispatch!(x.dtype(), op_type, node, lrn_fwd(x, *depth_radius, *bias, *alpha, *beta))
        }
        NnOp::L2Loss => float_dispatch!(x.dtype(), op_type, node, l2_fwd(x)),
        NnOp::SparseSoftmaxXent => {
            out.extend(sparse_xent_forward(op_type, node, v)?);
            return Ok(());
        }
    }?;
    out.push(y);
    Ok(())
}

/// The loss per row and its gradient with respect to the logits (`SparseSoftmaxCrossEntropyWithLogits`).
fn sparse_xent_forward(op_type: &'static str, node: &str, v: &[Value]) -> Result<Vec<Value>> {
    let (logits, labels) = (arg(op_type, node, v, 0)?, arg(op_type, node, v, 1)?);
    let ls = logits.shape();
    if ls.is_empty() || labels.shape() != &ls[..ls.len() - 1] {
        return Err(shapes_error(
            op_type,
            node,
            ls,
            labels.shape(),
            "the labels must have the logits' shape without its last (class) axis",
        ));
    }
    let classes = ls[ls.len() - 1];
    let ids: Vec<usize> = typed::<i32>(labels)?
        .iter()
        .map(|&l| {
            usize::try_from(l).ok().filter(|&u| u < classes).ok_or_else(|| {
                op_error(
                    op_type,
                    node,
                    format!("label {l} is outside the valid range [0, {classes}): use class indices"),
                )
            })
        })
        .collect::<Result<_>>()?;
    float_dispatch!(logits.dtype(), op_type, node, sparse_xent_fwd(logits, &ids))
}

fn sparse_xent_fwd<T: Float>(logits: &Value, ids: &[usize]) -> Result<Vec<Value>> {
    let logp = log_softmax_rows::<T>(logits)?;
    let mut grad = logp.mapv(T::exp);
    let mut loss = Vec::with_capacity(ids.len());
    for (i, (mut g, &id)) in grad.rows_mut().into_iter().zip(ids).enumerate() {
        loss.push(-logp[[i, id]]);
        g[id] -= T::one();
    }
    let shape = &logits.shape()[..logits.shape().len() - 1];
    Ok(vec![
        T::wrap(ArrayD::from_shape_vec(IxDyn(shape), loss).map_err(internal)?),
        T::wrap(grad.into_shape_with_order(IxDyn(logits.shape())).map_err(internal)?),
    ])
}

/// `sum(x²) / 2`.
fn l2_fwd<T: Float>(x: &Value) -> Result<Value> {
    let half = T::c(0.5);
    let sum = typed::<T>(x)?.iter().fold(T::zero(), |s, &v| s + v * v);
    Ok(T::wrap(ndarray::arr0(sum * half).into_dyn()))
}

/// Per pixel and channel, `bias + alpha * sum(x²)` over the channels within `r`.
fn lrn_scale<T: Float>(x: &ndarray::ArcArray<T, IxDyn>, r: usize, bias: T, alpha: T) -> ArrayD<T> {
    let depth = x.shape()[3];
    let mut scale = ArrayD::<T>::zeros(x.raw_dim());
    for (xs, mut ss) in x.lanes(Axis(3)).into_iter().zip(scale.lanes_mut(Axis(3))) {
        for c in 0..depth {
            let (lo, hi) = (c.saturating_sub(r), (c + r).min(depth - 1));
            let sum = (lo..=hi).fold(T::zero(), |s, k| s + xs[k] * xs[k]);
            ss[c] = bias + alpha * sum;
        }
    }
    scale
}

fn lrn_fwd<T: Float>(x: &Value, r: usize, bias: f64, alpha: f64, beta: f64) -> Result<Value> {
    let a = typed::<T>(x)?;
    let scale = lrn_scale(a, r, T::c(bias), T::c(alpha));
    let nb = T::c(-beta);
    Ok(T::wrap(ndarray::Zip::from(a).and(&scale).map_collect(|&x, &s| x * s.powf(nb))))
}

/// TF's `LRNGrad`: `dx_c = dy_c s_c^-β - 2αβ x_c Σ_j dy_j x_j s_j^(-β-1)` over the channels `j`
/// within `r` of `c`.
fn lrn_bwd<T: Float>(x: &Value, g: &ArrayD<T>, r: usize, bias: f64, alpha: f64, beta: f64) -> Result<ArrayD<T>> {
    let a = typed::<T>(x)?;
    let depth = a.shape()[3];
    let scale = lrn_scale(a, r, T::c(bias), T::c(alpha));
    let (nb, nb1, k) = (T::c(-beta), T::c(-beta - 1.0), T::c(2.0 * alpha * beta));
    let mut out = ArrayD::<T>::zeros(a.raw_dim());
    let lanes = a.lanes(Axis(3)).into_iter().zip(scale.lanes(Axis(3))).zip(g.lanes(Axis(3)));
    for (((xs, ss), gs), mut os) in lanes.zip(out.lanes_mut(Axis(3))) {
        let t: Vec<T> = (0..depth).map(|j| gs[j] * xs[j] * ss[j].powf(nb1)).collect();
        for c in 0..depth {
            let (lo, hi) = (c.saturating_sub(r), (c + r).min(depth - 1));
            let sum = (lo..=hi).fold(T::zero(), |s, j| s + t[j]);
            os[c] = gs[c] * ss[c].powf(nb) - k * xs[c] * sum;
        }
    }
    Ok(out)
}

/// Gradients of the ops of this module.
pub(crate) fn backward<T: Float>(
    op: &NnOp,
    x: &[Value],
    y: &Value,
    g: &ArrayD<T>,
    need: &[bool],
) -> Result<Vec<Option<ArrayD<T>>>> {
    match op {
        NnOp::BiasAdd => {
            let mut gb = g.clone();
            while gb.ndim() > 1 {
                gb = gb.sum_axis(Axis(0));
            }
            Ok(vec![Some(g.clone()), Some(gb)])
        }
        NnOp::Conv2D(win) => conv2d_bwd(&x[0], &x[1], g, win, need),
        NnOp::MaxPool(win) => pool_bwd(&x[0], g, win, true),
        NnOp::AvgPool(win) => pool_bwd(&x[0], g, win, false),
        NnOp::Softmax | NnOp::LogSoftmax => {
            // Standard layout, so each row's sum runs as it always has.
            let (y, g) = (typed::<T>(y)?.as_standard_layout(), g.as_standard_layout());
            let out = if *op == NnOp::Softmax {
                kernels::softmax_grad(y.view(), g.view())
            } else {
                kernels::log_softmax_grad(y.view(), g.view())
            };
            Ok(vec![Some(out.map_err(internal)?)])
        }
        NnOp::SigmoidXent => {
            let (z, xs) = (typed::<T>(&x[0])?, typed::<T>(&x[1])?);
            let gz = ndarray::Zip::from(g).and(xs).map_collect(|&g, &x| -g * x);
            let sig = kernels::sigmoid(xs.view());
            let gx = ndarray::Zip::from(g).and(&sig).and(z).map_collect(|&g, &s, &z| g * (s - z));
            Ok(vec![Some(gz), Some(gx)])
        }
        NnOp::SoftmaxXent => {
            let (zr, logp) = (as_rows::<T>(&x[0])?, log_softmax_rows::<T>(&x[1])?);
            let gs: Vec<T> = g.iter().copied().collect();
            let mut gz = zr.clone();
            let mut gx = logp.clone();
            for i in 0..logp.nrows() {
                let zsum = zr.row(i).sum();
                for j in 0..logp.ncols() {
                    let lp = logp[[i, j]];
                    gz[[i, j]] = -gs[i] * lp;
                    gx[[i, j]] = gs[i] * (zsum * lp.exp() - zr[[i, j]]);
                }
            }
            let shape = IxDyn(x[1].shape());
            Ok(vec![
                Some(gz.into_shape_with_order(shape.clone()).map_err(internal)?),
                Some(gx.into_shape_with_order(shape).map_err(internal)?),
            ])
        }
        NnOp::Lrn { depth_radius, bias, alpha, beta } => {
            Ok(vec![Some(lrn_bwd(&x[0], g, *depth_radius, *bias, *alpha, *beta)?)])
        }
        NnOp::L2Loss => {
            let s = g.iter().next().copied().unwrap_or_else(T::zero);
            Ok(vec![Some(typed::<T>(&x[0])?.mapv(|v| v * s))])
        }
        NnOp::SparseSoftmaxXent => {
            let ids: Vec<usize> = typed::<i32>(&x[1])?.iter().map(|&l| l.max(0) as usize).collect();
            let outs = sparse_xent_fwd::<T>(&x[0], &ids)?;
            let grad = typed::<T>(&outs[1])?;
            let classes = x[0].shape().last().copied().unwrap_or(1);
            let gs: Vec<T> = g.iter().copied().collect();
            let mut out = grad.to_owned();
            for (row, mut o) in out.lanes_mut(Axis(x[0].shape().len() - 1)).into_iter().enumerate() {
                let s = gs.get(row).copied().unwrap_or_else(T::zero);
                o.mapv_inplace(|v| v * s);
                debug_assert_eq!(o.len(), classes);
            }
            Ok(vec![Some(out), None])
        }
    }
}
