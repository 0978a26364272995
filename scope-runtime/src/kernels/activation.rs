//! Elementwise activations with their gradients, in allocating and in-place forms.
//!
//! Gradients take the forward *output* `y` where that is cheapest (`sigmoid`, `tanh`) and the
//! forward input or output for `relu` (both have the same sign pattern).

use ndarray::{Array, ArrayView, ArrayViewMut, Dimension, Zip};

use super::{Float, KResult, KernelError};

fn same_shape(kernel: &'static str, a: &[usize], b: &[usize]) -> KResult<()> {
    if a != b {
        return Err(KernelError::shape(
            kernel,
            format!("forward value {a:?} and gradient {b:?} differ; pass the gradient of this value"),
        ));
    }
    Ok(())
}

#[inline]
fn sigmoid1<T: Float>(x: T) -> T {
    // Stable on both tails: never exponentiates a large positive number.
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `max(0, x)`.
pub fn relu<T: Float, D: Dimension>(x: ArrayView<'_, T, D>) -> Array<T, D> {
    x.mapv(|v| if v > T::zero() { v } else { T::zero() })
}

/// [`relu`] in place.
pub fn relu_inplace<T: Float, D: Dimension>(mut x: ArrayViewMut<'_, T, D>) {
    x.mapv_inplace(|v| if v > T::zero() { v } else { T::zero() });
}

/// `dy * (x > 0)`; `x` may be the relu's input or output.
pub fn relu_grad<T: Float, D: Dimension>(x: ArrayView<'_, T, D>, dy: ArrayView<'_, T, D>) -> KResult<Array<T, D>> {
    same_shape("relu_grad", x.shape(), dy.shape())?;
    Ok(Zip::from(&x).and(&dy).map_collect(|&x, &g| if x > T::zero() { g } else { T::zero() }))
}

/// `1 / (1 + e^-x)`, numerically stable for large `|x|`.
pub fn sigmoid<T: Float, D: Dimension>(x: ArrayView<'_, T, D>) -> Array<T, D> {
    x.mapv(sigmoid1)
}

/// [`sigmoid`] in place.
pub fn sigmoid_inplace<T: Float, D: Dimension>(mut x: ArrayViewMut<'_, T, D>) {
    x.mapv_inplace(sigmoid1);
}

/// `dy * y * (1 - y)` from the sigmoid's output `y`.
pub fn sigmoid_grad<T: Float, D: Dimension>(y: ArrayView<'_, T, D>, dy: ArrayView<'_, T, D>) -> KResult<Array<T, D>> {
    same_shape("sigmoid_grad", y.shape(), dy.shape())?;
    Ok(Zip::from(&y).and(&dy).map_collect(|&y, &g| g * y * (T::one() - y)))
}

/// Hyperbolic tangent.
pub fn tanh<T: Float, D: Dimension>(x: ArrayView<'_, T, D>) -> Array<T, D> {
    x.mapv(Float::tanh)
}

/// [`tanh`] in place.
pub fn tanh_inplace<T: Float, D: Dimension>(mut x: ArrayViewMut<'_, T, D>) {
    x.mapv_inplace(Float::tanh);
}

/// `dy * (1 - y^2)` from the tanh's output `y`.
pub fn tanh_grad<T: Float, D: Dimension>(y: ArrayView<'_, T, D>, dy: ArrayView<'_, T, D>) -> KResult<Array<T, D>> {
    same_shape("tanh_grad", y.shape(), dy.shape())?;
    Ok(Zip::from(&y).and(&dy).map_collect(|&y, &g| g * (T::one() - y * y)))
}
