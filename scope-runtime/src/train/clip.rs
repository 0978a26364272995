//! `clip_by_global_norm`.

use crate::error::{Error, Result};
use crate::ops::Axes;
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};

/// Scales `tensors` (gradients, say) so that their global norm
/// `sqrt(sum of every element squared)` is at most `clip_norm` (TF's
/// `tf.clip_by_global_norm`, ops in the name scope `clip_by_global_norm`):
/// each `t * clip_norm / max(global_norm, clip_norm)`. Returns the clipped
/// tensors and the global norm; both are recomputed in every
/// [`Session::run`](crate::Session::run), so an optimizer can apply the
/// clipped gradients (`apply_gradients`).
///
/// ```
/// use varscope::{Graph, Value};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let a = cx.constant(Value::from(vec![3.0f32, 0.0]))?;
/// let b = cx.constant(Value::from(vec![4.0f32]))?;
/// let (clipped, norm) = varscope::train::clip_by_global_norm(&mut cx, &[&a, &b], 1.0)?;
/// assert_eq!(norm.value().to_f64_vec(), vec![5.0]);
/// let x = clipped[0].value().to_f64_vec()[0];
/// assert!((x - 0.6).abs() < 1e-6);
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn clip_by_global_norm(cx: &mut Scope, tensors: &[&Tensor], clip_norm: f64) -> Result<(Vec<Tensor>, Tensor)> {
    let Some(first) = tensors.first() else {
        return Err(Error::invalid("clip_by_global_norm needs at least one tensor: pass the gradients to clip"));
    };
    let dtype = first.dtype();
    if let Some(t) = tensors.iter().find(|t| t.dtype() != dtype || !t.dtype().is_float()) {
        return Err(Error::invalid(format!(
            "clip_by_global_norm: `{}` is {}, `{}` is {}: clip float tensors of one dtype",
            first.name(),
            dtype,
            t.name(),
            t.dtype()
        )));
    }
    if !(clip_norm > 0.0 && clip_norm.is_finite()) {
        return Err(Error::invalid(format!("clip_by_global_norm: clip_norm {clip_norm} must be a positive number")));
    }
    cx.push_name_scope("clip_by_global_norm")?;
    let built = build(cx, tensors, clip_norm, dtype);
    cx.pop_scope()?;
    built
}

fn build(cx: &Scope, tensors: &[&Tensor], clip_norm: f64, dtype: crate::DType) -> Result<(Vec<Tensor>, Tensor)> {
    let c = |x: f64| cx.constant(Value::filled(dtype, &[], x)?);
    // `global_norm`: sqrt(2 * sum of L2Loss(t) = sum(t²) / 2).
    let half = c(0.5)?;
    let mut total: Option<Tensor> = None;
    for t in tensors {
        let l2 = cx.mul(&cx.reduce_sum(&cx.mul(t, t)?, Axes::All, false)?, &half)?;
        total = Some(match total {
            None => l2,
            Some(s) => cx.add(&s, &l2)?,
        });
    }
    let total = total.ok_or_else(|| Error::internal("no tensor to clip"))?;
    let norm = cx.named("global_norm").sqrt(&cx.mul(&total, &c(2.0)?)?)?;
    let clip = c(clip_norm)?;
    let one = c(1.0)?;
    let scale = cx.mul(&clip, &cx.minimum(&cx.div(&one, &norm)?, &cx.div(&one, &clip)?)?)?;
    // `+ (norm - norm)`: a non-finite norm makes every output NaN, as in TF.
    let scale = cx.add(&scale, &cx.sub(&norm, &norm)?)?;
    let clipped = tensors.iter().map(|t| cx.mul(t, &scale)).collect::<Result<Vec<_>>>()?;
    Ok((clipped, norm))
}
