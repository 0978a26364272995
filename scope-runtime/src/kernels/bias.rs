//! `BiasAdd` and its gradient: a bias vector added along the last (channel) axis.

use ndarray::{Array1, ArrayD, ArrayView1, ArrayViewD, ArrayViewMutD, Axis};
use rayon::prelude::*;

use super::par::{PAR_CHUNK, PAR_MIN};
use super::{Float, KResult, KernelError};

fn check(kernel: &'static str, shape: &[usize], bias: usize) -> KResult<()> {
    match shape.last() {
        Some(&c) if c == bias => Ok(()),
        _ => Err(KernelError::shape(
            kernel,
            format!(
                "value {shape:?} and bias [{bias}] disagree; the bias length must equal the value's \
                 last dimension (rank at least 1)"
            ),
        )),
    }
}

/// `x + bias` broadcast along the last axis (TF's `BiasAdd`, NHWC).
pub fn bias_add<T: Float>(x: ArrayViewD<'_, T>, bias: ArrayView1<'_, T>) -> KResult<ArrayD<T>> {
    let mut out = x.to_owned();
    bias_add_inplace(out.view_mut(), bias)?;
    Ok(out)
}

/// [`bias_add`] in place.
pub fn bias_add_inplace<T: Float>(mut x: ArrayViewMutD<'_, T>, bias: ArrayView1<'_, T>) -> KResult<()> {
    check("bias_add", x.shape(), bias.len())?;
    let c = bias.len();
    if x.len() >= PAR_MIN
        && c > 0
        && let (Some(xs), Some(b)) = (x.as_slice_mut(), bias.as_slice())
    {
        // Whole rows per chunk, so each chunk starts at channel 0.
        xs.par_chunks_mut(PAR_CHUNK.div_ceil(c) * c).for_each(|chunk| {
            for px in chunk.chunks_exact_mut(c) {
                for (v, &bv) in px.iter_mut().zip(b) {
                    *v += bv;
                }
            }
        });
        return Ok(());
    }
    x += &bias;
    Ok(())
}

/// Gradient of [`bias_add`] with respect to the bias: `dy` summed over every axis but the last
/// (TF's `BiasAddGrad`). The gradient with respect to `x` is `dy` itself.
pub fn bias_add_grad<T: Float>(dy: ArrayViewD<'_, T>) -> KResult<Array1<T>> {
    let Some(&c) = dy.shape().last() else {
        return Err(KernelError::shape(
            "bias_add_grad",
            "the gradient is a scalar; `BiasAdd` outputs have rank at least 1",
        ));
    };
    let rows = dy.len().checked_div(c).unwrap_or(0);
    if dy.len() >= PAR_MIN
        && let Some(ys) = dy.as_slice()
    {
        // Partial sums of whole rows per task, then their sum.
        let sum = ys
            .par_chunks(PAR_CHUNK.div_ceil(c) * c)
            .map(|chunk| {
                let mut acc = vec![T::zero(); c];
                for px in chunk.chunks_exact(c) {
                    for (a, &v) in acc.iter_mut().zip(px) {
                        *a += v;
                    }
                }
                acc
            })
            .reduce(|| vec![T::zero(); c], |a, b| a.into_iter().zip(b).map(|(x, y)| x + y).collect());
        return Ok(Array1::from(sum));
    }
    let flat = dy.as_standard_layout();
    let flat = flat.to_shape((rows, c)).map_err(|e| KernelError::shape("bias_add_grad", e.to_string()))?;
    Ok(flat.sum_axis(Axis(0)))
}
