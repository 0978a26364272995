//! Shape ops: `Reshape`, `Transpose`, `ConcatV2`, `Split`, `Slice` and
//! `GatherV2` (embedding lookup).

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};

use super::{Elem, Float, Naming, ShapeOp, arg, internal, norm_axis, op_error, shapes_error, typed, unsupported};
use crate::dtype::DType;
use crate::error::{Error, Result, fmt_shape};
use crate::scope::Scope;
use crate::tensor::{Tensor, Value, checked_len, too_large};

fn reshape_to<T: Elem>(v: &Value, shape: &[usize]) -> Result<Value> {
    let a = typed::<T>(v)?;
    Ok(T::wrap(a.as_standard_layout().into_owned().into_shape_with_order(IxDyn(shape)).map_err(internal)?))
}

fn transpose_by<T: Elem>(v: &Value, perm: &[usize]) -> Result<Value> {
    Ok(T::wrap(typed::<T>(v)?.view().permuted_axes(IxDyn(perm)).as_standard_layout().into_owned()))
}

fn concat_values<T: Elem>(vs: &[Value], axis: usize) -> Result<Value> {
    let views: Vec<ArrayViewD<'_, T>> = vs.iter().map(|v| typed::<T>(v).map(|a| a.view())).collect::<Result<_>>()?;
    Ok(T::wrap(ndarray::concatenate(Axis(axis), &views).map_err(internal)?))
}

fn split_value<T: Elem>(v: &Value, num: usize, axis: usize) -> Result<Vec<Value>> {
    let a = typed::<T>(v)?;
    let part = a.shape()[axis] / num;
    Ok((0..num)
        .map(|i| {
            let s = Slice::from(i * part..(i + 1) * part);
            T::wrap(a.slice_axis(Axis(axis), s).to_owned())
        })
        .collect())
}

fn slice_value<T: Elem>(v: &Value, begin: &[usize], size: &[usize]) -> Result<Value> {
    let a = typed::<T>(v)?;
    Ok(T::wrap(a.slice_each_axis(|ax| Slice::from(begin[ax.axis.0]..begin[ax.axis.0] + size[ax.axis.0])).to_owned()))
}

fn gather_value<T: Elem>(params: &Value, idx: &[usize], out_shape: &[usize], axis: usize) -> Result<Value> {
    let p = typed::<T>(params)?;
    let picked = p.select(Axis(axis), idx).as_standard_layout().into_owned();
    Ok(T::wrap(picked.into_shape_with_order(IxDyn(out_shape)).map_err(internal)?))
}

impl Scope {
    /// The same elements in a new shape; one entry may be `-1`, inferred
    /// (op and default name `Reshape`).
    pub fn reshape(&self, x: &Tensor, shape: &[isize]) -> Result<Tensor> {
        self.record_op(Naming::Helper { default: "Reshape" }, ShapeOp::Reshape { shape: shape.to_vec() }, &[x], |_| {
            Ok(())
        })
    }

    /// Permutes the axes: output axis `i` is input axis `perm[i]` (op
    /// `Transpose`, default name `transpose`).
    pub fn transpose(&self, x: &Tensor, perm: &[usize]) -> Result<Tensor> {
        let op = ShapeOp::Transpose { perm: perm.to_vec() };
        self.record_op(Naming::Scoped { default: "transpose" }, op, &[x], |_| Ok(()))
    }

    /// Joins tensors along `axis`; all other dimensions must agree (op
    /// `ConcatV2`, default name `concat`).
    pub fn concat(&self, xs: &[&Tensor], axis: isize) -> Result<Tensor> {
        const OP: &str = "ConcatV2";
        self.record_resolved(
            Naming::Helper { default: "concat" },
            OP,
            xs,
            |node| {
                let Some(first) = xs.first() else {
                    return Err(op_error(OP, node, "needs at least one input"));
                };
                match xs.iter().find(|t| t.dtype() != first.dtype()) {
                    Some(t) => Err(Error::IncompatibleDTypes {
                        op: OP,
                        node: node.to_string(),
                        lhs: first.dtype(),
                        rhs: t.dtype(),
                    }),
                    None => Ok(()),
                }
            },
            |node, v| Ok(ShapeOp::Concat { axis: norm_axis(OP, node, axis, arg(OP, node, v, 0)?.shape().len())? }),
        )
        .and_then(|mut o| super::first_output(OP, &mut o))
    }

