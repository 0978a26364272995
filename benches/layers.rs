//! The RNN cells of `varscope::layers` in a `Session`, built once and run
//! many times: one `BasicLSTMCell` step, and a 20-step `dynamic_rnn`
//! forward plus the gradients of all its variables, at batch 32 with 128
//! inputs and 128 units. `scripts/bench/tf_layers.py` times the same two in
//! TF 2.21 for the ratios. Run with `cargo bench --bench layers`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use varscope::layers::{BasicLstmCell, RnnCell, State, dynamic_rnn};
use varscope::ndarray::{ArrayD, Dimension, IxDyn};
use varscope::ops::Axes;
use varscope::{DType, Graph, Session, Tensor, Value};

const BATCH: usize = 32;
const UNITS: usize = 128;
const STEPS: usize = 20;

fn values(shape: &[usize], k: f32) -> Value {
    Value::from(ArrayD::from_shape_fn(IxDyn(shape), |ix| (ix.slice().iter().sum::<usize>() as f32 * k).sin()))
}

fn lstm(c: &mut Criterion) {
    let graph = Graph::with_seed(1);
    let mut cx = graph.scope();
    let x = cx.placeholder("x", values(&[BATCH, UNITS], 0.1)).unwrap();
    let c0 = cx.placeholder("c0", values(&[BATCH, UNITS], 0.2)).unwrap();
    let h0 = cx.placeholder("h0", values(&[BATCH, UNITS], 0.3)).unwrap();
    let cell = BasicLstmCell::new(UNITS);
    let (h, state) = cell.call(&mut cx, &x, &State::Lstm { c: c0.clone(), h: h0.clone() }).unwrap();
    let State::Lstm { c: c1, .. } = state else { unreachable!("an LSTM state") };
    let sess = Session::new(&graph);
    let feeds = [(&x, x.value()), (&c0, c0.value()), (&h0, h0.value())];
    c.bench_function("layers/basic_lstm_step_b32_u128", |b| {
        b.iter(|| black_box(sess.run(&[&h, &c1], &feeds).unwrap()))
    });

    let graph = Graph::with_seed(2);
    let mut cx = graph.scope();
    let seq = cx.placeholder("seq", values(&[BATCH, STEPS, UNITS], 0.05)).unwrap();
    let r = dynamic_rnn(&mut cx, &BasicLstmCell::new(UNITS), &seq, None, DType::F32, None, false, None).unwrap();
    let loss = cx.reduce_sum(&r.outputs[0], Axes::All, false).unwrap();
    let vars = graph.trainable_variables();
    let wrt: Vec<&Tensor> = vars.iter().map(|v| v.tensor()).collect();
    let grads = cx.gradients(&loss, &wrt).unwrap();
    let mut fetch = vec![&loss];
    fetch.extend(grads.iter());
    let sess = Session::new(&graph);
    let feeds = [(&seq, seq.value())];
    c.bench_function("layers/dynamic_rnn_t20_b32_u128_fwd_bwd", |b| {
        b.iter(|| black_box(sess.run(&fetch, &feeds).unwrap()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = lstm
}
criterion_main!(benches);
