//! The ops optimizers, gradient clipping and learning-rate schedules need:
//! `Cast`, `Minimum`, `Maximum`, the row updates `ScatterUpdate`,
//! `ScatterAdd`, `ScatterSub`, and `Unique` / `UnsortedSegmentSum` (which
//! sum the rows of a sparse gradient that hit the same index).

use ndarray::{ArrayD, Axis, IxDyn};

use super::basic::broadcast_shapes;
use super::math::zip2;
use super::{
    Elem, Float, Naming, TrainOp, arg, op_error, same_value_dtype, shapes_error, typed, unbroadcast, unsupported,
};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::record::AssignKind;
use crate::scope::Scope;
use crate::tensor::{Origin, Tensor, Value, checked_len, too_large};

impl Scope {
    /// `x` converted to `dtype` (TF's `tf.cast`, op and default name `Cast`):
    /// floats round to nearest, floats to integers truncate toward zero (out of
    /// range saturates), integers widen or wrap. Its gradient is cast back for
    /// float inputs; integer inputs get none.
    ///
    /// ```
    /// use varscope::{DType, Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let step = cx.constant(Value::from(7i64))?;
    /// let x = cx.cast(&step, DType::F32)?;
    /// assert_eq!((x.name(), x.dtype()), ("Cast:0", DType::F32));
    /// assert_eq!(x.value().to_f64_vec(), vec![7.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn cast(&self, x: &Tensor, dtype: DType) -> Result<Tensor> {
        self.record_op(Naming::Scoped { default: "Cast" }, TrainOp::Cast { to: dtype }, &[x], |_| Ok(()))
    }

    /// The elementwise smaller of `a` and `b`, with broadcasting (TF's
    /// `tf.minimum`, op and default name `Minimum`). The gradient goes to `a`
    /// where `a <= b`, else to `b`, as in TF.
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let a = cx.constant(Value::from(vec![1.0f32, 5.0]))?;
    /// let b = cx.constant(3.0f32)?;
    /// assert_eq!(cx.minimum(&a, &b)?.value().to_f64_vec(), vec![1.0, 3.0]);
    /// assert_eq!(cx.maximum(&a, &b)?.value().to_f64_vec(), vec![3.0, 5.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn minimum(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.record_op(Naming::Helper { default: "Minimum" }, TrainOp::Minimum, &[a, b], |_| Ok(()))
    }

    /// The elementwise larger of `a` and `b`, with broadcasting (TF's
    /// `tf.maximum`, op and default name `Maximum`); the gradient goes to `a`
    /// where `a >= b`, else to `b`.
    pub fn maximum(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.record_op(Naming::Helper { default: "Maximum" }, TrainOp::Maximum, &[a, b], |_| Ok(()))
    }

    /// The largest integer not above each element of the float `x` (TF's
    /// `tf.floor`, op and default name `Floor`); its gradient is zero.
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![1.5f32, -0.5]))?;
    /// assert_eq!(cx.floor(&x)?.value().to_f64_vec(), vec![1.0, -1.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn floor(&self, x: &Tensor) -> Result<Tensor> {
        let op_type = TrainOp::Floor.op_type();
        self.record_op(Naming::Helper { default: op_type }, TrainOp::Floor, &[x], |node| {
            super::float_only(op_type, node, x)
        })
    }

    /// `var[indices[i]] = updates[i]` for each `i` in order (TF's
    /// `tf.compat.v1.scatter_update`, op and default name `ScatterUpdate`),
    /// now and whenever a [`Session`](crate::Session) runs it; the output is
    /// the variable's new value. `updates` has shape `indices.shape ++
    /// var.shape[1..]`; an index out of `[0, var.shape[0])` is an error.
    ///
    /// ```
    /// use varscope::{Graph, Init, Value, VarSpec};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let v = cx.get_variable("v", VarSpec::new().shape([3]).init(Init::constant(1.0)))?;
    /// let ids = cx.constant(Value::from(vec![0i32, 2, 2]))?;
    /// let d = cx.constant(Value::from(vec![1.0f32, 0.5, 0.25]))?;
    /// cx.scatter_sub(&v, &ids, &d)?; // duplicates accumulate
    /// assert_eq!(v.value().to_f64_vec(), vec![0.0, 1.0, 0.25]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn scatter_update(&self, var: &Tensor, indices: &Tensor, updates: &Tensor) -> Result<Tensor> {
        self.scatter(AssignKind::Set, var, indices, updates)
    }

    /// `var[indices[i]] += updates[i]` (TF's `scatter_add`, op `ScatterAdd`):
    /// see [`Scope::scatter_update`]; duplicate indices accumulate.
    pub fn scatter_add(&self, var: &Tensor, indices: &Tensor, updates: &Tensor) -> Result<Tensor> {
        self.scatter(AssignKind::Add, var, indices, updates)
    }

    /// `var[indices[i]] -= updates[i]` (TF's `scatter_sub`, op `ScatterSub`):
    /// see [`Scope::scatter_update`]; duplicate indices accumulate.
    pub fn scatter_sub(&self, var: &Tensor, indices: &Tensor, updates: &Tensor) -> Result<Tensor> {
        self.scatter(AssignKind::Sub, var, indices, updates)
    }

    /// The distinct elements of the rank-1 int32 `x` in order of first
    /// appearance, and for each element of `x` the position of its value
    /// among them (TF's `tf.unique`, op and default name `Unique`; two outputs).
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let x = cx.constant(Value::from(vec![2i32, 0, 2]))?;
    /// let (y, idx) = cx.unique(&x)?;
    /// assert_eq!(y.value().to_f64_vec(), vec![2.0, 0.0]);
    /// assert_eq!((idx.name(), idx.value().to_f64_vec()), ("Unique:1", vec![0.0, 1.0, 0.0]));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn unique(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let op_type = TrainOp::Unique.op_type();
        let mut out = self.record_outputs(Naming::Helper { default: op_type }, TrainOp::Unique, &[x], |node| {
            int32_vector(op_type, node, x)
        })?;
        let idx = out.pop().ok_or_else(|| Error::internal("Unique made no second output"))?;
        let y = out.pop().ok_or_else(|| Error::internal("Unique made no output"))?;
        Ok((y, idx))
    }

    /// Sums the rows of `data` that share a segment: row `s` of the output is
    /// the sum, in order, of the rows `i` with `segment_ids[i] == s` (zeros if
    /// none), for `s` in `[0, like.shape[0])` (TF's `tf.math.unsorted_segment_sum`
    /// with `num_segments = tf.shape(like)[0]`, op `UnsortedSegmentSum`).
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let rows = cx.constant(Value::from(vec![1.0f32, 2.0, 4.0]))?;
    /// let (unique, idx) = cx.unique(&cx.constant(Value::from(vec![3i32, 1, 3]))?)?;
    /// let summed = cx.unsorted_segment_sum(&rows, &idx, &unique)?;
    /// assert_eq!(summed.value().to_f64_vec(), vec![5.0, 2.0]);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn unsorted_segment_sum(&self, data: &Tensor, segment_ids: &Tensor, like: &Tensor) -> Result<Tensor> {
        const OP: TrainOp = TrainOp::UnsortedSegmentSum;
        let op_type = OP.op_type();
        self.record_op(Naming::Helper { default: op_type }, OP, &[data, segment_ids, like], |node| {
            int32_vector(op_type, node, segment_ids)
        })
    }

    fn scatter(&self, kind: AssignKind, var: &Tensor, indices: &Tensor, updates: &Tensor) -> Result<Tensor> {
        let op = TrainOp::Scatter(kind);
        let op_type = op.op_type();
        let out = self.record_op(Naming::Helper { default: op_type }, op, &[var, indices, updates], |node| {
            if !matches!(var.origin(), Origin::Variable { .. }) {
                return Err(op_error(
                    op_type,
                    node,
                    format!("`{}` is not a variable: scatter into a variable", var.name()),
                ));
            }
            if indices.dtype() != DType::I32 {
                return Err(unsupported(op_type, node, indices.dtype(), "int32 indices"));
            }
            Ok(())
        })?;
        var.set_value(out.value());
        Ok(out)
    }
}

