//! Neural-network ops: `BiasAdd`, `Conv2D` (NHWC input, HWIO filter),
//! `MaxPool`, `AvgPool`, `Softmax`, `LogSoftmax`,
//! `SigmoidCrossEntropyWithLogits` and `SoftmaxCrossEntropyWithLogits`.
//!
//! Windows are laid out exactly as TensorFlow does: with `VALID` padding the
//! output has `ceil((in - k + 1) / stride)` positions; with `SAME` it has
//! `ceil(in / stride)` and the `max((out - 1) * stride + k - in, 0)` padded
//! cells are split with the extra one at the end (bottom/right).

use ndarray::{Array2, ArrayD, Axis, IxDyn};

use super::linalg::mm;
use super::math::sigmoid;
use super::{Elem, Float, Naming, Op, float_only, op_error, same_dtype, shapes_error, typed};
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};

/// How a window (convolution filter or pooling window) treats the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Pad with zeros so that the output has `ceil(in / stride)` positions;
    /// the extra padded row/column, if any, goes at the end.
    Same,
    /// No padding: only windows that fit entirely.
    Valid,
}

impl Padding {
    /// TensorFlow's spelling: `SAME` or `VALID`.
    pub fn as_str(self) -> &'static str {
        match self {
            Padding::Same => "SAME",
            Padding::Valid => "VALID",
        }
    }
}

/// A sliding window over the spatial dimensions of an NHWC tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) k: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) padding: Padding,
}

/// Where the windows sit: output size and padding before, per spatial axis.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    oh: usize,
    ow: usize,
    pad_top: usize,
    pad_left: usize,
}

/// TensorFlow's output size and padding before for one spatial axis.
fn out_and_pad(input: usize, k: usize, stride: usize, padding: Padding) -> Option<(usize, usize)> {
    match padding {
        Padding::Valid => (input >= k).then(|| ((input - k) / stride + 1, 0)),
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out.saturating_sub(1)) * stride + k).saturating_sub(input);
            Some((out, total / 2))
        }
    }
}

impl Window {
    fn geometry(&self, op: &'static str, node: &str, x: &[usize], other: &[usize]) -> Result<Geometry> {
        if x.len() != 4 {
            return Err(shapes_error(op, node, x, other, "the input must be of rank 4 (NHWC)"));
        }
        if self.stride.contains(&0) || self.k.contains(&0) {
            return Err(op_error(op, node, "strides and window sizes must be at least 1"));
        }
        let rows = out_and_pad(x[1], self.k[0], self.stride[0], self.padding);
        let cols = out_and_pad(x[2], self.k[1], self.stride[1], self.padding);
        let (Some((oh, pad_top)), Some((ow, pad_left))) = (rows, cols) else {
            return Err(shapes_error(
                op,
                node,
                x,
                other,
                format!(
                    "a {}x{} window does not fit with VALID padding: use SAME padding or a larger input",
                    self.k[0], self.k[1]
                ),
            ));
        };
        Ok(Geometry { n: x[0], h: x[1], w: x[2], c: x[3], oh, ow, pad_top, pad_left })
    }
}

impl Geometry {
    /// Calls `f(out_row, kernel_cell, input_offset)` for every output
    /// position and every window cell that falls inside the input, where
    /// `input_offset` is the start of the `c` channels of that input pixel
    /// and `kernel_cell` is `ki * kw + kj`.
    fn for_each(&self, win: &Window, mut f: impl FnMut(usize, usize, usize)) {
        let [kh, kw] = win.k;
        let [sh, sw] = win.stride;
        for n in 0..self.n {
            for oy in 0..self.oh {
                for ox in 0..self.ow {
                    let row = (n * self.oh + oy) * self.ow + ox;
                    for ki in 0..kh {
                        let Some(iy) = (oy * sh + ki).checked_sub(self.pad_top).filter(|&y| y < self.h) else {
                            continue;
                        };
                        for kj in 0..kw {
                            let Some(ix) = (ox * sw + kj).checked_sub(self.pad_left).filter(|&x| x < self.w) else {
                                continue;
                            };
                            f(row, ki * kw + kj, ((n * self.h + iy) * self.w + ix) * self.c);
                        }
                    }
                }
            }
        }
    }

    fn rows(&self) -> usize {
        self.n * self.oh * self.ow
    }
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("internal error: {e}"))
}

/// The contiguous elements of a value, in row-major order.
fn flat<T: Elem>(v: &Value) -> Result<Vec<T>> {
    let a = typed::<T>(v)?;
    Ok(match a.as_slice() {
        Some(s) => s.to_vec(),
        None => a.iter().copied().collect(),
    })
}

