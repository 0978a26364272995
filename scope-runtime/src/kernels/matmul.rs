//! Matrix products on the `gemm` crate's AVX-512 kernels.
//!
//! Products of at least [`PARALLEL_MIN_FLOP`] multiply-adds use both cores; smaller ones stay on
//! the calling thread, because splitting costs more than it saves below roughly 200³ (measured
//! on 2 cores: 128³ runs 1.7x faster on one thread, 64³ slightly faster, 256³ and 512³ about
//! 1.7x faster on two).

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3, Axis, CowArray, Ix2, Zip};
use rayon::prelude::*;
use scope_gemm::{MatMut, MatRef, Parallelism};

use super::{Float, KResult, KernelError};

/// Multiply-add count (`m * n * k`) from which one product is split over threads.
pub(crate) const PARALLEL_MIN_FLOP: usize = 1 << 23;

pub(crate) fn parallelism_for(m: usize, n: usize, k: usize) -> Parallelism {
    if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_FLOP {
        Parallelism::Threads(0)
    } else {
        Parallelism::Sequential
    }
}

/// A view whose elements are one contiguous slice in some memory order with non-negative strides,
/// copying only when the input is not (e.g. a strided slice).
fn contiguous<'a, T: Float>(a: ArrayView2<'a, T>) -> CowArray<'a, T, Ix2> {
    let ok = a.strides().iter().all(|&s| s >= 0) && a.as_slice_memory_order().is_some();
    if ok { CowArray::from(a) } else { CowArray::from(a.as_standard_layout().into_owned()) }
}

/// A `scope-gemm` view of a contiguous 2-D array, optionally transposed.
fn mat_ref<'a, T: Float>(kernel: &'static str, a: &'a CowArray<'_, T, Ix2>, transpose: bool) -> KResult<MatRef<'a, T>> {
    let (r, c) = a.dim();
    let s = a.strides();
    let slice =
        a.as_slice_memory_order().ok_or_else(|| KernelError::shape(kernel, "operand is not contiguous in memory"))?;
    // Unit dimensions may carry any stride; give them 0 distance so the bounds check stays tight.
    let rs = if r > 1 { s[0].unsigned_abs() } else { 0 };
    let cs = if c > 1 { s[1].unsigned_abs() } else { 0 };
    let m = MatRef::new(slice, 0, r, c, rs, cs).map_err(|e| KernelError::gemm(kernel, e))?;
    Ok(if transpose { m.t() } else { m })
}

fn product_dims(
    kernel: &'static str,
    a: (usize, usize),
    b: (usize, usize),
    transpose_a: bool,
    transpose_b: bool,
) -> KResult<(usize, usize, usize)> {
    let (m, k) = if transpose_a { (a.1, a.0) } else { a };
    let (k2, n) = if transpose_b { (b.1, b.0) } else { b };
    if k != k2 {
        return Err(KernelError::shape(
            kernel,
            format!(
                "inner dimensions differ: `a` is [{}, {}]{} and `b` is [{}, {}]{}; the contracted \
                 dimensions must be equal (check the transpose flags)",
                a.0,
                a.1,
                if transpose_a { " (transposed)" } else { "" },
                b.0,
                b.1,
                if transpose_b { " (transposed)" } else { "" },
            ),
        ));
    }
    Ok((m, n, k))
}

/// `op(a) @ op(b)` where `op` transposes when its flag is set (TF's `MatMul` with
/// `transpose_a` / `transpose_b`).
///
/// Gradients: for `c = a @ b`, `da = matmul(dc, b, false, true)` and `db = matmul(a, dc, true, false)`.
///
/// ```
/// use varscope::ndarray::array;
/// use varscope::kernels::matmul;
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let c = matmul(a.view(), a.view(), false, true)?;
/// assert_eq!(c, array![[5.0, 11.0], [11.0, 25.0]]);
/// # Ok::<(), varscope::kernels::KernelError>(())
/// ```
pub fn matmul<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    transpose_a: bool,
    transpose_b: bool,
) -> KResult<Array2<T>> {
    let (m, n, _) = product_dims("matmul", a.dim(), b.dim(), transpose_a, transpose_b)?;
    let mut out = Array2::zeros((m, n));
    matmul_into(a, b, transpose_a, transpose_b, T::zero(), out.view_mut())?;
    Ok(out)
}