fn int32_vector(op: &'static str, node: &str, t: &Tensor) -> Result<()> {
    if t.dtype() != DType::I32 {
        return Err(unsupported(op, node, t.dtype(), "int32"));
    }
    if t.shape().len() != 1 {
        return Err(op_error(
            op,
            node,
            format!("`{}` must be a vector (rank 1), not of rank {}", t.name(), t.shape().len()),
        ));
    }
    Ok(())
}

/// The values of the ops of this file.
pub(crate) fn forward(op: &TrainOp, node: &str, v: &[Value], out: &mut Vec<Value>) -> Result<()> {
    let op_type = op.op_type();
    let x = arg(op_type, node, v, 0)?;
    let y = match *op {
        TrainOp::Cast { to } => cast(x, to),
        TrainOp::Floor => match x {
            Value::F32(a) => Value::F32(a.mapv(f32::floor).into_shared()),
            Value::F64(a) => Value::F64(a.mapv(f64::floor).into_shared()),
            other => return Err(unsupported(op_type, node, other.dtype(), "float32 or float64")),
        },
        TrainOp::Minimum | TrainOp::Maximum => {
            let y = arg(op_type, node, v, 1)?;
            same_value_dtype(op_type, node, x, y)?;
            let shape = broadcast_shapes(x.shape(), y.shape()).ok_or_else(|| {
                shapes_error(op_type, node, x.shape(), y.shape(), "dimensions must be equal or 1 to broadcast")
            })?;
            if checked_len(&shape).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &shape));
            }
            let max = *op == TrainOp::Maximum;
            any_dispatch!(x.dtype(), extremum(max, x, y, &shape))?
        }
        TrainOp::Scatter(kind) => {
            let (indices, updates) = (ids(op_type, node, arg(op_type, node, v, 1)?)?, arg(op_type, node, v, 2)?);
            same_value_dtype(op_type, node, x, updates)?;
            let rows = x.shape().first().copied().unwrap_or(0);
            let mut want = arg(op_type, node, v, 1)?.shape().to_vec();
            want.extend_from_slice(x.shape().get(1..).unwrap_or_default());
            if x.shape().is_empty() || updates.shape() != want.as_slice() {
                return Err(shapes_error(
                    op_type,
                    node,
                    x.shape(),
                    updates.shape(),
                    format!("the updates must have shape {want:?} (the indices' shape, then the variable's rows)"),
                ));
            }
            check_range(op_type, node, &indices, rows)?;
            any_dispatch!(x.dtype(), scatter(kind, x, &indices, updates))?
        }
        TrainOp::Unique => {
            let x = ids(op_type, node, x)?;
            let mut seen = std::collections::HashMap::new();
            let mut y = Vec::new();
            let idx: Vec<i32> = x
                .iter()
                .map(|&i| {
                    *seen.entry(i).or_insert_with(|| {
                        y.push(i as i32);
                        (y.len() - 1) as i32
                    })
                })
                .collect();
            out.extend([Value::from(y), Value::from(idx)]);
            return Ok(());
        }
        TrainOp::UnsortedSegmentSum => {
            let segs = ids(op_type, node, arg(op_type, node, v, 1)?)?;
            let n = arg(op_type, node, v, 2)?.shape().first().copied().unwrap_or(0);
            if x.shape().first() != Some(&segs.len()) {
                return Err(shapes_error(
                    op_type,
                    node,
                    x.shape(),
                    &[segs.len()],
                    "the data must have one row per segment id",
                ));
            }
            check_range(op_type, node, &segs, n)?;
            any_dispatch!(x.dtype(), segment_sum(x, &segs, n))?
        }
    };
    out.push(y);
    Ok(())
}

