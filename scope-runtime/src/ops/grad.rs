//! The gradient of each recorded op, dispatched on its dtype and family.

use ndarray::{ArrayD, IxDyn};

use super::{Float, Op, extra, linalg, math, nn, reduce, shape, train_ops, typed, unbroadcast_view};
use crate::dtype::DType;
use crate::error::Result;
use crate::record::Recorded;
use crate::tensor::Value;

/// The gradients of a recorded op's inputs given its outputs' gradients
/// (`None` where an output got none: it counts as zeros). Integer values get
/// no gradient. `need[i]` says whether input `i` needs one; the costly ops
/// (convolution, matrix products) skip the others.
///
/// The output gradients are taken by value, so an op that passes one through (a sum) hands
/// the same buffer on instead of copying it.
pub(crate) fn backward(rec: &Recorded, grads: Vec<Option<Value>>, need: &[bool]) -> Result<Vec<Option<Value>>> {
    if let (Op::Cast { .. }, Some(x)) = (&rec.op, rec.inputs.first()) {
        // Input and output dtypes differ: the gradient changes dtype.
        return Ok(train_ops::cast_backward(x, grads.first().and_then(Option::as_ref)));
    }
    match rec.outputs.first().map(Value::dtype) {
        Some(DType::F32) => typed_backward::<f32>(rec, grads, need),
        Some(DType::F64) => typed_backward::<f64>(rec, grads, need),
        _ => Ok(vec![None; rec.inputs.len()]),
    }
}

fn typed_backward<T: Float>(rec: &Recorded, grads: Vec<Option<Value>>, need: &[bool]) -> Result<Vec<Option<Value>>> {
    let mut grads = grads.into_iter();
    let mut g = rec
        .outputs
        .iter()
        .map(|y| match grads.next().flatten() {
            Some(v) => T::take(v).or_else(|v| typed::<T>(&v).map(|a| a.to_owned())),
            None => Ok(ArrayD::<T>::zeros(IxDyn(y.shape()))),
        })
        .collect::<Result<Vec<_>>>()?;
    let x = &rec.inputs;
    // A sum passes its output's gradient on to the input of the same shape: hand that buffer
    // on, and reduce the other input's (the bias's) from it without a copy.
    if let (Op::Add | Op::BiasAdd, [a, b], [_]) = (&rec.op, x.as_slice(), g.as_slice())
        && a.shape() == g[0].shape()
        && a.dtype() == T::DTYPE
        && b.dtype() == T::DTYPE
    {
        let gb = need.get(1).copied().unwrap_or(true).then(|| unbroadcast_view(g[0].view(), b.shape()));
        let ga = g.swap_remove(0);
        return Ok(vec![Some(T::wrap(ga)), gb.map(T::wrap)]);
    }
    let (y, g0) = (&rec.outputs[0], &g[0]);
    let res = match &rec.op {
        // Constants, fed values and assignments pass no gradient back (TF
        // registers none for `Assign*`); a default passes it through.
        Op::Const | Op::Placeholder { with_default: false } | Op::Assign(_) | Op::Group => Vec::new(),
        Op::Placeholder { with_default: true } => vec![Some(g0.clone())],
        Op::Gradients => {
            return Err(crate::error::Error::invalid(
                "gradients of gradients are not supported: differentiate the loss once".to_string(),
            ));
        }
        Op::Identity
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Div
        | Op::Pow
        | Op::Neg
        | Op::Exp
        | Op::Log
        | Op::Sqrt
        | Op::Relu
        | Op::Sigmoid
        | Op::Tanh => math::backward(&rec.op, x, y, g0)?,
        Op::MatMul { .. } | Op::BatchMatMul { .. } => linalg::backward(&rec.op, x, g0, need)?,
        Op::BiasAdd
        | Op::Conv2D(_)
        | Op::MaxPool(_)
        | Op::AvgPool(_)
        | Op::Softmax
        | Op::LogSoftmax
        | Op::SigmoidXent
        | Op::SoftmaxXent => nn::backward(&rec.op, x, y, g0, need)?,
        Op::Sum { .. } | Op::Mean { .. } | Op::Max { .. } => reduce::backward(&rec.op, x, y, g0)?,
        Op::Lrn { .. } | Op::L2Loss | Op::SparseSoftmaxXent => nn::backward(&rec.op, x, y, g0, need)?,
        Op::AddN => x.iter().map(|_| Some(g0.clone())).collect(),
        Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Concat { .. }
        | Op::Split { .. }
        | Op::Slice { .. }
        | Op::Gather { .. } => shape::backward(&rec.op, x, &g)?,
        Op::Rsqrt
        | Op::Unpack { .. }
        | Op::Pack { .. }
        | Op::FusedBatchNorm { .. }
        | Op::RandomUniform { .. }
        | Op::GreaterEqual
        | Op::Select => extra::backward(&rec.op, x, y, &g)?,
        // Row updates and `Unique` have no gradient in TF either.
        // `Floor` is piecewise constant: a zero gradient, as TF's.
        Op::Cast { .. } | Op::Scatter(_) | Op::Unique => Vec::new(),
        Op::Floor => vec![Some(ArrayD::<T>::zeros(IxDyn(x[0].shape())))],
        Op::Minimum | Op::Maximum | Op::UnsortedSegmentSum => train_ops::backward(&rec.op, x, g0)?,
    };
    // The output gradients are consumed: their buffers serve the next op's gradients.
    for a in g {
        crate::kernels::recycle::give(a.into_raw_vec_and_offset().0);
    }
    let mut res = res.into_iter();
    Ok(x.iter().map(|xv| res.next().flatten().filter(|_| xv.dtype() == T::DTYPE).map(T::wrap)).collect())
}

