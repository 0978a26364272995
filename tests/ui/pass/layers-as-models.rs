//! The `#[model]` layers and cells compose: a cell unrolled 40 steps in an `auto_reuse` scope
//! (and one reusing after `reuse_variables()`) compiles, makes one set of weights named as TF's
//! `static_rnn` names them, and computes exactly what the runtime `GruCell` under `static_rnn`
//! computes with those names (same seed, same initial values).

use varscope::layers::{Activation, GruCell, dsl, static_rnn};
use varscope::prelude::*;
use varscope::{model, scope};

const STEPS: usize = 40;

#[model]
fn encoder(cx: &mut Scope, xs: &[Tensor], h0: &Tensor) -> Result<Tensor> {
    scope!(cx, "rnn", auto_reuse {
        let mut h = h0.clone();
        for x in xs {
            h = dsl::gru_cell(cx, x, &h, 6)?;
        }
        Ok::<Tensor, Error>(h)
    })
}

#[model]
fn head(cx: &mut Scope, h: &Tensor) -> Result<Tensor> {
    scope!(cx, "fc" {
        let a = dsl::dense(cx, h, 3, Activation::Linear)?;
        cx.reuse_variables();
        let b = dsl::dense(cx, h, 3, Activation::Linear)?; // the same weights
        cx.sub(&a, &b)
    })
}

fn inputs(cx: &mut Scope) -> Result<Vec<Tensor>> {
    (0..STEPS)
        .map(|t| cx.constant(Value::filled(DType::F32, &[2, 5], (t as f64 * 0.37).sin())?))
        .collect()
}

fn main() -> Result<()> {
    let graph = Graph::with_seed(7);
    let mut cx = graph.scope();
    let xs = inputs(&mut cx)?;
    let h0 = cx.constant(Value::filled(DType::F32, &[2, 6], 0.0)?)?;
    let h = encoder(&mut cx, &xs, &h0)?;
    let zero = head(&mut cx, &h)?;
    assert!(zero.value().to_f64_vec().iter().all(|&v| v == 0.0), "reused weights differ");
    let names: Vec<String> = graph.global_variables().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(
        names,
        [
            "rnn/gru_cell/gates/kernel:0",
            "rnn/gru_cell/gates/bias:0",
            "rnn/gru_cell/candidate/kernel:0",
            "rnn/gru_cell/candidate/bias:0",
            "fc/kernel:0",
            "fc/bias:0",
        ]
    );

    let runtime = Graph::with_seed(7);
    let mut rx = runtime.scope();
    let xs = inputs(&mut rx)?;
    let h0 = rx.constant(Value::filled(DType::F32, &[2, 6], 0.0)?)?;
    let r = static_rnn(&mut rx, &GruCell::new(6), &xs, Some(&layers_state(h0)), DType::F32, None, None)?;
    assert_eq!(h.value().to_f64_vec(), r.outputs[STEPS - 1].value().to_f64_vec());
    Ok(())
}

fn layers_state(h: Tensor) -> varscope::layers::State {
    varscope::layers::State::Tensor(h)
}
