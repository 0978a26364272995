//! `BiasAdd` and its gradient: a bias vector added along the last (channel) axis.

use ndarray::{Array1, ArrayD, ArrayView1, ArrayViewD, ArrayViewMutD, Axis};

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
    let flat = dy.as_standard_layout();
    let flat = flat.to_shape((rows, c)).map_err(|e| KernelError::shape("bias_add_grad", e.to_string()))?;
    Ok(flat.sum_axis(Axis(0)))
}
