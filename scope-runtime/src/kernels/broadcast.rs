//! NumPy / TensorFlow broadcasting: the shape of a broadcast result, and reducing a gradient
//! back to the shape of an operand that was broadcast.

use ndarray::{ArrayD, ArrayViewD, Axis, CowArray, IxDyn};

use super::{Float, KResult, KernelError};

/// The broadcast shape of `a` and `b`: aligned at the trailing axis, each pair of dimensions must
/// be equal or one of them 1.
///
/// ```
/// use varscope::kernels::broadcast_shape;
/// assert_eq!(broadcast_shape(&[8, 1, 3], &[5, 1])?, vec![8, 5, 3]);
/// assert!(broadcast_shape(&[2, 3], &[4]).is_err());
/// # Ok::<(), varscope::kernels::KernelError>(())
/// ```
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> KResult<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        if i < rank - s.len() { 1 } else { s[i - (rank - s.len())] }
    };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(KernelError::shape(
                "broadcast",
                format!(
                    "shapes {a:?} and {b:?} do not broadcast: dimension {i} of the aligned shapes is \
                     {x} vs {y}; make them equal or 1"
                ),
            )),
        })
        .collect()
}

/// Sums `grad` (the gradient of a broadcast result) over the axes that broadcasting added or
/// stretched, so it gets the operand's `shape`.
///
/// ```
/// use varscope::ndarray::{ArrayD, IxDyn};
/// use varscope::kernels::reduce_to_shape;
/// let g = ArrayD::<f32>::ones(IxDyn(&[2, 3, 4]));
/// let r = reduce_to_shape(g.view(), &[3, 1])?;
/// assert_eq!(r.shape(), &[3, 1]);
/// assert_eq!(r[[0, 0]], 8.0);
/// # Ok::<(), varscope::kernels::KernelError>(())
/// ```
pub fn reduce_to_shape<T: Float>(grad: ArrayViewD<'_, T>, shape: &[usize]) -> KResult<ArrayD<T>> {
    let gshape = grad.shape().to_vec();
    if shape.len() > gshape.len() || broadcast_shape(shape, &gshape)? != gshape {
        return Err(KernelError::shape(
            "reduce_to_shape",
            format!(
                "an operand of shape {shape:?} cannot have been broadcast to {gshape:?}; pass the \
                 operand's own shape"
            ),
        ));
    }
    let lead = gshape.len() - shape.len();
    // Borrowed until the first sum, so a reduction copies nothing it does not sum.
    let mut acc = CowArray::from(grad);
    for _ in 0..lead {
        acc = CowArray::from(acc.sum_axis(Axis(0)));
    }
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 && acc.shape()[i] != 1 {
            acc = CowArray::from(acc.sum_axis(Axis(i)).insert_axis(Axis(i)));
        }
    }
    acc.into_owned()
        .into_shape_with_order(IxDyn(shape))
        .map_err(|e| KernelError::shape("reduce_to_shape", e.to_string()))
}
