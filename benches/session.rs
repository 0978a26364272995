//! Build once, run many: what `Session::run` costs per op (a 40-op `tanh`
//! chain on `[4]`, as `../shared/perf/tf_small_ops.py` times TF's
//! `session.run`), next to recording the same chain eagerly; and one training
//! step of the seed `my_image_filter` (batch 8) run from its built graph.
//! Run with `cargo bench --bench session`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::{Axes, Padding};
use varscope::{DType, Graph, Init, Result, Scope, Session, Tensor, Value, VarSpec};

const CHAIN: u64 = 40;

fn chain(cx: &Scope, x: &Tensor) -> Result<Tensor> {
    let mut h = x.clone();
    for _ in 0..CHAIN {
        h = cx.tanh(&h)?;
    }
    Ok(h)
}

fn small_ops(c: &mut Criterion) {
    let mut group = c.benchmark_group("chain40_tanh_4");
    group.throughput(Throughput::Elements(CHAIN));
    let graph = Graph::new();
    let cx = graph.scope();
    let x = cx.placeholder("x", Value::filled(DType::F32, &[4], 1.0).unwrap()).expect("placeholder");
    let h = chain(&cx, &x).expect("chain");
    let sess = Session::new(&graph);
    let feed = Value::filled(DType::F32, &[4], 1.0).unwrap();
    group.bench_function("session_run", |b| b.iter(|| black_box(sess.run(&[&h], &[(&x, feed.clone())]).expect("run"))));
    // Eager recording, on a variable input (it survives `clear_ops`).
    let eager = Graph::new();
    let ex = eager.scope();
    let v = ex.get_variable("x", VarSpec::new().shape([4]).init(Init::constant(1.0))).expect("variable");
    group.bench_function("eager_record", |b| {
        b.iter(|| {
            let out = chain(&ex, &v).expect("chain");
            eager.clear_ops();
            black_box(out)
        })
    });
    group.finish();
}

fn conv_relu(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let w = cx.get_variable(
        "weights",
        VarSpec::new().shape([5, 5, 32, 32]).init(Init::RandomNormal { mean: 0.0, stddev: 0.1 }),
    )?;
    let b = cx.get_variable("biases", VarSpec::new().shape([32]).init(Init::constant(0.0)))?;
    let conv = cx.conv2d(input, &w, [1, 1], Padding::Same)?;
    cx.relu(&cx.add(&conv, &b)?)
}

fn image_filter_step(c: &mut Criterion) {
    let graph = Graph::with_seed(7);
    let mut cx = graph.scope();
    let image =
        ArrayD::from_shape_fn(IxDyn(&[8, 32, 32, 32]), |ix| ((ix[1] * 31 + ix[2] * 7 + ix[3]) % 17) as f32 / 17.0);
    let x = cx.placeholder("image", Value::from(image.clone())).expect("placeholder");
    let y = {
        let mut top = cx.variable_scope("image_filters").expect("scope");
        let relu1 = {
            let mut s = top.variable_scope("conv1").expect("scope");
            conv_relu(&mut s, &x).expect("conv1")
        };
        let mut s = top.variable_scope("conv2").expect("scope");
        conv_relu(&mut s, &relu1).expect("conv2")
    };
    let loss = cx.reduce_mean(&y, Axes::All, false).expect("loss");
    let train = sgd(&mut cx, &loss, 0.01).expect("train op");
    let sess = Session::new(&graph);
    let feed = Value::from(image);
    let mut group = c.benchmark_group("my_image_filter_b8");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("session_forward", |b| {
        b.iter(|| black_box(sess.run(&[&y], &[(&x, feed.clone())]).expect("run")))
    });
    group.bench_function("session_train_step", |b| {
        b.iter(|| black_box(sess.run(&[&loss, &train], &[(&x, feed.clone())]).expect("run")))
    });
    // The same forward built eagerly (recorded, then cleared), for the session's overhead.
    let eager = Graph::with_seed(7);
    let mut ex = eager.scope();
    let input =
        ex.get_variable("input", VarSpec::new().shape([8, 32, 32, 32]).init(Init::constant(0.5))).expect("input");
    input.assign(feed.clone()).expect("assign");
    group.bench_function("eager_forward", |b| {
        b.iter(|| {
            let mut s = ex.variable_scope(varscope::VarScope::new("f").reuse(varscope::Reuse::Auto)).expect("scope");
            let y = {
                let mut c1 = s.variable_scope("conv1").expect("scope");
                conv_relu(&mut c1, &input).expect("conv1")
            };
            let mut c2 = s.variable_scope("conv2").expect("scope");
            let out = conv_relu(&mut c2, &y).expect("conv2");
            drop(c2);
            drop(s);
            eager.clear_ops();
            black_box(out)
        })
    });
    group.finish();
}

