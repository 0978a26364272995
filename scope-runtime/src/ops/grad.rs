//! The gradient of each recorded op, dispatched on its dtype and family: one
//! exhaustive `match` here, one in each family's `backward`.

use ndarray::{ArrayD, IxDyn};

use super::{
    Float, Op, TrainOp, extra, layer_ops, linalg, math, nn, reduce, shape, train_ops, typed, unbroadcast_view,
};
use crate::dtype::DType;
use crate::error::Result;
use crate::record::{BinaryOp, MathOp, NnOp, Recorded};
use crate::tensor::Value;

/// The gradients of a recorded op's inputs given its outputs' gradients
/// (`None` where an output got none: it counts as zeros). Integer values get
/// no gradient. `need[i]` says whether input `i` needs one; the costly ops
/// (convolution, matrix products) skip the others.
///
/// The output gradients are taken by value, so an op that passes one through (a sum) hands
/// the same buffer on instead of copying it.
pub(crate) fn backward(rec: &Recorded, grads: Vec<Option<Value>>, need: &[bool]) -> Result<Vec<Option<Value>>> {
    if let (Op::Train(TrainOp::Cast { .. }), Some(x)) = (&rec.op, rec.inputs.first()) {
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
    if let (Op::Math(MathOp::Binary(BinaryOp::Add)) | Op::Nn(NnOp::BiasAdd), [a, b], [_]) =
        (&rec.op, x.as_slice(), g.as_slice())
        && a.shape() == g[0].shape()
        && a.dtype() == T::DTYPE
        && b.dtype() == T::DTYPE
    {
        let gb =
            if need.get(1).copied().unwrap_or(true) { Some(unbroadcast_view(g[0].view(), b.shape())?) } else { None };
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
        Op::Identity => vec![Some(g0.clone())],
        Op::Math(op) => math::backward(op, x, y, g0)?,
        Op::Linalg(op) => linalg::backward(op, x, g0, need)?,
        Op::Nn(op) => nn::backward(op, x, y, g0, need)?,
        Op::Reduce(op) => reduce::backward(op, x, y, g0)?,
        Op::Shape(op) => shape::backward(op, x, &g)?,
        Op::Extra(op) => extra::backward(op, x, y, &g)?,
        Op::Train(op) => train_ops::backward(op, x, g0)?,
        Op::Layer(op) => layer_ops::backward(op, x, y, g0)?,
    };
    // The output gradients are consumed: their buffers serve the next op's gradients.
    for a in g {
        crate::kernels::recycle::give(a.into_raw_vec_and_offset().0);
    }
    let mut res = res.into_iter();
    Ok(x.iter().map(|xv| res.next().flatten().filter(|_| xv.dtype() == T::DTYPE).map(T::wrap)).collect())
}
