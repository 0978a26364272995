//! Reductions over axes: `Sum`, `Mean`, `Max`, with `keepdims`.

use ndarray::{ArrayD, Axis, IxDyn, Zip};

use super::{Elem, Float, Naming, ReduceOp, arg, float_only, norm_axis, op_error, typed};
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};

/// Which axes a reduction folds: all of them (TF's `axis=None`) or a list,
/// where negative axes count from the end.
///
/// ```
/// use varscope::ops::Axes;
/// assert_eq!(Axes::from(-1), Axes::List(vec![-1]));
/// assert_eq!(Axes::from([0, 2]), Axes::List(vec![0, 2]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Axes {
    /// Every axis: the result is a scalar (or all ones with `keepdims`).
    All,
    /// These axes; an empty list reduces nothing.
    List(Vec<isize>),
}

impl From<isize> for Axes {
    fn from(axis: isize) -> Axes {
        Axes::List(vec![axis])
    }
}

impl<const N: usize> From<[isize; N]> for Axes {
    fn from(axes: [isize; N]) -> Axes {
        Axes::List(axes.to_vec())
    }
}

impl From<&[isize]> for Axes {
    fn from(axes: &[isize]) -> Axes {
        Axes::List(axes.to_vec())
    }
}

impl From<Vec<isize>> for Axes {
    fn from(axes: Vec<isize>) -> Axes {
        Axes::List(axes)
    }
}

/// The sorted, distinct axes `axes` names in a tensor of rank `rank`.
fn resolve(op: &'static str, node: &str, axes: &Axes, rank: usize) -> Result<Vec<usize>> {
    let mut out = match axes {
        Axes::All => (0..rank).collect(),
        Axes::List(list) => list.iter().map(|&a| norm_axis(op, node, a, rank)).collect::<Result<Vec<_>>>()?,
    };
    out.sort_unstable();
    let before = out.len();
    out.dedup();
    if out.len() != before {
        return Err(op_error(op, node, "an axis is listed twice: list each axis once"));
    }
    Ok(out)
}

/// The input shape with the reduced axes set to 1.
fn kept_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect()
}

fn reduce_with<T: Elem>(a: &ArrayD<T>, axes: &[usize], keepdims: bool, max: bool) -> ArrayD<T> {
    let mut r = a.clone();
    for &ax in axes.iter().rev() {
        r = if max {
            r.fold_axis(Axis(ax), T::lowest(), |&m, &v| if v > m { v } else { m })
        } else {
            T::sum_axis(&r, Axis(ax))
        };
    }
    if keepdims {
        for &ax in axes {
            r = r.insert_axis(Axis(ax));
        }
    }
    r
}

fn reduce_fwd<T: Elem>(v: &Value, axes: &[usize], keepdims: bool, max: bool) -> Result<Value> {
    Ok(T::wrap(reduce_with(&typed::<T>(v)?.to_owned(), axes, keepdims, max)))
}

fn mean_fwd<T: Float>(v: &Value, axes: &[usize], keepdims: bool) -> Result<Value> {
    let a = typed::<T>(v)?;
    let count: usize = axes.iter().map(|&i| a.shape()[i]).product();
    let s = reduce_with(&a.to_owned(), axes, keepdims, false);
    Ok(T::wrap(s.mapv(|x| x / T::c(count as f64))))
}

