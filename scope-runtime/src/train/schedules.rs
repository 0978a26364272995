//! Learning-rate schedules of a global step, recomputed in every run.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};

fn f32c(cx: &Scope, x: f64) -> Result<Tensor> {
    cx.constant(Value::from(x as f32))
}

/// The step as float32 (an integer global step is cast).
fn step_f32(cx: &Scope, step: &Tensor) -> Result<Tensor> {
    if step.dtype() == DType::F32 { Ok(step.clone()) } else { cx.cast(step, DType::F32) }
}

fn positive(what: &str, x: f64) -> Result<()> {
    if x > 0.0 && x.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(format!("{what} must be a positive number, not {x}")))
    }
}

/// `learning_rate * decay_rate ^ (step / decay_steps)` as a float32 tensor
/// of `global_step` (TF's `tf.compat.v1.train.exponential_decay`); with
/// `staircase` the exponent is floored.
///
/// ```
/// use varscope::{Graph, Session, Value};
/// use varscope::train::{exponential_decay, get_or_create_global_step};
/// let graph = Graph::new();
/// let cx = graph.scope();
/// let step = get_or_create_global_step(&cx)?;
/// let lr = exponential_decay(&cx, 0.1, &step, 10.0, 0.5, true)?;
/// assert_eq!(lr.value().to_f64_vec(), vec![0.1f32 as f64]);
/// step.assign(Value::from(25i64))?;
/// let now = Session::new(&graph).run(&[&lr], &[])?;
/// assert_eq!(now[0].to_f64_vec(), vec![0.025f32 as f64]); // 0.1 * 0.5^2
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn exponential_decay(
    cx: &Scope,
    learning_rate: f64,
    global_step: &Tensor,
    decay_steps: f64,
    decay_rate: f64,
    staircase: bool,
) -> Result<Tensor> {
    positive("exponential_decay: decay_steps", decay_steps)?;
    let lr = f32c(cx, learning_rate)?;
    let p = cx.div(&step_f32(cx, global_step)?, &f32c(cx, decay_steps)?)?;
    let p = if staircase { cx.floor(&p)? } else { p };
    cx.mul(&lr, &cx.pow(&f32c(cx, decay_rate)?, &p)?)
}

/// `(learning_rate - end) * (1 - min(step, decay_steps) / decay_steps) ^ power + end`
/// (TF's `tf.compat.v1.train.polynomial_decay` without `cycle`), float32.
///
/// ```
/// use varscope::{Graph, Value};
/// use varscope::train::polynomial_decay;
/// let graph = Graph::new();
/// let cx = graph.scope();
/// let step = cx.constant(Value::from(5i64))?;
/// let lr = polynomial_decay(&cx, 1.0, &step, 10.0, 0.0, 1.0)?;
/// assert_eq!(lr.value().to_f64_vec(), vec![0.5]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn polynomial_decay(
    cx: &Scope,
    learning_rate: f64,
    global_step: &Tensor,
    decay_steps: f64,
    end_learning_rate: f64,
    power: f64,
) -> Result<Tensor> {
    positive("polynomial_decay: decay_steps", decay_steps)?;
    let steps = f32c(cx, decay_steps)?;
    let s = cx.minimum(&step_f32(cx, global_step)?, &steps)?;
    let p = cx.div(&s, &steps)?;
    let lr = f32c(cx, learning_rate)?;
    let end = f32c(cx, end_learning_rate)?;
    let frac = cx.pow(&cx.sub(&f32c(cx, 1.0)?, &p)?, &f32c(cx, power)?)?;
    cx.add(&cx.mul(&cx.sub(&lr, &end)?, &frac)?, &end)
}

/// `values[0]` while `step <= boundaries[0]`, `values[i]` while
/// `boundaries[i-1] < step <= boundaries[i]`, the last value after the last
/// boundary (TF's `tf.compat.v1.train.piecewise_constant`), for an integer
/// step (the global step). The values are float32; each output is exactly
/// one of them.
///
/// ```
/// use varscope::{Graph, Session, Value};
/// use varscope::train::{get_or_create_global_step, piecewise_constant};
/// let graph = Graph::new();
/// let cx = graph.scope();
/// let step = get_or_create_global_step(&cx)?;
/// let lr = piecewise_constant(&cx, &step, &[10, 20], &[1.0, 0.5, 0.1])?;
/// let sess = Session::new(&graph);
/// let mut seen = Vec::new();
/// for s in [0i64, 10, 11, 20, 21] {
///     step.assign(Value::from(s))?;
///     seen.push(sess.run(&[&lr], &[])?[0].to_f64_vec()[0]);
/// }
/// assert_eq!(seen, vec![1.0, 1.0, 0.5, 0.5, 0.1f32 as f64]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn piecewise_constant(cx: &Scope, x: &Tensor, boundaries: &[i64], values: &[f64]) -> Result<Tensor> {
    if values.len() != boundaries.len() + 1 {
        return Err(Error::invalid(format!(
            "piecewise_constant: {} boundaries need {} values, got {}",
            boundaries.len(),
            boundaries.len() + 1,
            values.len()
        )));
    }
    if boundaries.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::invalid("piecewise_constant: the boundaries must increase"));
    }
    let int = x.dtype();
    if int.is_float() || !x.shape().is_empty() {
        return Err(Error::invalid(format!(
            "piecewise_constant: `{}` must be an integer scalar (the global step), not {} of shape {:?}",
            x.name(),
            int,
            x.shape()
        )));
    }
    let k = |v: i64| cx.constant(Value::filled(int, &[], v as f64)?);
    let (zero, one) = (k(0)?, k(1)?);
    // above[i] = 1 if x > boundaries[i] else 0, exactly, in integers.
    let mut above = Vec::with_capacity(boundaries.len());
    for &b in boundaries {
        above.push(cx.minimum(&cx.maximum(&cx.sub(x, &k(b)?)?, &zero)?, &one)?);
    }
    // One indicator per interval, exactly one of them 1: the value is a sum
    // of `v * 0` and one `v * 1`, so it is exactly that value.
    let mut total: Option<Tensor> = None;
    for (i, &v) in values.iter().enumerate() {
        let ind = match (i, above.get(i)) {
            (0, Some(a)) => cx.sub(&one, a)?,
            (_, Some(a)) => cx.sub(&above[i - 1], a)?,
            (_, None) if i == 0 => one.clone(),
            (_, None) => above[i - 1].clone(),
        };
        let term = cx.mul(&cx.cast(&ind, DType::F32)?, &f32c(cx, v)?)?;
        total = Some(match total {
            None => term,
            Some(t) => cx.add(&t, &term)?,
        });
    }
    total.ok_or_else(|| Error::internal("piecewise_constant made no value"))
}
