//! The seed's `my_image_filter` through the recorded graph: scoped ops on
//! `get_variable` weights, and reverse-mode gradients of the four variables.
//! Compared with `benches/kernels.rs` (`my_image_filter/forward_ops`), this
//! shows what naming, recording and the autodiff walk add on top of the
//! kernels. Run with `cargo bench --bench graph`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::{Axes, Padding};
use varscope::{Graph, Init, Result, Reuse, Scope, Tensor, VarScope, VarSpec};

const FLOPS_PER_CONV: u64 = 2 * 8 * 32 * 32 * 32 * 5 * 5 * 32;

fn conv_relu(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let w = cx.get_variable(
        "weights",
        VarSpec::new().shape([5, 5, 32, 32]).init(Init::RandomNormal { mean: 0.0, stddev: 0.1 }),
    )?;
    let b = cx.get_variable("biases", VarSpec::new().shape([32]).init(Init::constant(0.0)))?;
    let conv = cx.conv2d(input, &w, [1, 1], Padding::Same)?;
    let pre = cx.add(&conv, &b)?;
    cx.relu(&pre)
}

fn my_image_filter(cx: &mut Scope, x: &Tensor) -> Result<Tensor> {
    let mut top = cx.variable_scope(VarScope::new("image_filters").reuse(Reuse::Auto))?;
    let relu1 = {
        let mut s = top.variable_scope("conv1")?;
        conv_relu(&mut s, x)?
    };
    let mut s = top.variable_scope("conv2")?;
    conv_relu(&mut s, &relu1)
}

fn image_filter(c: &mut Criterion) {
    let graph = Graph::with_seed(7);
    let mut cx = graph.scope();
    let image =
        ArrayD::from_shape_fn(IxDyn(&[8, 32, 32, 32]), |ix| ((ix[1] * 3 + ix[2] * 5 + ix[3]) as f32 * 0.1).sin());
    let forward = |cx: &mut Scope| -> Result<Tensor> {
        graph.clear_ops();
        let x = cx.constant(image.clone())?;
        my_image_filter(cx, &x)
    };
    let mut g = c.benchmark_group("graph_my_image_filter");
    g.throughput(Throughput::Elements(2 * FLOPS_PER_CONV));
    g.bench_function("forward", |bench| bench.iter(|| black_box(forward(&mut cx))));
    g.throughput(Throughput::Elements(5 * FLOPS_PER_CONV));
    g.bench_function("forward_backward", |bench| {
        bench.iter(|| -> Result<_> {
            let y = forward(&mut cx)?;
            let loss = cx.reduce_mean(&y, Axes::All, false)?;
            let vars = graph.trainable_variables();
            let wrt: Vec<&Tensor> = vars.iter().map(|v| v.tensor()).collect();
            Ok(black_box(graph.gradients(&loss, &wrt)?))
        })
    });
    g.finish();
}

/// Reusing `get_variable` lookups of 64 existing variables, from one thread
/// and from two threads at once (each doing the same number of lookups): with
/// a read-locked store, two threads finish in about the time of one.
fn reuse_lookups(c: &mut Criterion) {
    const LOOKUPS: usize = 20_000;
    let graph = Graph::with_seed(1);
    let names: Vec<String> = (0..64).map(|i| format!("v{i}")).collect();
    {
        let mut cx = graph.scope();
        let s = cx.variable_scope("shared").unwrap();
        for n in &names {
            s.get_variable(n, [4]).unwrap();
        }
    }
    let work = |graph: &Graph| {
        let mut cx = graph.scope();
        let s = cx.variable_scope(VarScope::new("shared").reuse(Reuse::ReuseOnly)).unwrap();
        for i in 0..LOOKUPS {
            black_box(s.get_variable(&names[i % names.len()], [4]).unwrap());
        }
    };
    let mut g = c.benchmark_group("reuse_lookups");
    for threads in [1usize, 2] {
        g.throughput(Throughput::Elements((threads * LOOKUPS) as u64));
        g.bench_function(format!("{threads}_threads"), |bench| {
            bench.iter(|| {
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| work(&graph));
                    }
                })
            })
        });
    }
    g.finish();
}

/// What must not scan every name: a `NotFound` with its suggestion, entering and leaving a
/// scope after many were entered, and `clear_ops` of a few ops beside many variables, each at
/// 1,000 and at 200,000 variables (scopes). Flat times across the two sizes mean the cost does
/// not grow with the graph (issue 9's complexity goals; no timed assertion tests this). The
/// first `clear_ops` after building, which looks once at each name touched, is outside the
/// measurement.
fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    for n in [1_000usize, 200_000] {
        let graph = Graph::with_seed(1);
        {
            let mut cx = graph.scope();
            for i in 0..n {
                let s = cx.variable_scope(format!("layer{i}")).unwrap();
                s.get_variable("w", [1]).unwrap();
            }
        }
        // The first clear looks once at every name touched while building; later ones only at
        // what was touched since. The allocator needs a few more rounds to settle after the big
        // first free (glibc consolidates its free lists for some milliseconds per call).
        let mut cx = graph.scope();
        for _ in 0..50 {
            cx.constant(1.0f32).unwrap();
            graph.clear_ops();
        }
        g.bench_function(format!("not_found_with_suggestion/{n}"), |bench| {
            bench.iter(|| {
                let s = cx.variable_scope(VarScope::new("layer7").reuse(Reuse::ReuseOnly)).unwrap();
                black_box(s.get_variable("W", [1]).unwrap_err())
            })
        });
        g.bench_function(format!("enter_and_leave_a_scope/{n}"), |bench| {
            bench.iter(|| {
                let s = cx.variable_scope(VarScope::new("layer7").reuse(Reuse::ReuseOnly)).unwrap();
                black_box(&s);
            })
        });
        g.bench_function(format!("clear_ops_of_8_ops/{n}"), |bench| {
            bench.iter_batched(
                || {
                    let x = cx.constant(1.0f32).unwrap();
                    for _ in 0..7 {
                        cx.neg(&x).unwrap();
                    }
                },
                |()| graph.clear_ops(),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn config() -> Criterion {
    // Two shared cores: short, steady runs.
    Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = image_filter, reuse_lookups, scaling
}
criterion_main!(benches);