/// The gradients of `Relu(AddV2/BiasAdd(x, bias))` from the relu's output `y` and output gradient
/// `g` in one pass: `x`'s (`g` where `y > 0`, else 0, written over `g`) and, summed as it is
/// written, the bias's, in the order [`unbroadcast`](super::unbroadcast) sums (over the leading
/// axis one sample after another, then the same axis reductions), so the same bits as the two
/// ops' gradients one after the other. `None` (nothing consumed) when the values do not have
/// that form: float, equal shapes of rank 2 or more, a bias of the last axis's length above 1.
pub(crate) fn relu_bias_backward(y: &Value, g: Value, bias_shape: &[usize]) -> Result<(Value, Option<Value>)> {
    let fits = |v: &Value| {
        v.shape() == y.shape()
            && y.shape().len() >= 2
            && bias_shape.len() == 1
            && y.shape().last() == bias_shape.first()
    };
    if !fits(&g) || bias_shape[0] < 2 {
        return Ok((g, None));
    }
    match (y, g) {
        (Value::F32(y), Value::F32(g)) => relu_bias_typed(y, g.into_owned(), bias_shape),
        (Value::F64(y), Value::F64(g)) => relu_bias_typed(y, g.into_owned(), bias_shape),
        (_, g) => Ok((g, None)),
    }
}

