//! A GRU sequence classifier: each UCI digit read as a sequence of its 8 rows (8 pixels each),
//! one step of a GRU cell per row with the *same* weights (the cell unrolled over time in an
//! auto-reuse scope, as `tf.compat.v1.nn.static_rnn` does), then a dense layer on the last
//! state. Variable names are TF's `GRUCell` ones: `rnn/gru_cell/gates/kernel`, `.../bias`,
//! `.../candidate/kernel`, `.../bias`. Shared by `examples/sequence/main.rs` and
//! `tests/it/sequence.rs`.

use varscope::prelude::*;
use varscope::{model, scope, var};

/// Rows per digit: the time steps.
pub const STEPS: usize = 8;
/// Pixels per row: the inputs of one step.
pub const INPUTS: usize = 8;
/// The GRU's state size.
pub const UNITS: usize = 32;

/// One GRU step (TF's `GRUCell.call`): `r, u = σ([x, h] W_g + b_g)` (gate bias 1.0),
/// `c = tanh([x, r h] W_c + b_c)`, `h' = u h + (1 - u) c`.
#[model]
pub fn gru_cell(cx: &mut Scope, x: &Tensor, h: &Tensor) -> Result<Tensor> {
    let inputs = x.shape()[1] + UNITS;
    let xh = cx.concat(&[x, h], 1)?;
    let gates = scope!(cx, "gates" {
        let kernel = var!(cx, "kernel", [inputs, 2 * UNITS])?;
        let bias = var!(cx, "bias", [2 * UNITS], init = Init::constant(1.0))?;
        let z = cx.matmul(&xh, &kernel)?;
        cx.sigmoid(&cx.bias_add(&z, &bias)?)
    })?;
    let ru = cx.split(&gates, 2, 1)?;
    let (r, u) = (&ru[0], &ru[1]);
    let rh = cx.mul(r, h)?;
    let xrh = cx.concat(&[x, &rh], 1)?;
    let c = scope!(cx, "candidate" {
        let kernel = var!(cx, "kernel", [inputs, UNITS])?;
        let bias = var!(cx, "bias", [UNITS], init = Init::Zeros)?;
        let z = cx.matmul(&xrh, &kernel)?;
        cx.tanh(&cx.bias_add(&z, &bias)?)
    })?;
    let one = cx.constant(Value::filled(c.dtype(), &[], 1.0))?;
    let keep = cx.mul(u, h)?;
    let fresh = cx.mul(&cx.sub(&one, u)?, &c)?;
    cx.add(&keep, &fresh)
}

/// The logits of a batch of digits (`[batch, 8, 8]`): the GRU over the rows, then
/// `dense/kernel`, `dense/bias` on the last state.
#[model]
pub fn classify(cx: &mut Scope, digits: &Tensor) -> Result<Tensor> {
    let batch = digits.shape()[0];
    let rows = cx.split(digits, STEPS, 1)?;
    let zeros = cx.constant(Value::filled(digits.dtype(), &[batch, UNITS], 0.0))?;
    let row = |cx: &Scope, t: usize| cx.reshape(&rows[t], &[batch as isize, INPUTS as isize]);
    let state = scope!(cx, "rnn", auto_reuse {
        // The first step creates the cell's variables (so the manifest lists them), the
        // others reuse them.
        let first = row(cx, 0)?;
        let mut h = scope!(cx, "gru_cell" { gru_cell(cx, &first, &zeros) })?;
        for t in 1..STEPS {
            let x = row(cx, t)?;
            h = scope!(cx, "gru_cell" { gru_cell(cx, &x, &h) })?;
        }
        Ok::<_, Error>(h)
    })?;
    scope!(cx, "dense" {
        let kernel = var!(cx, "kernel", [UNITS, 10])?;
        let bias = var!(cx, "bias", [10], init = Init::Zeros)?;
        let z = cx.matmul(&state, &kernel)?;
        cx.bias_add(&z, &bias)
    })
}
