//! Neural-network ops: `BiasAdd`, `Conv2D` (NHWC input, HWIO filter),
//! `MaxPool`, `AvgPool`, `Softmax`, `LogSoftmax`,
//! `SigmoidCrossEntropyWithLogits` and `SoftmaxCrossEntropyWithLogits`.
//!
//! Windows are laid out exactly as TensorFlow does: with `VALID` padding the
//! output has `ceil((in - k + 1) / stride)` positions; with `SAME` it has
//! `ceil(in / stride)` and the `max((out - 1) * stride + k - in, 0)` padded
//! cells are split with the extra one at the end (bottom/right).

use ndarray::{Array2, ArrayD, ArrayView4, Axis, Ix4, IxDyn};

use crate::kernels::Padding;
pub(crate) use crate::record::Window;

use super::math::sigmoid;
use super::{Elem, Float, Naming, Op, arg, float_only, op_error, same_dtype, same_value_dtype, shapes_error, typed};
use crate::error::{Error, Result};
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

fn internal(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("{e}"))
}

/// A rank-4 view of a value whose rank was checked.
fn view4<T: Elem>(v: &Value) -> Result<ArrayView4<'_, T>> {
    typed::<T>(v)?.view().into_dimensionality::<Ix4>().map_err(internal)
}

/// A rank-4 array from a gradient whose shape matches the recorded output.
fn grad4<T: Elem>(g: &ArrayD<T>) -> Result<ArrayView4<'_, T>> {
    g.view().into_dimensionality::<Ix4>().map_err(internal)
}

fn conv2d_fwd<T: Float>(x: &Value, f: &Value, win: &Window, node: &str) -> Result<Value> {
    let y = T::conv2d(view4::<T>(x)?, view4::<T>(f)?, win.stride, win.padding)
        .map_err(|e| e.into_error("Conv2D", node, x.shape(), f.shape()))?;
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
        _ => Some(T::conv2d_backward_input(gv, fv, shape(x)?, win.stride, win.padding).map_err(internal)?.into_dyn()),
    };
    let gf = match need.get(1) {
        Some(false) => None,
        _ => Some(T::conv2d_backward_filter(xv, gv, shape(f)?, win.stride, win.padding).map_err(internal)?.into_dyn()),
    };
    Ok(vec![gx, gf])
}

fn pool_fwd<T: Float>(x: &Value, win: &Window, max: bool, node: &str) -> Result<Value> {
    let xv = view4::<T>(x)?;
    let y = if max {
        T::max_pool2d(xv, win.k, win.stride, win.padding)
    } else {
        T::avg_pool2d(xv, win.k, win.stride, win.padding)
    };
    let op = if max { "MaxPool" } else { "AvgPool" };
    Ok(T::wrap(y.map_err(|e| e.into_error(op, node, x.shape(), &win.k))?.into_dyn()))
}