    /// Splits `x` into `num` equal parts along `axis` (op `Split`, default
    /// name `split`; the outputs are `split:0`, `split:1`, ...).
    pub fn split(&self, x: &Tensor, num: usize, axis: isize) -> Result<Vec<Tensor>> {
        const OP: &str = "Split";
        self.record_resolved(
            Naming::Helper { default: "split" },
            OP,
            &[x],
            |_| Ok(()),
            |node, _| Ok(ShapeOp::Split { axis: norm_axis(OP, node, axis, x.shape().len())?, num }),
        )
    }

    /// The block of `x` starting at `begin` with `size` (`-1` = to the end;
    /// op and default name `Slice`).
    pub fn slice(&self, x: &Tensor, begin: &[usize], size: &[isize]) -> Result<Tensor> {
        let op = ShapeOp::Slice { begin: begin.to_vec(), size: size.to_vec() };
        self.record_op(Naming::Helper { default: "Slice" }, op, &[x], |_| Ok(()))
    }

    /// Picks slices of `params` along `axis` by the int32 `indices` (TF's
    /// `tf.gather`, an embedding lookup for `axis` 0; op and default name
    /// `GatherV2`). The result has shape `params[..axis] ++ indices ++
    /// params[axis + 1..]`; an index out of range is an error.
    pub fn gather(&self, params: &Tensor, indices: &Tensor, axis: isize) -> Result<Tensor> {
        const OP: &str = "GatherV2";
        self.record_resolved(
            Naming::Helper { default: OP },
            OP,
            &[params, indices],
            |node| {
                if indices.dtype() != DType::I32 {
                    return Err(unsupported(OP, node, indices.dtype(), "int32 indices"));
                }
                Ok(())
            },
            |node, _| Ok(ShapeOp::Gather { axis: norm_axis(OP, node, axis, params.shape().len())? }),
        )
        .and_then(|mut o| super::first_output(OP, &mut o))
    }
}