/// `out = op(a) @ op(b) + beta * out` into a preallocated output (no allocation when `a`, `b` and
/// `out` are contiguous). `beta = 0` overwrites `out` without reading it.
pub fn matmul_into<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    transpose_a: bool,
    transpose_b: bool,
    beta: T,
    mut out: ArrayViewMut2<'_, T>,
) -> KResult<()> {
    const K: &str = "matmul";
    let (m, n, k) = product_dims(K, a.dim(), b.dim(), transpose_a, transpose_b)?;
    if out.dim() != (m, n) {
        return Err(KernelError::shape(
            K,
            format!("output is {:?} but the product is [{m}, {n}]; pass an output of shape [{m}, {n}]", out.shape()),
        ));
    }
    let a = contiguous(a);
    let b = contiguous(b);
    let lhs = mat_ref(K, &a, transpose_a)?;
    let rhs = mat_ref(K, &b, transpose_b)?;
    let par = parallelism_for(m, n, k);
    let beta = if beta == T::zero() { None } else { Some(beta) };
    let (rs, cs) = (out.strides()[0], out.strides()[1]);
    let direct = rs >= 0 && cs >= 0;
    match out.as_slice_memory_order_mut() {
        Some(slice) if direct => {
            let rs = if m > 1 { rs.unsigned_abs() } else { n.max(1) };
            let cs = if n > 1 { cs.unsigned_abs() } else { 1 };
            let dst = MatMut::new(slice, 0, m, n, rs, cs).map_err(|e| KernelError::gemm(K, e))?;
            scope_gemm::gemm(dst, lhs, rhs, T::one(), beta, par).map_err(|e| KernelError::gemm(K, e))
        }
        _ => {
            // A strided output: compute densely, then combine.
            let mut tmp = vec![T::zero(); m * n];
            let dst = MatMut::row_major(&mut tmp, m, n).map_err(|e| KernelError::gemm(K, e))?;
            scope_gemm::gemm(dst, lhs, rhs, T::one(), None, par).map_err(|e| KernelError::gemm(K, e))?;
            let tmp = ArrayView2::from_shape((m, n), &tmp).map_err(|e| KernelError::shape(K, e.to_string()))?;
            match beta {
                None => out.assign(&tmp),
                Some(bt) => Zip::from(&mut out).and(&tmp).for_each(|o, &t| *o = *o * bt + t),
            }
            Ok(())
        }
    }
}

fn batch_dims(
    a: (usize, usize, usize),
    b: (usize, usize, usize),
    transpose_a: bool,
    transpose_b: bool,
) -> KResult<(usize, usize, usize, usize)> {
    const K: &str = "batch_matmul";
    let batch = if a.0 == b.0 || b.0 == 1 {
        a.0
    } else if a.0 == 1 {
        b.0
    } else {
        return Err(KernelError::shape(
            K,
            format!("batch sizes {} and {} differ; use equal batch sizes or a batch of 1 to broadcast", a.0, b.0),
        ));
    };
    let (m, n, k) = product_dims(K, (a.1, a.2), (b.1, b.2), transpose_a, transpose_b)?;
    Ok((batch, m, n, k))
}

/// Batched `op(a[i]) @ op(b[i])` over the leading axis (TF's `BatchMatMul` on rank 3); a batch
/// of 1 on either side is broadcast.
pub fn batch_matmul<T: Float>(
    a: ArrayView3<'_, T>,
    b: ArrayView3<'_, T>,
    transpose_a: bool,
    transpose_b: bool,
) -> KResult<Array3<T>> {
    let (batch, m, n, _) = batch_dims(a.dim(), b.dim(), transpose_a, transpose_b)?;
    let mut out = Array3::zeros((batch, m, n));
    batch_matmul_into(a, b, transpose_a, transpose_b, out.view_mut())?;
    Ok(out)
}

/// [`batch_matmul`] into a preallocated `[batch, m, n]` output. Small products run in parallel
/// over the batch; large ones one after another, each on both cores.
pub fn batch_matmul_into<T: Float>(
    a: ArrayView3<'_, T>,
    b: ArrayView3<'_, T>,
    transpose_a: bool,
    transpose_b: bool,
    mut out: ArrayViewMut3<'_, T>,
) -> KResult<()> {
    let (batch, m, n, k) = batch_dims(a.dim(), b.dim(), transpose_a, transpose_b)?;
    if out.dim() != (batch, m, n) {
        return Err(KernelError::shape(
            "batch_matmul",
            format!("output is {:?} but the product is [{batch}, {m}, {n}]; pass an output of that shape", out.shape()),
        ));
    }
    let big = parallelism_for(m, n, k) != Parallelism::Sequential;
    if big || batch < 2 {
        for (i, o) in out.outer_iter_mut().enumerate() {
            matmul_into(pick(a, i), pick(b, i), transpose_a, transpose_b, T::zero(), o)?;
        }
        Ok(())
    } else {
        let outs: Vec<_> = out.outer_iter_mut().enumerate().collect();
        outs.into_par_iter()
            .try_for_each(|(i, o)| matmul_into(pick(a, i), pick(b, i), transpose_a, transpose_b, T::zero(), o))
    }
}

/// Sample `i` of a batch, or sample 0 of a broadcast batch of 1.
fn pick<T>(x: ArrayView3<'_, T>, i: usize) -> ArrayView2<'_, T> {
    let i = if x.len_of(Axis(0)) == 1 { 0 } else { i };
    x.index_axis_move(Axis(0), i)
}
