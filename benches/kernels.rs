//! Criterion benchmarks of varscope's numeric kernels on the shapes of issue 4.
//!
//! Throughput is reported in "elements" = floating-point operations, so criterion's `Gelem/s`
//! reads as GFLOP/s. Run with `cargo bench --bench kernels`; see `docs/perf.md`.

mod workload;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array4;
use varscope::kernels::{self, Conv2dScratch, Padding};
use workload::{ImageFilter, Rng};

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul");
    let mut rng = Rng(1);
    for n in [64usize, 512, 1024] {
        let (a, b) = (rng.square(n), rng.square(n));
        let mut out = ndarray::Array2::<f32>::zeros((n, n));
        g.throughput(Throughput::Elements(workload::matmul_flops(n) as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| kernels::matmul_into(a.view(), b.view(), false, false, 0.0, out.view_mut()))
        });
    }
    g.finish();
}

fn conv_layer(c: &mut Criterion) {
    let mut g = c.benchmark_group("conv2d_8x32x32x32_5x5x32x32_same");
    let m = ImageFilter::new(2);
    let mut scratch = Conv2dScratch::new();
    let mut out = Array4::<f32>::zeros(ImageFilter::shape());
    g.throughput(Throughput::Elements(workload::conv_flops() as u64));
    g.bench_function("forward", |bench| {
        bench.iter(|| {
            kernels::conv2d_into(
                m.x.view(),
                m.w1.view(),
                [1, 1],
                Padding::Same,
                kernels::Epilogue::None,
                &mut scratch,
                out.view_mut(),
            )
        })
    });
    let dy = Rng(3).array4(ImageFilter::shape(), 1.0);
    g.throughput(Throughput::Elements(2 * workload::conv_flops() as u64));
    g.bench_function("backward_input_and_filter", |bench| bench.iter(|| black_box(m.conv_backward(&dy))));
    g.finish();
}

fn image_filter(c: &mut Criterion) {
    let mut g = c.benchmark_group("my_image_filter");
    let m = ImageFilter::new(4);
    let mut scratch = Conv2dScratch::new();
    let mut hidden = Array4::<f32>::zeros(ImageFilter::shape());
    let mut out = Array4::<f32>::zeros(ImageFilter::shape());
    g.throughput(Throughput::Elements(2 * workload::conv_flops() as u64));
    g.bench_function("forward_fused", |bench| bench.iter(|| m.forward_fused(&mut scratch, &mut hidden, &mut out)));
    g.bench_function("forward_ops", |bench| bench.iter(|| black_box(m.forward_ops())));
    g.throughput(Throughput::Elements(6 * workload::conv_flops() as u64));
    g.bench_function("forward_backward", |bench| {
        bench.iter(|| -> workload::R<_> {
            let tape = m.forward_ops()?;
            Ok(black_box(m.backward(&tape)?))
        })
    });
    g.finish();
}

fn config() -> Criterion {
    // Two shared cores: short, steady runs.
    Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = matmul, conv_layer, image_filter
}
criterion_main!(benches);