impl Scope {
    /// Sum over `axes` (TF's `tf.reduce_sum`; op and default name `Sum`).
    ///
    /// ```
    /// use varscope::{Graph, ops::Axes};
    /// use varscope::ndarray::{ArrayD, IxDyn};
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let x = cx.constant(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0f32, 2.0, 3.0, 4.0]).unwrap())?;
    /// assert_eq!(cx.reduce_sum(&x, 0, false)?.value().to_f64_vec(), vec![4.0, 6.0]);
    /// assert_eq!(cx.reduce_sum(&x, Axes::All, true)?.shape(), &[1, 1]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn reduce_sum(&self, x: &Tensor, axes: impl Into<Axes>, keepdims: bool) -> Result<Tensor> {
        self.reduce(|axes, keepdims| ReduceOp::Sum { axes, keepdims }, x, axes.into(), keepdims)
    }

    /// Mean over `axes` of a float tensor (TF's `tf.reduce_mean`; op and
    /// default name `Mean`).
    pub fn reduce_mean(&self, x: &Tensor, axes: impl Into<Axes>, keepdims: bool) -> Result<Tensor> {
        self.reduce(|axes, keepdims| ReduceOp::Mean { axes, keepdims }, x, axes.into(), keepdims)
    }

    /// Maximum over `axes` (TF's `tf.reduce_max`; op and default name `Max`).
    pub fn reduce_max(&self, x: &Tensor, axes: impl Into<Axes>, keepdims: bool) -> Result<Tensor> {
        self.reduce(|axes, keepdims| ReduceOp::Max { axes, keepdims }, x, axes.into(), keepdims)
    }

    /// A reduction `make` builds once its axes are resolved against `x`'s rank.
    fn reduce(&self, make: fn(Vec<usize>, bool) -> ReduceOp, x: &Tensor, axes: Axes, keepdims: bool) -> Result<Tensor> {
        // The op type does not depend on the axes.
        let unresolved = make(Vec::new(), keepdims);
        let op_type = unresolved.op_type();
        let mean = matches!(unresolved, ReduceOp::Mean { .. });
        self.record_computed(
            Naming::Helper { default: op_type },
            op_type,
            &[x],
            |node| if mean { float_only(op_type, node, x) } else { Ok(()) },
            |node, v| {
                let op = make(resolve(op_type, node, &axes, x.shape().len())?, keepdims);
                Ok((vec![forward(&op, node, v)?], op.into()))
            },
        )
        .and_then(|mut outs| super::first_output(op_type, &mut outs))
    }
}

/// A reduction's value; its axes were resolved against the input's rank.
pub(crate) fn forward(op: &ReduceOp, node: &str, v: &[Value]) -> Result<Value> {
    let op_type = op.op_type();
    let x = arg(op_type, node, v, 0)?;
    let (ReduceOp::Sum { axes, keepdims } | ReduceOp::Mean { axes, keepdims } | ReduceOp::Max { axes, keepdims }) = op;
    if let Some(&ax) = axes.iter().find(|&&a| a >= x.shape().len()) {
        return Err(op_error(
            op_type,
            node,
            format!("axis {ax} is out of range for a tensor of rank {}", x.shape().len()),
        ));
    }
    match op {
        ReduceOp::Sum { .. } => any_dispatch!(x.dtype(), reduce_fwd(x, axes, *keepdims, false)),
        ReduceOp::Max { .. } => any_dispatch!(x.dtype(), reduce_fwd(x, axes, *keepdims, true)),
        ReduceOp::Mean { .. } => float_dispatch!(x.dtype(), op_type, node, mean_fwd(x, axes, *keepdims)),
    }
}

/// Gradients of the reductions.
pub(crate) fn backward<T: Float>(
    op: &ReduceOp,
    x: &[Value],
    y: &Value,
    g: &ArrayD<T>,
) -> Result<Vec<Option<ArrayD<T>>>> {
    let (ReduceOp::Sum { axes, .. } | ReduceOp::Mean { axes, .. } | ReduceOp::Max { axes, .. }) = op;
    let xa = typed::<T>(&x[0])?;
    let keep = IxDyn(&kept_shape(xa.shape(), axes));
    let internal = |e: ndarray::ShapeError| Error::internal(format!("{e}"));
    let gk = g.as_standard_layout().into_owned().into_shape_with_order(keep.clone()).map_err(internal)?;
    let gb = gk.broadcast(xa.raw_dim()).ok_or_else(|| Error::internal("gradient does not broadcast"))?;
    let out = match op {
        ReduceOp::Sum { .. } => gb.to_owned(),
        ReduceOp::Mean { .. } => {
            let count: usize = axes.iter().map(|&i| xa.shape()[i]).product();
            gb.mapv(|v| v / T::c(count.max(1) as f64))
        }
        ReduceOp::Max { .. } => {
            let yk = typed::<T>(y)?.as_standard_layout().into_owned().into_shape_with_order(keep).map_err(internal)?;
            let yb = yk.broadcast(xa.raw_dim()).ok_or_else(|| Error::internal("max does not broadcast"))?;
            // Ties share the gradient equally, as in TensorFlow.
            let mask = Zip::from(xa).and(&yb).map_collect(|&x, &y| if x == y { T::one() } else { T::zero() });
            let ties = reduce_with(&mask, axes, true, false);
            let tb = ties.broadcast(xa.raw_dim()).ok_or_else(|| Error::internal("ties do not broadcast"))?;
            Zip::from(&mask).and(&gb).and(&tb).map_collect(|&m, &g, &t| m * g / t.max(T::one()))
        }
    };
    Ok(vec![Some(out)])
}