/// im2col: the `[n*oh*ow, kh*kw*c]` matrix of input patches (zeros where
/// the window hangs over the padding).
fn im2col<T: Elem>(x: &[T], geo: &Geometry, win: &Window) -> Array2<T> {
    let c = geo.c;
    let patch = win.k[0] * win.k[1] * c;
    let mut cols = vec![T::zero(); geo.rows() * patch];
    geo.for_each(win, |row, cell, off| {
        let dst = row * patch + cell * c;
        cols[dst..dst + c].copy_from_slice(&x[off..off + c]);
    });
    Array2::from_shape_vec((geo.rows(), patch), cols).unwrap_or_else(|_| Array2::zeros((0, 0)))
}

fn conv2d_fwd<T: Elem>(x: &Value, f: &Value, geo: &Geometry, win: &Window) -> Result<Value> {
    let cols = im2col(&flat::<T>(x)?, geo, win);
    let fs = typed::<T>(f)?;
    let o = fs.shape()[3];
    let f2 = fs.view().into_shape_with_order((cols.ncols(), o)).map_err(internal)?;
    let out = mm(cols.view(), false, f2, false);
    Ok(T::wrap(out.into_shape_with_order(IxDyn(&[geo.n, geo.oh, geo.ow, o])).map_err(internal)?))
}

fn conv2d_bwd<T: Float>(x: &Value, f: &Value, g: &ArrayD<T>, win: &Window) -> Result<Vec<Option<ArrayD<T>>>> {
    let geo = win.geometry("Conv2D", "", x.shape(), f.shape())?;
    let cols = im2col(&flat::<T>(x)?, &geo, win);
    let fs = typed::<T>(f)?;
    let o = fs.shape()[3];
    let f2 = fs.view().into_shape_with_order((cols.ncols(), o)).map_err(internal)?;
    let g2 = g.as_standard_layout();
    let g2 = g2.view().into_shape_with_order((geo.rows(), o)).map_err(internal)?;
    let gf = mm(cols.view(), true, g2, false).into_shape_with_order(IxDyn(fs.shape())).map_err(internal)?;
    let gcols = mm(g2, false, f2, true);
    let gc = gcols.as_slice().ok_or_else(|| internal("gradient columns not contiguous"))?;
    let patch = cols.ncols();
    let c = geo.c;
    let mut gx = vec![T::zero(); x.len()];
    geo.for_each(win, |row, cell, off| {
        let src = row * patch + cell * c;
        for (d, s) in gx[off..off + c].iter_mut().zip(&gc[src..src + c]) {
            *d += *s;
        }
    });
    let gx = ArrayD::from_shape_vec(IxDyn(x.shape()), gx).map_err(internal)?;
    Ok(vec![Some(gx), Some(gf)])
}

/// Max pooling forward; also returns, per output element, the flat index of
/// the input element chosen (the first maximum).
fn max_pool_fwd<T: Elem>(x: &[T], geo: &Geometry, win: &Window) -> (Vec<T>, Vec<usize>) {
    let c = geo.c;
    let mut best: Vec<Option<T>> = vec![None; geo.rows() * c];
    let mut arg = vec![0usize; geo.rows() * c];
    geo.for_each(win, |row, _, off| {
        for ch in 0..c {
            let v = x[off + ch];
            let slot = &mut best[row * c + ch];
            if slot.is_none_or(|b| v > b) {
                *slot = Some(v);
                arg[row * c + ch] = off + ch;
            }
        }
    });
    (best.into_iter().map(|b| b.unwrap_or_else(T::zero)).collect(), arg)
}

/// How many input cells each output window of an average pool covers.
fn avg_counts(geo: &Geometry, win: &Window) -> Vec<usize> {
    let mut counts = vec![0usize; geo.rows()];
    geo.for_each(win, |row, _, _| counts[row] += 1);
    counts
}

fn pool_fwd<T: Float>(x: &Value, geo: &Geometry, win: &Window, max: bool) -> Result<Value> {
    let xs = flat::<T>(x)?;
    let c = geo.c;
    let out = if max {
        max_pool_fwd(&xs, geo, win).0
    } else {
        let mut sums = vec![T::zero(); geo.rows() * c];
        geo.for_each(win, |row, _, off| {
            for ch in 0..c {
                sums[row * c + ch] += xs[off + ch];
            }
        });
        let counts = avg_counts(geo, win);
        for (i, s) in sums.iter_mut().enumerate() {
            *s /= T::c(counts[i / c.max(1)].max(1) as f64);
        }
        sums
    };
    Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(&[geo.n, geo.oh, geo.ow, c]), out).map_err(internal)?))
}

