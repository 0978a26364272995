//! A GRU sequence classifier: each UCI digit read as a sequence of its 8 rows (8 pixels each) by
//! `varscope::layers`' `GruCell` under `static_rnn` (one set of weights for every step, as
//! `tf.compat.v1.nn.static_rnn` shares them), then a dense layer on the last state. Variable
//! names are TF's: `rnn/gru_cell/gates/kernel`, `.../bias` (gate bias 1.0),
//! `.../candidate/kernel`, `.../bias`, `dense/kernel`, `dense/bias`. Shared by
//! `examples/sequence/main.rs` and `tests/it/sequence.rs`.

use varscope::layers::{GruCell, State, static_rnn};
use varscope::prelude::*;
use varscope::{model, opaque, scope, var};

/// Rows per digit: the time steps.
pub const STEPS: usize = 8;
/// Pixels per row: the inputs of one step.
pub const INPUTS: usize = 8;
/// The GRU's state size.
pub const UNITS: usize = 32;

/// The logits of a batch of digits (`[batch, 8, 8]`): the GRU over the rows, then
/// `dense/kernel`, `dense/bias` on the last state. The cell's scope is numbered at run time,
/// so the static checks see `static_rnn` as an opaque call; the runtime checks its names.
#[model]
pub fn classify(cx: &mut Scope, digits: &Tensor) -> Result<Tensor> {
    let batch = digits.shape()[0] as isize;
    let rows: Vec<Tensor> = cx
        .split(digits, STEPS, 1)?
        .iter()
        .map(|row| cx.reshape(row, &[batch, INPUTS as isize]))
        .collect::<Result<_>>()?;
    let cell = GruCell::new(UNITS);
    let rnn = opaque!(static_rnn(cx, &cell, &rows, None, DType::F32, None, None))?;
    let State::Tensor(state) = rnn.state else {
        return Err(Error::InvalidArgument { message: "a GRU's state is one tensor".to_string() });
    };
    scope!(cx, "dense" {
        let kernel = var!(cx, "kernel", [UNITS, 10])?;
        let bias = var!(cx, "bias", [10], init = Init::Zeros)?;
        let z = cx.matmul(&state, &kernel)?;
        cx.bias_add(&z, &bias)
    })
}
