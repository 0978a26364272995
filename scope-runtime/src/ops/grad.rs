//! The gradient of each recorded op, dispatched on its dtype and family: one
//! exhaustive `match` here, one in each family's `backward`.

use ndarray::{ArrayD, IxDyn};

use super::{Float, Op, TrainOp, extra, layer_ops, linalg, math, nn, reduce, shape, train_ops, typed};
use crate::dtype::DType;
use crate::error::Result;
use crate::record::Recorded;
use crate::tensor::Value;

/// The gradients of a recorded op's inputs given its outputs' gradients
/// (`None` where an output got none: it counts as zeros). Integer values get
/// no gradient. `need[i]` says whether input `i` needs one; the costly ops
/// (convolution, matrix products) skip the others.
pub(crate) fn backward(rec: &Recorded, grads: &[Option<Value>], need: &[bool]) -> Result<Vec<Option<Value>>> {
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

fn typed_backward<T: Float>(rec: &Recorded, grads: &[Option<Value>], need: &[bool]) -> Result<Vec<Option<Value>>> {
    let g = rec
        .outputs
        .iter()
        .enumerate()
        .map(|(i, y)| match grads.get(i) {
            Some(Some(v)) => typed::<T>(v).map(|a| a.to_owned()),
            _ => Ok(ArrayD::<T>::zeros(IxDyn(y.shape()))),
        })
        .collect::<Result<Vec<_>>>()?;
    let (x, y, g0) = (&rec.inputs, &rec.outputs[0], &g[0]);
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
    Ok(x.iter()
        .enumerate()
        .map(|(i, xv)| res.get(i).cloned().flatten().filter(|_| xv.dtype() == T::DTYPE).map(T::wrap))
        .collect())
}