fn pool_bwd<T: Float>(x: &Value, g: &ArrayD<T>, win: &Window, max: bool) -> Result<Vec<Option<ArrayD<T>>>> {
    let geo = win.geometry("MaxPool", "", x.shape(), &[])?;
    let gs = g.as_standard_layout();
    let gs = gs.as_slice().ok_or_else(|| internal("gradient not contiguous"))?;
    let c = geo.c;
    let mut gx = vec![T::zero(); x.len()];
    if max {
        let (_, arg) = max_pool_fwd(&flat::<T>(x)?, &geo, win);
        for (i, &a) in arg.iter().enumerate() {
            gx[a] += gs[i];
        }
    } else {
        let counts = avg_counts(&geo, win);
        geo.for_each(win, |row, _, off| {
            let n = T::c(counts[row].max(1) as f64);
            for ch in 0..c {
                gx[off + ch] += gs[row * c + ch] / n;
            }
        });
    }
    Ok(vec![Some(ArrayD::from_shape_vec(IxDyn(x.shape()), gx).map_err(internal)?)])
}

/// Rows of the last axis: the value as `[rows, last]`.
fn as_rows<T: Elem>(v: &Value) -> Result<Array2<T>> {
    let a = typed::<T>(v)?;
    let last = a.shape().last().copied().unwrap_or(1);
    let rows = a.len().checked_div(last).unwrap_or(0);
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

fn bias_add_fwd<T: Elem>(x: &Value, b: &Value) -> Result<Value> {
    let (x, b) = (typed::<T>(x)?, typed::<T>(b)?);
    let out = super::math::zip2(x.view(), b.view(), x.shape(), |x, b| x + b)?;
    Ok(T::wrap(out))
}

impl Scope {
    /// Adds a rank-1 `bias` along the last axis of `x` (rank ≥ 2; op and
    /// default name `BiasAdd`, NHWC).
    pub fn bias_add(&mut self, x: &Tensor, bias: &Tensor) -> Result<Tensor> {
        const OP: &str = "BiasAdd";
        self.record_op(
            Naming::Scoped { default: OP },
            OP,
            Op::BiasAdd,
            &[x, bias],
            |node| same_dtype(OP, node, x, bias),
            |node, v| {
                let (sx, sb) = (x.shape(), bias.shape());
                if sx.len() < 2 || sb.len() != 1 || sx.last() != sb.last() {
                    return Err(shapes_error(
                        OP,
                        node,
                        sx,
                        sb,
                        "the input must be of rank 2 or more and the bias a vector as long as its last dimension",
                    ));
                }
                any_dispatch!(x.dtype(), bias_add_fwd(&v[0], &v[1]))
            },
        )
    }

    /// 2-D convolution of an NHWC `input` with an HWIO `filter` (op and
    /// default name `Conv2D`); `strides` are along height and width
    /// (TensorFlow's `[1, sh, sw, 1]`).
    ///
    /// ```
    /// use scope_runtime::{Graph, ops::Padding};
    /// use ndarray::ArrayD;
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let x = cx.constant(ArrayD::<f32>::ones(vec![1, 5, 5, 1]))?;
    /// let f = cx.constant(ArrayD::<f32>::ones(vec![3, 3, 1, 2]))?;
    /// let y = cx.conv2d(&x, &f, [2, 2], Padding::Same)?;
    /// assert_eq!(y.shape(), &[1, 3, 3, 2]);
    /// // The top-left window hangs over one padded row and column.
    /// assert_eq!(y.value().to_f64_vec()[0], 4.0);
    /// # Ok::<(), scope_runtime::Error>(())
    /// ```
    pub fn conv2d(&mut self, input: &Tensor, filter: &Tensor, strides: [usize; 2], padding: Padding) -> Result<Tensor> {
        const OP: &str = "Conv2D";
        let fs = filter.shape();
        let k = if fs.len() == 4 { [fs[0], fs[1]] } else { [1, 1] };
        let win = Window { k, stride: strides, padding };
        self.record_op(
            Naming::Scoped { default: OP },
            OP,
            Op::Conv2D(win),
            &[input, filter],
            |node| {
                same_dtype(OP, node, input, filter)?;
                float_only(OP, node, input)
            },
            |node, v| {
                let (sx, sf) = (input.shape(), filter.shape());
                if sf.len() != 4 {
                    return Err(shapes_error(OP, node, sx, sf, "the filter must be of rank 4 (HWIO)"));
                }
                let geo = win.geometry(OP, node, sx, sf)?;
                if sf[2] != geo.c {
                    return Err(shapes_error(
                        OP,
                        node,
                        sx,
                        sf,
                        format!("the filter's input depth {} must equal the input's channels {}", sf[2], geo.c),
                    ));
                }
                float_dispatch!(input.dtype(), OP, node, conv2d_fwd(&v[0], &v[1], &geo, &win))
            },
        )
    }

    /// Max pooling of an NHWC tensor over `ksize` windows (op and default
    /// name `MaxPool`); padded cells never win.
    pub fn max_pool(&mut self, x: &Tensor, ksize: [usize; 2], strides: [usize; 2], padding: Padding) -> Result<Tensor> {
        self.pool("MaxPool", x, Window { k: ksize, stride: strides, padding })
    }

    /// Average pooling of an NHWC tensor (op and default name `AvgPool`);
    /// as in TensorFlow, each window averages only the cells inside the input.
    pub fn avg_pool(&mut self, x: &Tensor, ksize: [usize; 2], strides: [usize; 2], padding: Padding) -> Result<Tensor> {
        self.pool("AvgPool", x, Window { k: ksize, stride: strides, padding })
    }

    fn pool(&mut self, op_type: &'static str, x: &Tensor, win: Window) -> Result<Tensor> {
        let max = op_type == "MaxPool";
        let op = if max { Op::MaxPool(win) } else { Op::AvgPool(win) };
        self.record_op(
            Naming::Scoped { default: op_type },
            op_type,
            op,
            &[x],
            |node| float_only(op_type, node, x),
            |node, v| {
                let geo = win.geometry(op_type, node, x.shape(), &win.k)?;
                float_dispatch!(x.dtype(), op_type, node, pool_fwd(&v[0], &geo, &win, max))
            },
        )
    }

    /// Softmax over the last axis (op and default name `Softmax`).
    pub fn softmax(&mut self, logits: &Tensor) -> Result<Tensor> {
        self.softmax_like("Softmax", Op::Softmax, logits)
    }

    /// Log-softmax over the last axis (op and default name `LogSoftmax`).
    pub fn log_softmax(&mut self, logits: &Tensor) -> Result<Tensor> {
        self.softmax_like("LogSoftmax", Op::LogSoftmax, logits)
    }

    fn softmax_like(&mut self, op_type: &'static str, op: Op, x: &Tensor) -> Result<Tensor> {
        let log = op == Op::LogSoftmax;
        self.record_op(
            Naming::Scoped { default: op_type },
            op_type,
            op,
            &[x],
            |node| float_only(op_type, node, x),
            |node, v| {
                if x.shape().is_empty() {
                    return Err(op_error(op_type, node, "the logits must be of rank 1 or more"));
                }
                float_dispatch!(x.dtype(), op_type, node, softmax_fwd(&v[0], log))
            },
        )
    }

    /// Elementwise logistic loss `max(x, 0) - x * z + log(1 + e^-|x|)` of
    /// `logits` x against `labels` z of the same shape (TF's
    /// `tf.nn.sigmoid_cross_entropy_with_logits`, recorded as one op
    /// `SigmoidCrossEntropyWithLogits` with default name `logistic_loss`).
    pub fn sigmoid_cross_entropy_with_logits(&mut self, labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
        self.xent("logistic_loss", "SigmoidCrossEntropyWithLogits", Op::SigmoidXent, labels, logits)
    }

    /// Softmax cross entropy `-sum(labels * log_softmax(logits))` over the
    /// last axis; the result drops that axis (op
    /// `SoftmaxCrossEntropyWithLogits`, default name
    /// `softmax_cross_entropy_with_logits`).
    pub fn softmax_cross_entropy_with_logits(&mut self, labels: &Tensor, logits: &Tensor) -> Result<Tensor> {
        self.xent("softmax_cross_entropy_with_logits", "SoftmaxCrossEntropyWithLogits", Op::SoftmaxXent, labels, logits)
    }

    fn xent(&mut self, default: &'static str, op_type: &'static str, op: Op, z: &Tensor, x: &Tensor) -> Result<Tensor> {
        let softmax = op == Op::SoftmaxXent;
        self.record_op(
            Naming::Scoped { default },
            op_type,
            op,
            &[z, x],
            |node| {
                same_dtype(op_type, node, z, x)?;
                float_only(op_type, node, x)
            },
            |node, v| {
                if z.shape() != x.shape() || (softmax && x.shape().is_empty()) {
                    return Err(shapes_error(
                        op_type,
                        node,
                        z.shape(),
                        x.shape(),
                        "labels and logits must have the same shape (of rank 1 or more for softmax)",
                    ));
                }
                float_dispatch!(x.dtype(), op_type, node, xent_fwd(&v[0], &v[1], softmax))
            },
        )
    }
}

/// Gradients of the ops of this module.
pub(crate) fn backward<T: Float>(op: &Op, x: &[Value], y: &Value, g: &ArrayD<T>) -> Result<Vec<Option<ArrayD<T>>>> {
    match op {
        Op::BiasAdd => {
            let mut gb = g.clone();
            while gb.ndim() > 1 {
                gb = gb.sum_axis(Axis(0));
            }
            Ok(vec![Some(g.clone()), Some(gb)])
        }
        Op::Conv2D(win) => conv2d_bwd(&x[0], &x[1], g, win),
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
        _ => Err(Error::invalid(format!("internal error: {op:?} is not an nn op"))),
    }
}