fn pool_bwd<T: Float>(x: &Value, g: &ArrayD<T>, win: &Window, max: bool) -> Result<Vec<Option<ArrayD<T>>>> {
    let (xv, gv) = (view4::<T>(x)?, grad4(g)?);
    let gx = if max {
        T::max_pool2d_backward(xv, gv, win.k, win.stride, win.padding)
    } else {
        let shape: [usize; 4] = x.shape().try_into().map_err(internal)?;
        T::avg_pool2d_backward(gv, shape, win.k, win.stride, win.padding)
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

/// Per row, the maximum `m` and `log(sum(exp(row - m)))`: the row's
/// log-softmax is `(v - m) - s`, computed without losing precision to a large
/// `m`.
fn log_sum_exp<T: Float>(a: &Array2<T>) -> Vec<(T, T)> {
    a.rows()
        .into_iter()
        .map(|r| {
            let m = r.iter().copied().fold(T::neg_infinity(), T::max);
            let m = if m.is_finite() { m } else { T::zero() };
            (m, r.iter().map(|&v| (v - m).exp()).fold(T::zero(), |s, v| s + v).ln())
        })
        .collect()
}

fn softmax_fwd<T: Float>(x: &Value, log: bool) -> Result<Value> {
    let mut a = as_rows::<T>(x)?;
    let lse = log_sum_exp(&a);
    for (mut r, (m, s)) in a.rows_mut().into_iter().zip(lse) {
        r.mapv_inplace(|v| if log { (v - m) - s } else { ((v - m) - s).exp() });
    }
    Ok(T::wrap(a.into_shape_with_order(IxDyn(x.shape())).map_err(internal)?))
}

fn xent_fwd<T: Float>(z: &Value, x: &Value, softmax: bool) -> Result<Value> {
    if !softmax {
        let (z, x) = (typed::<T>(z)?, typed::<T>(x)?);
        let zero = T::zero();
        let out = ndarray::Zip::from(x).and(z).map_collect(|&x, &z| x.max(zero) - x * z + (-x.abs()).exp().ln_1p());
        return Ok(T::wrap(out));
    }
    let (zr, xr) = (as_rows::<T>(z)?, as_rows::<T>(x)?);
    let lse = log_sum_exp(&xr);
    let loss: Vec<T> = xr
        .rows()
        .into_iter()
        .zip(zr.rows())
        .zip(lse)
        .map(|((xrow, zrow), (m, s))| {
            xrow.iter().zip(zrow).fold(T::zero(), |acc, (&xv, &zv)| acc - zv * ((xv - m) - s))
        })
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

fn bias_add_fwd<T: Elem>(x: &Value, b: &Value) -> Result<Value> {
    let (x, b) = (typed::<T>(x)?, typed::<T>(b)?);
    let out = super::math::zip2(x.view(), b.view(), x.shape(), |x, b| x + b)?;
    Ok(T::wrap(out))
}

impl Scope {
    /// Adds a rank-1 `bias` along the last axis of `x` (rank ≥ 2; op and
    /// default name `BiasAdd`, NHWC).
    pub fn bias_add(&self, x: &Tensor, bias: &Tensor) -> Result<Tensor> {
        const OP: &str = "BiasAdd";
        self.record_op(Naming::Scoped { default: OP }, OP, Op::BiasAdd, &[x, bias], |node| {
            same_dtype(OP, node, x, bias)
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
        const OP: &str = "Conv2D";
        let fs = filter.shape();
        let k = if fs.len() == 4 { [fs[0], fs[1]] } else { [1, 1] };
        let win = Window { k, stride: strides, padding };
        self.record_op(Naming::Helper { default: OP }, OP, Op::Conv2D(win), &[input, filter], |node| {
            same_dtype(OP, node, input, filter)?;
            float_only(OP, node, input)
        })
    }

    /// Max pooling of an NHWC tensor over `ksize` windows (op and default
    /// name `MaxPool`); padded cells never win.
    pub fn max_pool(&self, x: &Tensor, ksize: [usize; 2], strides: [usize; 2], padding: Padding) -> Result<Tensor> {
        self.pool("MaxPool", x, Window { k: ksize, stride: strides, padding })
    }

    /// Average pooling of an NHWC tensor (op and default name `AvgPool`);
    /// as in TensorFlow, each window averages only the cells inside the input.
    pub fn avg_pool(&self, x: &Tensor, ksize: [usize; 2], strides: [usize; 2], padding: Padding) -> Result<Tensor> {
        self.pool("AvgPool", x, Window { k: ksize, stride: strides, padding })
    }

    fn pool(&self, op_type: &'static str, x: &Tensor, win: Window) -> Result<Tensor> {
        let max = op_type == "MaxPool";
        let op = if max { Op::MaxPool(win) } else { Op::AvgPool(win) };
        self.record_op(Naming::Scoped { default: op_type }, op_type, op, &[x], |node| float_only(op_type, node, x))
    }

    /// Softmax over the last axis (op and default name `Softmax`).
    pub fn softmax(&self, logits: &Tensor) -> Result<Tensor> {
        self.softmax_like("Softmax", Op::Softmax, logits)
    }

    /// Log-softmax over the last axis (op and default name `LogSoftmax`).
    pub fn log_softmax(&self, logits: &Tensor) -> Result<Tensor> {
        self.softmax_like("LogSoftmax", Op::LogSoftmax, logits)
    }

    fn softmax_like(&self, op_type: &'static str, op: Op, x: &Tensor) -> Result<Tensor> {
        self.record_op(Naming::Helper { default: op_type }, op_type, op, &[x], |node| float_only(op_type, node, x))
    }

    /// Elementwise logistic loss `max(x, 0) - x * z + log(1 + e^-|x|)` of
    /// `logits` x against `labels` z of the same shape (TF's
    /// `tf.nn.sigmoid_cross_entropy_with_logits`, recorded as one op
    /// `SigmoidCrossEntropyWithLogits` with default name `logistic_loss`).
    pub fn sigmoid_cross_entropy_with_logits(&self, labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
        self.xent("logistic_loss", "SigmoidCrossEntropyWithLogits", Op::SigmoidXent, labels, logits)
    }

    /// Softmax cross entropy `-sum(labels * log_softmax(logits))` over the
    /// last axis; the result drops that axis (op
    /// `SoftmaxCrossEntropyWithLogits`, default name
    /// `softmax_cross_entropy_with_logits`).
    pub fn softmax_cross_entropy_with_logits(&self, labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
        self.xent("softmax_cross_entropy_with_logits", "SoftmaxCrossEntropyWithLogits", Op::SoftmaxXent, labels, logits)
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
        const OP: &str = "LRN";
        let op = Op::Lrn { depth_radius, bias, alpha, beta };
        self.record_op(Naming::Helper { default: OP }, OP, op, &[x], |node| float_only(OP, node, x))
    }

    /// `sum(x²) / 2` (TF's `tf.nn.l2_loss`, op and default name `L2Loss`), the weight decay
    /// of cifar10.py.
    pub fn l2_loss(&self, x: &Tensor) -> Result<Tensor> {
        const OP: &str = "L2Loss";
        self.record_op(Naming::Helper { default: OP }, OP, Op::L2Loss, &[x], |node| float_only(OP, node, x))
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
        const OP: &str = "SparseSoftmaxCrossEntropyWithLogits";
        let mut outs = self.record_outputs(
            Naming::Nested { default: OP },
            OP,
            Op::SparseSoftmaxXent,
            &[logits, labels],
            |node| {
                float_only(OP, node, logits)?;
                if labels.dtype() != crate::dtype::DType::I32 {
                    return Err(super::unsupported(OP, node, labels.dtype(), "int32 labels"));
                }
                Ok(())
            },
        )?;
        super::first_output(OP, &mut outs)
    }

    fn xent(&self, default: &'static str, op_type: &'static str, op: Op, z: &Tensor, x: &Tensor) -> Result<Tensor> {
        self.record_op(Naming::Scoped { default }, op_type, op, &[z, x], |node| {
            same_dtype(op_type, node, z, x)?;
            float_only(op_type, node, x)
        })
    }
}

/// The value of the ops of this module, with every shape check.
pub(crate) fn forward(op: &Op, op_type: &'static str, node: &str, v: &[Value]) -> Result<Value> {
    let x = arg(op_type, node, v, 0)?;
    match op {
        Op::BiasAdd => {
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
            any_dispatch!(x.dtype(), bias_add_fwd(x, bias))
        }
        Op::Conv2D(win) => {
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
            float_dispatch!(x.dtype(), op_type, node, conv2d_fwd(x, filter, &win, node))
        }
        Op::MaxPool(win) | Op::AvgPool(win) => {
            win.geometry(op_type, node, x.shape(), &win.k)?;
            let max = matches!(op, Op::MaxPool(_));
            float_dispatch!(x.dtype(), op_type, node, pool_fwd(x, win, max, node))
        }
        Op::Softmax | Op::LogSoftmax => {
            if x.shape().is_empty() {
                return Err(op_error(op_type, node, "the logits must be of rank 1 or more"));
            }
            float_dispatch!(x.dtype(), op_type, node, softmax_fwd(x, *op == Op::LogSoftmax))
        }
        Op::SigmoidXent | Op::SoftmaxXent => {
            let (z, logits) = (x, arg(op_type, node, v, 1)?);
            same_value_dtype(op_type, node, z, logits)?;
            let softmax = *op == Op::SoftmaxXent;
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
        Op::Lrn { depth_radius, bias, alpha, beta } => {
            if x.shape().len() != 4 {
                return Err(op_error(op_type, node, "the input must be of rank 4 (NHWC)"));
            }
            float_dispatch!(x.dtype(), op_type, node, lrn_fwd(x, *depth_radius, *bias, *alpha, *beta))
        }
        Op::L2Loss => float_dispatch!(x.dtype(), op_type, node, l2_fwd(x)),
        _ => Err(Error::internal(format!("{op:?} is not an nn op"))),
    }
}

/// The loss per row and its gradient with respect to the logits (`SparseSoftmaxCrossEntropyWithLogits`).
pub(crate) fn sparse_xent_forward(op_type: &'static str, node: &str, v: &[Value]) -> Result<Vec<Value>> {
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
    let rows = as_rows::<T>(logits)?;
    let lse = log_sum_exp(&rows);
    let mut grad = rows.clone();
    let mut loss = Vec::with_capacity(ids.len());
    for (i, ((mut g, (m, s)), &id)) in grad.rows_mut().into_iter().zip(lse).zip(ids).enumerate() {
        loss.push(-((rows[[i, id]] - m) - s));
        g.mapv_inplace(|v| ((v - m) - s).exp());
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
    op: &Op,
    x: &[Value],
    y: &Value,
    g: &ArrayD<T>,
    need: &[bool],
) -> Result<Vec<Option<ArrayD<T>>>> {
    match op {
        Op::BiasAdd => {
            let mut gb = g.clone();
            while gb.ndim() > 1 {
                gb = gb.sum_axis(Axis(0));
            }
            Ok(vec![Some(g.clone()), Some(gb)])
        }
        Op::Conv2D(win) => conv2d_bwd(&x[0], &x[1], g, win, need),
        Op::MaxPool(win) => pool_bwd(&x[0], g, win, true),
        Op::AvgPool(win) => pool_bwd(&x[0], g, win, false),
        Op::Softmax | Op::LogSoftmax => {
            let yr = as_rows::<T>(y)?;
            let gr = as_rows::<T>(&T::wrap(g.clone()))?;
            let mut out = gr.clone();
            for ((mut o, yrow), grow) in out.rows_mut().into_iter().zip(yr.rows()).zip(gr.rows()) {
                if *op == Op::Softmax {
                    let dot = yrow.iter().zip(grow).fold(T::zero(), |s, (&a, &b)| s + a * b);
                    o.zip_mut_with(&yrow, |gv, &yv| *gv = (*gv - dot) * yv);
                } else {
                    let total = grow.sum();
                    o.zip_mut_with(&yrow, |gv, &yv| *gv -= yv.exp() * total);
                }
            }
            Ok(vec![Some(out.into_shape_with_order(IxDyn(g.shape())).map_err(internal)?)])
        }
        Op::SigmoidXent => {
            let (z, xs) = (typed::<T>(&x[0])?, typed::<T>(&x[1])?);
            let one = T::one();
            let gz = ndarray::Zip::from(g).and(xs).map_collect(|&g, &x| -g * x);
            let gx = ndarray::Zip::from(g).and(xs).and(z).map_collect(|&g, &x, &z| g * (sigmoid(x, one) - z));
            Ok(vec![Some(gz), Some(gx)])
        }
        Op::SoftmaxXent => {
            let (zr, xr) = (as_rows::<T>(&x[0])?, as_rows::<T>(&x[1])?);
            let gs: Vec<T> = g.iter().copied().collect();
            let lse = log_sum_exp(&xr);
            let mut gz = zr.clone();
            let mut gx = xr.clone();
            for (i, (m, s)) in lse.into_iter().enumerate() {
                let zsum = zr.row(i).sum();
                for j in 0..xr.ncols() {
                    let logp = (xr[[i, j]] - m) - s;
                    gz[[i, j]] = -gs[i] * logp;
                    gx[[i, j]] = gs[i] * (zsum * logp.exp() - zr[[i, j]]);
                }
            }
            let shape = IxDyn(x[1].shape());
            Ok(vec![
                Some(gz.into_shape_with_order(shape.clone()).map_err(internal)?),
                Some(gx.into_shape_with_order(shape).map_err(internal)?),
            ])
        }
        Op::Lrn { depth_radius, bias, alpha, beta } => {
            Ok(vec![Some(lrn_bwd(&x[0], g, *depth_radius, *bias, *alpha, *beta)?)])
        }
        Op::L2Loss => {
            let s = g.iter().next().copied().unwrap_or_else(T::zero);
            Ok(vec![Some(typed::<T>(&x[0])?.mapv(|v| v * s))])
        }
        Op::SparseSoftmaxXent => {
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
        _ => Err(Error::internal(format!("{op:?} is not an nn op"))),
    }
}
