//! Two `dsl::dense` layers in one non-reuse scope would create `fc/kernel` twice: the layers are
//! `#[model]`s, so the check sees through them and refuses the second call, in a model body and
//! at the top of a `#[checked]` main alike.

use varscope::layers::{Activation, State, dsl};
use varscope::prelude::*;
use varscope::{checked, model, scope};

#[model]
fn net(cx: &mut Scope, x: &Tensor) -> Result<Tensor> {
    scope!(cx, "fc" {
        let h = dsl::dense(cx, x, 8, Activation::Relu)?;
        dsl::dense(cx, &h, 8, Activation::Relu)
    })
}

#[checked]
fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let cx = &mut cx;
    let x = cx.constant(Value::filled(DType::F32, &[2, 3], 1.0)?)?;
    let zeros = cx.constant(Value::filled(DType::F32, &[2, 4], 0.0)?)?;
    let state = State::Lstm { c: zeros.clone(), h: zeros };
    scope!(cx, "rnn" {
        let (_, s1) = dsl::basic_lstm_cell(cx, &x, &state, 4, 1.0)?;
        // Without `cx.reuse_variables()` the second step makes a second `rnn/basic_lstm_cell`.
        dsl::basic_lstm_cell(cx, &x, &s1, 4, 1.0)?;
        Ok::<(), Error>(())
    })?;
    net(cx, &x).map(|_| ())
}
