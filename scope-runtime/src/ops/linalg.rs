//! Matrix products: `MatMul` (rank 2, with transposes) and `BatchMatMulV2`
//! (rank ≥ 2, batch dimensions broadcast).

use ndarray::{Array3, ArrayD, ArrayView2, Axis, Ix2, IxDyn};

use super::basic::broadcast_shapes;
use super::{Elem, Float, LinalgOp, Naming, arg, same_dtype, same_value_dtype, shapes_error, typed, unbroadcast};
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::tensor::{Tensor, Value, checked_len, too_large};

fn as2<T: Elem>(v: &Value) -> Result<ArrayView2<'_, T>> {
    typed::<T>(v)?.view().into_dimensionality::<Ix2>().map_err(|_| Error::internal("expected a matrix"))
}

/// `op(a) · op(b)` of two matrices, as a batch of one (no copy).
fn matmul2<T: Elem>(a: &Value, b: &Value, ta: bool, tb: bool) -> Result<Value> {
    let (a, b) = (as2::<T>(a)?.insert_axis(Axis(0)), as2::<T>(b)?.insert_axis(Axis(0)));
    Ok(T::wrap(T::gemm(a, ta, b, tb)?.index_axis_move(Axis(0), 0).into_dyn()))
}

/// Both operands broadcast to the batch shape and flattened to `[batch, r, c]`.
fn flat_batches<T: Elem>(v: &Value, batch: &[usize]) -> Result<Array3<T>> {
    let a = typed::<T>(v)?;
    let r = a.ndim();
    let (rows, cols) = (a.shape()[r - 2], a.shape()[r - 1]);
    let mut full = batch.to_vec();
    full.extend([rows, cols]);
    let n: usize = batch.iter().product();
    let b = a.broadcast(IxDyn(&full)).ok_or_else(|| Error::internal("batch does not broadcast"))?;
    b.as_standard_layout()
        .into_owned()
        .into_shape_with_order((n, rows, cols))
        .map_err(|e| Error::internal(format!("{e}")))
}

/// The batched product of two values whose shapes were checked; the result
/// has shape `batch ++ [m, n]`.
fn batch_mm<T: Elem>(a: &Value, ta: bool, b: &Value, tb: bool, batch: &[usize]) -> Result<ArrayD<T>> {
    let (x, y) = (flat_batches::<T>(a, batch)?, flat_batches::<T>(b, batch)?);
    let out = T::gemm(x.view(), ta, y.view(), tb)?;
    let mut shape = batch.to_vec();
    shape.extend_from_slice(&out.shape()[1..]);
    out.into_shape_with_order(IxDyn(&shape)).map_err(|e| Error::internal(format!("{e}")))
}

/// The batch shape and checks of a batched product.
fn batch_shape(op: &'static str, node: &str, a: &[usize], ta: bool, b: &[usize], tb: bool) -> Result<Vec<usize>> {
    if a.len() < 2 || b.len() < 2 {
        return Err(shapes_error(op, node, a, b, "both inputs must be of rank 2 or more"));
    }
    let (ra, rb) = (a.len(), b.len());
    let inner_a = if ta { a[ra - 2] } else { a[ra - 1] };
    let inner_b = if tb { b[rb - 1] } else { b[rb - 2] };
    if inner_a != inner_b {
        return Err(shapes_error(
            op,
            node,
            a,
            b,
            format!(
                "the inner dimensions differ ({inner_a} and {inner_b}): the first input's columns must equal the second input's rows"
            ),
        ));
    }
    let batch = broadcast_shapes(&a[..ra - 2], &b[..rb - 2])
        .ok_or_else(|| shapes_error(op, node, a, b, "the batch dimensions must be equal or 1 to broadcast"))?;
    // The output and both inputs broadcast to the batch must be allocatable.
    let m = if ta { a[ra - 1] } else { a[ra - 2] };
    let p = if tb { b[rb - 2] } else { b[rb - 1] };
    for tail in [[m, p], [a[ra - 2], a[ra - 1]], [b[rb - 2], b[rb - 1]]] {
        let shape: Vec<usize> = batch.iter().copied().chain(tail).collect();
        if checked_len(&shape).is_none() {
            return Err(too_large(&format!("op `{node}` ({op})"), &shape));
        }
    }
    Ok(batch)
}