fn relu_bias_typed<T: Float>(
    y: &ndarray::ArcArray<T, IxDyn>,
    mut g: ArrayD<T>,
    bias_shape: &[usize],
) -> Result<(Value, Option<Value>)> {
    use rayon::prelude::*;
    let plane: usize = y.shape()[1..].iter().product();
    let (Some(ys), Some(gs)) = (y.as_slice(), g.as_slice_mut()) else {
        return Ok((T::wrap(g), None));
    };
    let zero = T::zero();
    let mut acc = vec![zero; plane];
    if plane > 0 {
        // Each task takes one range of the plane through every sample, so each element of
        // `acc` sums its samples in order, as `sum_axis(Axis(0))` does.
        let chunk = if gs.len() >= crate::kernels::par::PAR_MIN { plane.div_ceil(8).max(1024) } else { plane };
        let mut pieces: Vec<Vec<&mut [T]>> = (0..plane.div_ceil(chunk)).map(|_| Vec::new()).collect();
        for sample in gs.chunks_mut(plane) {
            for (j, piece) in sample.chunks_mut(chunk).enumerate() {
                pieces[j].push(piece);
            }
        }
        acc.par_chunks_mut(chunk).zip(pieces.into_par_iter()).enumerate().for_each(|(j, (acc, samples))| {
            for (n, piece) in samples.into_iter().enumerate() {
                let yrow = &ys[n * plane + j * chunk..][..piece.len()];
                for ((gv, &yv), a) in piece.iter_mut().zip(yrow).zip(acc.iter_mut()) {
                    let v = if yv > zero { *gv } else { zero };
                    *gv = v;
                    *a += v;
                }
            }
        });
    }
    let acc = ArrayD::from_shape_vec(IxDyn(&y.shape()[1..]), acc)
        .map_err(|e| crate::error::Error::internal(format!("bias gradient: {e}")))?;
    Ok((T::wrap(g), Some(T::wrap(super::unbroadcast(acc, bias_shape)))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{math::zip2, unbroadcast_view};

    /// The one-pass relu + bias gradient equals the two ops' gradients bit for bit, on both
    /// the sequential and the threaded path, f32 and f64, with zeros, negative zeros and NaN.
    #[test]
    fn relu_bias_backward_matches_the_two_gradients_bit_for_bit() -> Result<()> {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match s % 23 {
                0 => 0.0,
                1 => -0.0,
                2 => f64::NAN,
                k => (k as f64 - 11.0) * 0.37 + (s >> 40) as f64 * 1e-7,
            }
        };
        for shape in [vec![2, 3], vec![3, 1, 5, 16], vec![8, 32, 32, 32], vec![5, 7, 9, 33]] {
            let c = *shape.last().unwrap_or(&1);
            let y = ArrayD::from_shape_simple_fn(IxDyn(&shape), || next().max(0.0));
            let g = ArrayD::from_shape_simple_fn(IxDyn(&shape), &mut next);
            let want_gx = zip2(g.view(), y.view(), &shape, |g, y| if y > 0.0 { g } else { 0.0 })?;
            let want_gb = unbroadcast_view(want_gx.view(), &[c]);
            let bits = |a: &ArrayD<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let (gx, gb) = relu_bias_backward(&Value::from(y.clone()), Value::from(g.clone()), &[c])?;
            let gb = gb.expect("fused");
            assert_eq!(bits(&typed::<f64>(&gx)?.to_owned()), bits(&want_gx), "{shape:?}");
            assert_eq!(bits(&typed::<f64>(&gb)?.to_owned()), bits(&want_gb), "{shape:?}");
            let (y32, g32) = (y.mapv(|v| v as f32), g.mapv(|v| v as f32));
            let want32 = zip2(g32.view(), y32.view(), &shape, |g, y| if y > 0.0 { g } else { 0.0 })?;
            let (gx32, gb32) = relu_bias_backward(&Value::from(y32), Value::from(g32), &[c])?;
            let bits32 = |v: &Value| typed::<f32>(v).map(|a| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
            assert_eq!(bits32(&gx32)?, bits32(&Value::from(want32.clone()))?);
            assert_eq!(bits32(&gb32.expect("fused"))?, bits32(&Value::from(unbroadcast_view(want32.view(), &[c])))?);
        }
        // Not that form: handed back untouched.
        let g = Value::from(ArrayD::<f32>::ones(IxDyn(&[4, 1])));
        let (back, none) = relu_bias_backward(&g.clone(), g.clone(), &[1])?;
        assert!(none.is_none() && back == g);
        Ok(())
    }
}