/// Row indices of an int32 value (refused if negative).
fn ids(op_type: &'static str, node: &str, v: &Value) -> Result<Vec<usize>> {
    let a = v.as_i32().ok_or_else(|| unsupported(op_type, node, v.dtype(), "int32 indices"))?;
    a.iter()
        .map(|&i| {
            usize::try_from(i).map_err(|_| op_error(op_type, node, format!("index {i} is negative: use indices >= 0")))
        })
        .collect()
}

fn check_range(op_type: &'static str, node: &str, ids: &[usize], rows: usize) -> Result<()> {
    match ids.iter().find(|&&i| i >= rows) {
        Some(i) => {
            Err(op_error(op_type, node, format!("index {i} is out of range [0, {rows}): use a row that exists")))
        }
        None => Ok(()),
    }
}

fn extremum<T: Elem>(max: bool, a: &Value, b: &Value, shape: &[usize]) -> Result<Value> {
    let (a, b) = (typed::<T>(a)?.view(), typed::<T>(b)?.view());
    let out = if max {
        zip2(a, b, shape, |x, y| if x >= y { x } else { y })?
    } else {
        zip2(a, b, shape, |x, y| if x <= y { x } else { y })?
    };
    Ok(T::wrap(out))
}

fn scatter<T: Elem>(kind: AssignKind, var: &Value, ids: &[usize], updates: &Value) -> Result<Value> {
    let mut out = typed::<T>(var)?.to_owned();
    let rows = typed::<T>(updates)?;
    let row_len: usize = out.shape()[1..].iter().product();
    let flat = rows.as_standard_layout();
    let src = flat.as_slice().ok_or_else(|| Error::internal("scatter updates are not contiguous"))?;
    let dst = out.as_slice_mut().ok_or_else(|| Error::internal("a scattered variable is not contiguous"))?;
    for (k, &i) in ids.iter().enumerate() {
        let (to, from) = (&mut dst[i * row_len..(i + 1) * row_len], &src[k * row_len..(k + 1) * row_len]);
        for (d, &s) in to.iter_mut().zip(from) {
            *d = match kind {
                AssignKind::Set => s,
                AssignKind::Add => d.plus(s),
                AssignKind::Sub => d.minus(s),
            };
        }
    }
    Ok(T::wrap(out))
}

