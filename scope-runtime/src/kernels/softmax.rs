//! Softmax and log-softmax along the last axis, numerically stable (the row maximum is
//! subtracted before exponentiating).

use ndarray::{ArrayD, ArrayView1, ArrayViewD, Axis, Zip};

use super::{Float, KResult, KernelError};

fn last_axis(kernel: &'static str, shape: &[usize]) -> KResult<Axis> {
    match shape.len() {
        0 => {
            Err(KernelError::shape(kernel, "the value is a scalar; softmax needs rank at least 1 (reshape it to [1])"))
        }
        r => Ok(Axis(r - 1)),
    }
}

fn same_shape(kernel: &'static str, a: &[usize], b: &[usize]) -> KResult<()> {
    if a != b {
        return Err(KernelError::shape(
            kernel,
            format!("forward output {a:?} and gradient {b:?} differ; pass the gradient of this output"),
        ));
    }
    Ok(())
}

/// Per lane, the maximum `m` (0 if no element is finite, so a row of `-inf` stays NaN-free)
/// and `log(sum(exp(lane - m)))`: the lane's log-softmax is `(v - m) - s`, computed without
/// losing precision to a large `m`.
fn log_sum_exp<T: Float>(lane: ArrayView1<'_, T>) -> (T, T) {
    let m = lane.fold(T::NEG_INFINITY, |a, &b| a.max(b));
    let m = if m.is_finite() { m } else { T::zero() };
    (m, lane.fold(T::zero(), |s, &v| s + (v - m).exp()).ln())
}

/// `exp((x - max) - log(sum(exp(x - max))))` along the last axis (TF's `Softmax`); a class
/// axis of length 0 gives an empty result.
///
/// ```
/// use varscope::ndarray::array;
/// use varscope::kernels::softmax;
/// let y = softmax(array![[1000.0f32, 1000.0]].into_dyn().view())?;
/// assert_eq!(y, array![[0.5f32, 0.5]].into_dyn());
/// # Ok::<(), varscope::kernels::KernelError>(())
/// ```
pub fn softmax<T: Float>(x: ArrayViewD<'_, T>) -> KResult<ArrayD<T>> {
    let axis = last_axis("softmax", x.shape())?;
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(axis) {
        let (m, s) = log_sum_exp(lane.view());
        lane.mapv_inplace(|v| ((v - m) - s).exp());
    }
    Ok(y)
}

/// `(x - max) - log(sum(exp(x - max)))` along the last axis (TF's `LogSoftmax`).
pub fn log_softmax<T: Float>(x: ArrayViewD<'_, T>) -> KResult<ArrayD<T>> {
    let axis = last_axis("log_softmax", x.shape())?;
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(axis) {
        let (m, s) = log_sum_exp(lane.view());
        lane.mapv_inplace(|v| (v - m) - s);
    }
    Ok(y)
}

/// Gradient of [`softmax`] from its output `y`: `y * (dy - sum(dy * y))` per row.
pub fn softmax_grad<T: Float>(y: ArrayViewD<'_, T>, dy: ArrayViewD<'_, T>) -> KResult<ArrayD<T>> {
    let axis = last_axis("softmax_grad", y.shape())?;
    same_shape("softmax_grad", y.shape(), dy.shape())?;
    let mut dx = ArrayD::zeros(y.raw_dim());
    Zip::from(dx.lanes_mut(axis)).and(y.lanes(axis)).and(dy.lanes(axis)).for_each(|mut d, y, g| {
        let dot = Zip::from(&y).and(&g).fold(T::zero(), |a, &y, &g| a + y * g);
        Zip::from(&mut d).and(&y).and(&g).for_each(|d, &y, &g| *d = y * (g - dot));
    });
    Ok(dx)
}

/// Gradient of [`log_softmax`] from its output `y`: `dy - exp(y) * sum(dy)` per row.
pub fn log_softmax_grad<T: Float>(y: ArrayViewD<'_, T>, dy: ArrayViewD<'_, T>) -> KResult<ArrayD<T>> {
    let axis = last_axis("log_softmax_grad", y.shape())?;
    same_shape("log_softmax_grad", y.shape(), dy.shape())?;
    let mut dx = ArrayD::zeros(y.raw_dim());
    Zip::from(dx.lanes_mut(axis)).and(y.lanes(axis)).and(dy.lanes(axis)).for_each(|mut d, y, g| {
        let total = g.sum();
        Zip::from(&mut d).and(&y).and(&g).for_each(|d, &y, &g| *d = g - y.exp() * total);
    });
    Ok(dx)
}