fn dense(cx: &mut Scope, x: &Tensor, units: usize) -> Result<Tensor> {
    let w = cx.get_variable("weights", VarSpec::new().shape([x.shape()[1], units]).init(Init::GlorotUniform))?;
    let b = cx.get_variable("biases", VarSpec::new().shape([units]).init(Init::Zeros))?;
    cx.add(&cx.matmul(x, &w)?, &b)
}

fn tower(cx: &mut Scope, x: &Tensor) -> Result<Tensor> {
    let h = {
        let mut s = cx.variable_scope("hidden")?;
        dense(&mut s, x, 64)?
    };
    let h = cx.relu(&h)?;
    let mut s = cx.variable_scope("embedding")?;
    dense(&mut s, &h, 16)
}

/// TF's `GradientDescentOptimizer(rate).minimize(loss)`.
fn sgd(cx: &mut Scope, loss: &Tensor, rate: f64) -> Result<Tensor> {
    varscope::train::GradientDescentOptimizer::new(rate).minimize(cx, loss, varscope::train::Minimize::new())
}

/// The Siamese MLP of `examples/siamese` (64 pairs), as `scripts/train/tf_train_step.py` builds it.
fn siamese_step(c: &mut Criterion) {
    let graph = Graph::with_seed(7);
    let mut cx = graph.scope();
    let pixels = |seed: usize| {
        ArrayD::from_shape_fn(IxDyn(&[64, 64]), move |ix| ((ix[0] * 13 + ix[1] * 7 + seed) % 16) as f32 / 16.0)
    };
    let left = cx.placeholder("left", Value::from(pixels(0))).expect("left");
    let right = cx.placeholder("right", Value::from(pixels(5))).expect("right");
    let same_v = ArrayD::from_shape_fn(IxDyn(&[64]), |ix| if ix[0] % 2 == 0 { 1.0f32 } else { 0.0 });
    let same = cx.placeholder("same", Value::from(same_v.clone())).expect("same");
    let build = |cx: &mut Scope| -> Result<Tensor> {
        let (a, b) = {
            let mut s = cx.variable_scope("siamese")?;
            let a = tower(&mut s, &left)?;
            s.reuse_variables();
            (a, tower(&mut s, &right)?)
        };
        let diff = cx.sub(&a, &b)?;
        let d2 = cx.reduce_sum(&cx.mul(&diff, &diff)?, Axes::List(vec![1]), false)?;
        let d = cx.sqrt(&cx.add(&d2, &cx.constant(1e-6f32)?)?)?;
        let gap = cx.relu(&cx.sub(&cx.constant(1.0f32)?, &d)?)?;
        let other = cx.sub(&cx.constant(1.0f32)?, &same)?;
        let total = cx.add(&cx.mul(&same, &d2)?, &cx.mul(&other, &cx.mul(&gap, &gap)?)?)?;
        cx.reduce_mean(&total, Axes::All, false)
    };
    let loss = build(&mut cx).expect("loss");
    let train = sgd(&mut cx, &loss, 0.1).expect("train op");
    let sess = Session::new(&graph);
    let feeds = [(&left, Value::from(pixels(1))), (&right, Value::from(pixels(3))), (&same, Value::from(same_v))];
    let mut group = c.benchmark_group("siamese_mlp_64_pairs");
    group.bench_function("session_train_step", |b| {
        b.iter(|| black_box(sess.run(&[&loss, &train], &feeds).expect("run")))
    });
    group.finish();
}

criterion_group!(benches, small_ops, image_filter_step, siamese_step);
criterion_main!(benches);