impl Scope {
    /// Matrix product (TF's `tf.matmul`; op and default name `MatMul`). As in
    /// TensorFlow, inputs of rank > 2 make it a batched product
    /// ([`Scope::batch_matmul`], op `BatchMatMulV2`, still named `MatMul`).
    pub fn matmul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.matmul_t(a, b, false, false)
    }

    /// `op(a) · op(b)`, `op` transposing when `transpose_a` / `transpose_b`
    /// say so (TF's `tf.matmul(a, b, transpose_a, transpose_b)`; op and
    /// default name `MatMul`; batched for inputs of rank > 2).
    pub fn matmul_t(&self, a: &Tensor, b: &Tensor, transpose_a: bool, transpose_b: bool) -> Result<Tensor> {
        if a.shape().len() > 2 || b.shape().len() > 2 {
            return self.batch_matmul(a, b, transpose_a, transpose_b);
        }
        let op = LinalgOp::MatMul { transpose_a, transpose_b };
        let op_type = op.op_type();
        self.record_op(Naming::Scoped { default: op_type }, op, &[a, b], |node| same_dtype(op_type, node, a, b))
    }

    /// Batched matrix product of tensors of rank ≥ 2 whose leading (batch)
    /// dimensions broadcast; `adj_x` / `adj_y` transpose the last two
    /// dimensions (op `BatchMatMulV2`, default name `MatMul` as `tf.matmul`).
    pub fn batch_matmul(&self, a: &Tensor, b: &Tensor, adj_x: bool, adj_y: bool) -> Result<Tensor> {
        let op = LinalgOp::BatchMatMul { adj_x, adj_y };
        let op_type = op.op_type();
        self.record_op(Naming::Scoped { default: "MatMul" }, op, &[a, b], |node| same_dtype(op_type, node, a, b))
    }
}

/// The matrix products' value.
pub(crate) fn forward(op: &LinalgOp, node: &str, v: &[Value]) -> Result<Value> {
    let op_type = op.op_type();
    let (a, b) = (arg(op_type, node, v, 0)?, arg(op_type, node, v, 1)?);
    same_value_dtype(op_type, node, a, b)?;
    let (sa, sb) = (a.shape(), b.shape());
    match *op {
        LinalgOp::MatMul { transpose_a, transpose_b } => {
            if sa.len() != 2 || sb.len() != 2 {
                return Err(shapes_error(op_type, node, sa, sb, "both inputs must be of rank 2"));
            }
            batch_shape(op_type, node, sa, transpose_a, sb, transpose_b)?;
            any_dispatch!(a.dtype(), matmul2(a, b, transpose_a, transpose_b))
        }
        LinalgOp::BatchMatMul { adj_x, adj_y } => {
            let batch = batch_shape(op_type, node, sa, adj_x, sb, adj_y)?;
            any_dispatch!(a.dtype(), batch_value(a, adj_x, b, adj_y, &batch))
        }
    }
}

fn batch_value<T: Elem>(a: &Value, ta: bool, b: &Value, tb: bool, batch: &[usize]) -> Result<Value> {
    Ok(T::wrap(batch_mm::<T>(a, ta, b, tb, batch)?))
}

/// Gradients of `MatMul` and `BatchMatMulV2`.
pub(crate) fn backward<T: Float>(
    op: &LinalgOp,
    x: &[Value],
    g: &ArrayD<T>,
    need: &[bool],
) -> Result<Vec<Option<ArrayD<T>>>> {
    let (ta, tb) = match *op {
        LinalgOp::MatMul { transpose_a, transpose_b } => (transpose_a, transpose_b),
        LinalgOp::BatchMatMul { adj_x, adj_y } => (adj_x, adj_y),
    };
    let (a, b) = (&x[0], &x[1]);
    let gv = T::wrap(g.clone());
    // TensorFlow's `_MatMulGrad` / `_BatchMatMulV2Grad` formulas.
    let (ga, gb) = match (ta, tb) {
        (false, false) => ((&gv, false, b, true), (a, true, &gv, false)),
        (false, true) => ((&gv, false, b, false), (&gv, true, a, false)),
        (true, false) => ((b, false, &gv, true), (a, false, &gv, false)),
        (true, true) => ((b, true, &gv, true), (&gv, true, a, true)),
    };
    let batch = &g.shape()[..g.ndim() - 2];
    let ga = match need.first() {
        Some(false) => None,
        _ => Some(unbroadcast(batch_mm::<T>(ga.0, ga.1, ga.2, ga.3, batch)?, a.shape())?),
    };
    let gb = match need.get(1) {
        Some(false) => None,
        _ => Some(unbroadcast(batch_mm::<T>(gb.0, gb.1, gb.2, gb.3, batch)?, b.shape())?),
    };
    Ok(vec![ga, gb])
}