fn segment_sum<T: Elem>(data: &Value, segs: &[usize], n: usize) -> Result<Value> {
    let data = typed::<T>(data)?;
    let mut shape = data.shape().to_vec();
    shape[0] = n;
    let mut out = ArrayD::<T>::zeros(IxDyn(&shape));
    for (row, &s) in data.axis_iter(Axis(0)).zip(segs) {
        let mut dst = out.index_axis_mut(Axis(0), s);
        dst.zip_mut_with(&row, |d, &x| *d = d.plus(x));
    }
    Ok(T::wrap(out))
}

fn cast(x: &Value, to: DType) -> Value {
    macro_rules! conv {
        ($a:expr) => {
            match to {
                DType::F32 => Value::F32($a.mapv(|v| v as f32).into_shared()),
                DType::F64 => Value::F64($a.mapv(|v| v as f64).into_shared()),
                DType::I32 => Value::I32($a.mapv(|v| v as i32).into_shared()),
                DType::I64 => Value::I64($a.mapv(|v| v as i64).into_shared()),
            }
        };
    }
    match x {
        Value::F32(a) => conv!(a),
        Value::F64(a) => conv!(a),
        Value::I32(a) => conv!(a),
        Value::I64(a) => conv!(a),
    }
}

/// The gradient of a `Cast`: the output's gradient cast back to a float
/// input's dtype (none for an integer input, as TF).
pub(crate) fn cast_backward(x: &Value, g: Option<&Value>) -> Vec<Option<Value>> {
    match g {
        Some(g) if x.dtype().is_float() && g.dtype().is_float() => vec![Some(cast(g, x.dtype()))],
        _ => vec![None],
    }
}

/// Gradients of `Minimum` / `Maximum` (input order), `UnsortedSegmentSum` (the data only)
/// and `Floor` (zero). Row updates and `Unique` have no gradient in TF either;
/// `Cast`'s changes dtype, so it is [`cast_backward`].
pub(crate) fn backward<T: Float>(op: &TrainOp, x: &[Value], g: &ArrayD<T>) -> Result<Vec<Option<ArrayD<T>>>> {
    match op {
        TrainOp::Cast { .. } | TrainOp::Scatter(_) | TrainOp::Unique => Ok(Vec::new()),
        // `Floor` is piecewise constant: a zero gradient, as TF's.
        TrainOp::Floor => Ok(vec![Some(ArrayD::<T>::zeros(IxDyn(x[0].shape())))]),
        TrainOp::Minimum | TrainOp::Maximum => {
            let (a, b) = (typed::<T>(&x[0])?, typed::<T>(&x[1])?);
            let shape = g.shape().to_vec();
            let max = *op == TrainOp::Maximum;
            let first = |p: T, q: T| if max { p >= q } else { p <= q };
            let zero = T::zero();
            let dim = IxDyn(&shape);
            let (Some(ab), Some(bb)) = (a.broadcast(dim.clone()), b.broadcast(dim)) else {
                return Err(Error::internal("shapes do not broadcast"));
            };
            let ga =
                ndarray::Zip::from(g).and(&ab).and(&bb).map_collect(|&g, &p, &q| if first(p, q) { g } else { zero });
            let gb =
                ndarray::Zip::from(g).and(&ab).and(&bb).map_collect(|&g, &p, &q| if first(p, q) { zero } else { g });
            Ok(vec![Some(unbroadcast(ga, a.shape())?), Some(unbroadcast(gb, b.shape())?)])
        }
        TrainOp::UnsortedSegmentSum => {
            let segs = x[1].as_i32().ok_or_else(|| Error::internal("segment ids are not int32"))?;
            let rows: Vec<_> = segs.iter().map(|&s| g.index_axis(Axis(0), s.max(0) as usize)).collect();
            if rows.is_empty() {
                return Ok(vec![Some(ArrayD::zeros(IxDyn(x[0].shape()))), None, None]);
            }
            let gd = ndarray::stack(Axis(0), &rows).map_err(|e| Error::internal(format!("segment gradient: {e}")))?;
            Ok(vec![Some(gd), None, None])
        }
    }
}
