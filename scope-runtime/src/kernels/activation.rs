//! Elementwise activations with their gradients, in allocating and in-place forms.
//!
//! Gradients take the forward *output* `y` where that is cheapest (`sigmoid`, `tanh`) and the
//! forward input or output for `relu` (both have the same sign pattern).

use ndarray::{Array, ArrayView, Dimension, Zip};

use super::{Float, KResult, KernelError, par};

/// `f(x)` elementwise; on both cores for large standard-layout inputs.
fn map1<T: Float, D: Dimension>(x: ArrayView<'_, T, D>, f: impl Fn(T) -> T + Sync) -> Array<T, D> {
    if let Some(xs) = x.as_slice()
        && let Ok(a) = Array::from_shape_vec(x.raw_dim(), par::map1(xs, &f))
    {
        return a;
    }
    x.mapv(f)
}

/// `f(x, y)` elementwise over two arrays of the same shape; on both cores for large
/// standard-layout inputs.
fn map2<T: Float, D: Dimension>(
    x: ArrayView<'_, T, D>,
    y: ArrayView<'_, T, D>,
    f: impl Fn(T, T) -> T + Sync,
) -> Array<T, D> {
    if let (Some(xs), Some(ys)) = (x.as_slice(), y.as_slice())
        && let Ok(a) = Array::from_shape_vec(x.raw_dim(), par::map2(xs, ys, &f))
    {
        return a;
    }
    Zip::from(&x).and(&y).map_collect(|&a, &b| f(a, b))
}

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
    map1(x, |v| if v > T::zero() { v } else { T::zero() })
}

/// `dy * (x > 0)`; `x` may be the relu's input or output.
pub fn relu_grad<T: Float, D: Dimension>(x: ArrayView<'_, T, D>, dy: ArrayView<'_, T, D>) -> KResult<Array<T, D>> {
    same_shape("relu_grad", x.shape(), dy.shape())?;
    Ok(map2(x, dy, |x, g| if x > T::zero() { g } else { T::zero() }))
}

/// `1 / (1 + e^-x)`, numerically stable for large `|x|`.
pub fn sigmoid<T: Float, D: Dimension>(x: ArrayView<'_, T, D>) -> Array<T, D> {
    x.mapv(sigmoid1)
}

/// `dy * y * (1 - y)` from the sigmoid's output `y`.
pub fn sigmoid_grad<T: Float, D: Dimension>(y: ArrayView<'_, T, D>, dy: ArrayView<'_, T, D>) -> KResult<Array<T, D>> {
    same_shape("sigmoid_grad", y.shape(), dy.shape())?;
    Ok(map2(y, dy, |y, g| g * y * (T::one() - y)))
}

/// Hyperbolic tangent.
pub fn tanh<T: Float, D: Dimension>(x: ArrayView<'_, T, D>) -> Array<T, D> {
    x.mapv(T::tanh)
}

/// `dy * (1 - y^2)` from the tanh's output `y`.
pub fn tanh_grad<T: Float, D: Dimension>(y: ArrayView<'_, T, D>, dy: ArrayView<'_, T, D>) -> KResult<Array<T, D>> {
    same_shape("tanh_grad", y.shape(), dy.shape())?;
    Ok(map2(y, dy, |y, g| g * (T::one() - y * y)))
}