/// The value of a shape op, with every check.
pub(crate) fn forward(op: &ShapeOp, node: &str, v: &[Value], outputs: &mut Vec<Value>) -> Result<()> {
    let op_type = op.op_type();
    let x = arg(op_type, node, v, 0)?;
    let shape = x.shape();
    let y = match op {
        ShapeOp::Reshape { shape: requested } => {
            let target = infer_shape(op_type, node, shape, requested)?;
            any_dispatch!(x.dtype(), reshape_to(x, &target))
        }
        ShapeOp::Transpose { perm } => {
            let mut seen = perm.clone();
            seen.sort_unstable();
            if seen != (0..shape.len()).collect::<Vec<_>>() {
                return Err(op_error(
                    op_type,
                    node,
                    format!(
                        "{perm:?} is not a permutation of the {} axes of a tensor of shape {}",
                        shape.len(),
                        fmt_shape(shape)
                    ),
                ));
            }
            any_dispatch!(x.dtype(), transpose_by(x, perm))
        }
        ShapeOp::Concat { axis } => {
            let ax = *axis;
            if ax >= shape.len() {
                return Err(op_error(
                    op_type,
                    node,
                    format!("axis {ax} is out of range for shape {}", fmt_shape(shape)),
                ));
            }
            for t in &v[1..] {
                let s = t.shape();
                if t.dtype() != x.dtype() {
                    return Err(Error::IncompatibleDTypes {
                        op: op_type,
                        node: node.to_string(),
                        lhs: x.dtype(),
                        rhs: t.dtype(),
                    });
                }
                let fits =
                    s.len() == shape.len() && s.iter().zip(shape).enumerate().all(|(i, (a, b))| i == ax || a == b);
                if !fits {
                    return Err(shapes_error(
                        op_type,
                        node,
                        shape,
                        s,
                        format!("all dimensions except axis {ax} must be equal"),
                    ));
                }
            }
            let out: Vec<usize> = shape
                .iter()
                .enumerate()
                .map(|(i, &d)| if i == ax { v.iter().map(|t| t.shape()[ax]).sum() } else { d })
                .collect();
            if checked_len(&out).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &out));
            }
            any_dispatch!(x.dtype(), concat_values(v, ax))
        }
        ShapeOp::Slice { begin, size } => {
            if begin.len() != shape.len() || size.len() != shape.len() {
                return Err(op_error(
                    op_type,
                    node,
                    format!("begin and size need one entry per axis of shape {}", fmt_shape(shape)),
                ));
            }
            let mut sizes = Vec::with_capacity(shape.len());
            for i in 0..shape.len() {
                let s = match size[i] {
                    -1 => shape[i].checked_sub(begin[i]),
                    s if s >= 0 && begin[i].checked_add(s as usize).is_some_and(|e| e <= shape[i]) => Some(s as usize),
                    _ => None,
                };
                let Some(s) = s else {
                    return Err(op_error(
                        op_type,
                        node,
                        format!(
                            "begin {begin:?} with size {size:?} does not fit in shape {}: keep begin + size within each dimension",
                            fmt_shape(shape)
                        ),
                    ));
                };
                sizes.push(s);
            }
            any_dispatch!(x.dtype(), slice_value(x, begin, &sizes))
        }
        ShapeOp::Gather { axis } => {
            let ax = *axis;
            let indices = arg(op_type, node, v, 1)?;
            if ax >= shape.len() {
                return Err(op_error(
                    op_type,
                    node,
                    format!("axis {ax} is out of range for shape {}", fmt_shape(shape)),
                ));
            }
            if indices.dtype() != DType::I32 {
                return Err(unsupported(op_type, node, indices.dtype(), "int32 indices"));
            }
            let idx = gather_indices(op_type, node, indices, shape[ax])?;
            let mut out = shape[..ax].to_vec();
            out.extend_from_slice(indices.shape());
            out.extend_from_slice(&shape[ax + 1..]);
            if checked_len(&out).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &out));
            }
            any_dispatch!(x.dtype(), gather_value(x, &idx, &out, ax))
        }
        &ShapeOp::Split { axis, num } => {
            outputs.extend(split_forward(op_type, node, x, axis, num)?);
            return Ok(());
        }
    }?;
    outputs.push(y);
    Ok(())
}

/// The values of `Split`.
fn split_forward(op_type: &'static str, node: &str, x: &Value, axis: usize, num: usize) -> Result<Vec<Value>> {
    let Some(&dim) = x.shape().get(axis) else {
        return Err(op_error(op_type, node, format!("axis {axis} is out of range for shape {}", fmt_shape(x.shape()))));
    };
    if num == 0 || !dim.is_multiple_of(num) {
        return Err(op_error(
            op_type,
            node,
            format!(
                "dimension {axis} of shape {} ({dim}) is not divisible into {num} equal parts",
                fmt_shape(x.shape())
            ),
        ));
    }
    any_dispatch!(x.dtype(), split_value(x, num, axis))
}

/// The indices of a gather as `usize`, each checked against `dim`.
fn gather_indices(op_type: &'static str, node: &str, v: &Value, dim: usize) -> Result<Vec<usize>> {
    let idx = typed::<i32>(v)?;
    idx.iter()
        .map(|&i| {
            usize::try_from(i).ok().filter(|&u| u < dim).ok_or_else(|| {
                op_error(op_type, node, format!("index {i} is out of range [0, {dim}): use indices within the axis"))
            })
        })
        .collect()
}

/// The shape `requested` asks for (with at most one `-1`), checked against
/// the element count of `shape`.
fn infer_shape(op_type: &'static str, node: &str, shape: &[usize], requested: &[isize]) -> Result<Vec<usize>> {
    let total: usize = shape.iter().product();
    let bad = |why: &str| {
        op_error(
            op_type,
            node,
            format!("cannot reshape a tensor of shape {} into {requested:?}: {why}", fmt_shape(shape)),
        )
    };
    let unknown = requested.iter().filter(|&&d| d == -1).count();
    if unknown > 1 || requested.iter().any(|&d| d < -1) {
        return Err(bad("use non-negative dimensions and at most one -1"));
    }
    let Some(known) = requested.iter().filter(|&&d| d >= 0).try_fold(1usize, |acc, &d| acc.checked_mul(d as usize))
    else {
        return Err(bad("the requested element count overflows"));
    };
    let fill = if unknown == 1 {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(bad("the element count is not divisible by the given dimensions"));
        }
        total / known
    } else {
        0
    };
    let out: Vec<usize> = requested.iter().map(|&d| if d == -1 { fill } else { d as usize }).collect();
    if out.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) != Some(total) {
        return Err(bad("the element counts differ"));
    }
    Ok(out)
}

/// Gradients of the shape ops; `g` has one entry per output.
pub(crate) fn backward<T: Float>(op: &ShapeOp, x: &[Value], g: &[ArrayD<T>]) -> Result<Vec<Option<ArrayD<T>>>> {
    let g0 = g.first().ok_or_else(|| internal("no output gradient"))?;
    match op {
        ShapeOp::Reshape { .. } => {
            let out =
                g0.as_standard_layout().into_owned().into_shape_with_order(IxDyn(x[0].shape())).map_err(internal)?;
            Ok(vec![Some(out)])
        }
        ShapeOp::Transpose { perm } => {
            let mut inv = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inv[p] = i;
            }
            Ok(vec![Some(g0.view().permuted_axes(IxDyn(&inv)).as_standard_layout().into_owned())])
        }
        ShapeOp::Concat { axis } => {
            let mut start = 0;
            Ok(x.iter()
                .map(|v| {
                    let len = v.shape()[*axis];
                    let part = g0.slice_axis(Axis(*axis), Slice::from(start..start + len)).to_owned();
                    start += len;
                    Some(part)
                })
                .collect())
        }
        ShapeOp::Split { axis, .. } => {
            let views: Vec<ArrayViewD<'_, T>> = g.iter().map(|a| a.view()).collect();
            Ok(vec![Some(ndarray::concatenate(Axis(*axis), &views).map_err(internal)?)])
        }
        ShapeOp::Slice { begin, .. } => {
            let mut out = ArrayD::<T>::zeros(IxDyn(x[0].shape()));
            let size = g0.shape().to_vec();
            out.slice_each_axis_mut(|ax| Slice::from(begin[ax.axis.0]..begin[ax.axis.0] + size[ax.axis.0])).assign(g0);
            Ok(vec![Some(out)])
        }
        ShapeOp::Gather { axis } => {
            let ps = x[0].shape();
            // The indices were checked when the op ran; the record keeps no node name.
            let idx = gather_indices(op.op_type(), op.op_type(), &x[1], ps[*axis])?;
            let mut flat_shape = ps[..*axis].to_vec();
            flat_shape.push(idx.len());
            flat_shape.extend_from_slice(&ps[axis + 1..]);
            let gf =
                g0.as_standard_layout().into_owned().into_shape_with_order(IxDyn(&flat_shape)).map_err(internal)?;
            let mut out = ArrayD::<T>::zeros(IxDyn(ps));
            for (k, &i) in idx.iter().enumerate() {
                let mut dst = out.index_axis_mut(Axis(*axis), i);
                dst += &gf.index_axis(Axis(*axis), k);
            }
            Ok(vec![Some(out), None])
        }
    }
}
