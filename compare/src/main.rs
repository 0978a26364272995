//! varscope kernels vs candle-core 0.11 (CPU) on the same shapes, measured in one run.
//!
//! Run: `cargo run --release --manifest-path compare/Cargo.toml` (prints a Markdown table).
//! Each figure is the median (and best) of repeated runs after a warm-up; the workloads of one
//! comparison run round-robin so they all see the same load on a shared machine. candle uses NCHW / OIHW, so the
//! same data is transposed once up front; its symmetric padding of 2 equals TF SAME for a 5x5
//! kernel at stride 1. Outputs of both libraries are compared before timing.

#[path = "../../benches/workload/mod.rs"]
mod workload;

use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use ndarray::{Array2, Array4};
use varscope::kernels::{self, Conv2dScratch, Epilogue, Padding};
use workload::{ImageFilter, Rng};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Median and best wall time in seconds of `f` over about `budget` seconds (at least 5 runs).
/// The machine is shared, so the best run shows what the code can do and the median what it did.
#[derive(Clone, Copy)]
struct T2 {
    median: f64,
    best: f64,
}

/// Times several workloads round-robin (one run of each per round), so that all of them see the
/// same machine load and their ratios stay meaningful on a shared machine.
fn time_set(budget: f64, fs: &mut [&mut dyn FnMut() -> Res<()>]) -> Res<Vec<T2>> {
    for f in fs.iter_mut() {
        f()?; // warm-up (grows scratch buffers, faults pages in, spins up threads)
    }
    let mut samples = vec![Vec::new(); fs.len()];
    let start = Instant::now();
    let total = budget * fs.len() as f64;
    while samples[0].len() < 5 || (start.elapsed().as_secs_f64() < total && samples[0].len() < 2000) {
        for (f, s) in fs.iter_mut().zip(samples.iter_mut()) {
            let t = Instant::now();
            f()?;
            s.push(t.elapsed().as_secs_f64());
        }
    }
    Ok(samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(|a, b| a.total_cmp(b));
            T2 { median: s[s.len() / 2], best: s[0] }
        })
        .collect())
}

/// Wraps a workload for [`time_set`], keeping its result alive until timing stops.
fn run<T>(mut f: impl FnMut() -> Res<T>) -> impl FnMut() -> Res<()> {
    move || {
        std::hint::black_box(f()?);
        Ok(())
    }
}

fn nhwc_to_nchw(a: &Array4<f32>, dev: &Device) -> Res<Tensor> {
    let p = a.view().permuted_axes([0, 3, 1, 2]);
    let p = p.as_standard_layout();
    let d = p.dim();
    Ok(Tensor::from_slice(p.as_slice().ok_or("layout")?, (d.0, d.1, d.2, d.3), dev)?)
}

fn hwio_to_oihw(a: &Array4<f32>, dev: &Device) -> Res<Tensor> {
    let p = a.view().permuted_axes([3, 2, 0, 1]);
    let p = p.as_standard_layout();
    let d = p.dim();
    Ok(Tensor::from_slice(p.as_slice().ok_or("layout")?, (d.0, d.1, d.2, d.3), dev)?)
}

fn mat(a: &Array2<f32>, dev: &Device) -> Res<Tensor> {
    Ok(Tensor::from_slice(a.as_slice().ok_or("layout")?, a.dim(), dev)?)
}

struct Candle {
    x: Tensor,
    w1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
}

impl Candle {
    fn new(m: &ImageFilter, dev: &Device) -> Res<Self> {
        let bias = |b: &ndarray::Array1<f32>| -> Res<Var> {
            Ok(Var::from_tensor(&Tensor::from_slice(b.as_slice().ok_or("layout")?, (1, b.len(), 1, 1), dev)?)?)
        };
        Ok(Self {
            x: nhwc_to_nchw(&m.x, dev)?,
            w1: Var::from_tensor(&hwio_to_oihw(&m.w1, dev)?)?,
            b1: bias(&m.b1)?,
            w2: Var::from_tensor(&hwio_to_oihw(&m.w2, dev)?)?,
            b2: bias(&m.b2)?,
        })
    }

    fn conv(&self, x: &Tensor, w: &Var) -> Res<Tensor> {
        let pad = workload::KERNEL / 2;
        Ok(x.conv2d(w.as_tensor(), pad, 1, 1, 1)?)
    }

    fn forward(&self) -> Res<Tensor> {
        let r1 = self.conv(&self.x, &self.w1)?.broadcast_add(self.b1.as_tensor())?.relu()?;
        Ok(self.conv(&r1, &self.w2)?.broadcast_add(self.b2.as_tensor())?.relu()?)
    }

    fn forward_backward(&self) -> Res<usize> {
        let grads = self.forward()?.sum_all()?.backward()?;
        let vars = [&self.w1, &self.b1, &self.w2, &self.b2];
        Ok(vars.iter().filter(|v| grads.get(v.as_tensor()).is_some()).count())
    }

    fn conv_forward_backward(&self) -> Res<usize> {
        let grads = self.conv(&self.x, &self.w1)?.sum_all()?.backward()?;
        Ok(usize::from(grads.get(self.w1.as_tensor()).is_some()))
    }
}

fn main() -> Res<()> {
    let dev = Device::Cpu;
    let budget = 2.0;
    println!(
        "cores: {}, avx512f: {}, load average before: {}\n",
        cores(),
        std::arch::is_x86_feature_detected!("avx512f"),
        load_average()
    );
    println!("Each cell: median / best of repeated runs, measured in this one process.\n");

    let mut rows: Vec<String> = Vec::new();
    let mut rng = Rng(1);
    let ms = |t: f64| t * 1e3;
    let pair_ms = |t: T2| format!("{:.2} / {:.2}", ms(t.median), ms(t.best));
    let ratio = |theirs: T2, ours: T2| format!("{:.1}x / {:.1}x", theirs.median / ours.median, theirs.best / ours.best);
    let met = |ok: bool| if ok { "met" } else { "missed" };
    for n in [64usize, 512, 1024] {
        let (a, b) = (rng.square(n), rng.square(n));
        let mut out = Array2::<f32>::zeros((n, n));
        let (ca, cb) = (mat(&a, &dev)?, mat(&b, &dev)?);
        let theirs = ca.matmul(&cb)?.flatten_all()?.to_vec1::<f32>()?;
        let ours = kernels::matmul(a.view(), b.view(), false, false)?;
        let diff = theirs.iter().zip(ours.iter()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        let t = time_set(
            budget,
            &mut [
                &mut run(|| Ok(kernels::matmul_into(a.view(), b.view(), false, false, 0.0, out.view_mut())?)),
                &mut run(|| Ok(ca.matmul(&cb)?)),
            ],
        )?;
        let (tv, tc) = (t[0], t[1]);
        let gf = |t: f64| workload::matmul_flops(n) / t / 1e9;
        let target = if n >= 512 {
            format!(">= 300 GFLOP/s: median {}, best {}", met(gf(tv.median) >= 300.0), met(gf(tv.best) >= 300.0))
        } else {
            "-".into()
        };
        rows.push(format!(
            "| matmul {n}³, GFLOP/s | {:.0} / {:.0} | {:.0} / {:.0} | {} | {target} | max diff {diff:.1e} |",
            gf(tv.median),
            gf(tv.best),
            gf(tc.median),
            gf(tc.best),
            ratio(tc, tv)
        ));
    }

    let m = ImageFilter::new(4);
    let c = Candle::new(&m, &dev)?;
    let mut scratch = Conv2dScratch::new();
    let mut hidden = Array4::<f32>::zeros(ImageFilter::shape());
    let mut out = Array4::<f32>::zeros(ImageFilter::shape());

    // Same numbers from both libraries before any timing.
    m.forward_fused(&mut scratch, &mut hidden, &mut out)?;
    let theirs = c.forward()?.permute((0, 2, 3, 1))?.flatten_all()?.to_vec1::<f32>()?;
    let diff = out.iter().zip(&theirs).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);

    let dy = Array4::<f32>::ones(ImageFilter::shape());
    let t = time_set(
        budget,
        &mut [
            &mut run(|| {
                Ok(kernels::conv2d_into(
                    m.x.view(),
                    m.w1.view(),
                    [1, 1],
                    Padding::Same,
                    Epilogue::None,
                    &mut scratch,
                    hidden.view_mut(),
                )?)
            }),
            &mut run(|| Ok(m.conv_backward(&dy)?)),
            &mut run(|| {
                let y = kernels::conv2d(m.x.view(), m.w1.view(), [1, 1], Padding::Same)?;
                Ok((y, m.conv_backward(&dy)?))
            }),
            &mut run(|| c.conv(&c.x, &c.w1)),
            &mut run(|| c.conv_forward_backward()),
        ],
    )?;
    let (conv_fwd, conv_bwd, conv_fb, conv_fwd_c, conv_fb_c) = (t[0], t[1], t[2], t[3], t[4]);
    let t = time_set(
        budget,
        &mut [
            &mut run(|| Ok(m.forward_fused(&mut scratch, &mut hidden, &mut out)?)),
            &mut run(|| Ok(m.forward_ops()?)),
            &mut run(|| c.forward()),
        ],
    )?;
    let (fused, ops, fwd_c) = (t[0], t[1], t[2]);
    let t = time_set(
        budget,
        &mut [
            &mut run(|| {
                let tape = m.forward_ops()?;
                Ok(m.backward(&tape)?)
            }),
            &mut run(|| c.forward_backward()),
        ],
    )?;
    let (fb, fb_c) = (t[0], t[1]);

    let cf = workload::conv_flops();
    let gfl = |flops: f64, t: T2| format!("{:.0} / {:.0}", flops / t.median / 1e9, flops / t.best / 1e9);
    rows.push(format!(
        "| conv2d layer forward, ms (GFLOP/s) | {} ({}) | {} | {} | - | |",
        pair_ms(conv_fwd),
        gfl(cf, conv_fwd),
        pair_ms(conv_fwd_c),
        ratio(conv_fwd_c, conv_fwd)
    ));
    let (bm, bb) = (conv_bwd.median / conv_fwd.median, conv_bwd.best / conv_fwd.best);
    rows.push(format!(
        "| conv2d layer backward (input + filter), ms | {} | - | - | <= 2.5x forward: {bm:.2}x / {bb:.2}x ({} / {}) | |",
        pair_ms(conv_bwd),
        met(bm <= 2.5),
        met(bb <= 2.5)
    ));
    rows.push(format!(
        "| conv2d layer forward + backward, ms | {} | {} | {} | - | |",
        pair_ms(conv_fb),
        pair_ms(conv_fb_c),
        ratio(conv_fb_c, conv_fb)
    ));
    let fused_ok = |t: f64, tc: f64| ms(t) <= 5.0 && tc / t >= 7.0;
    rows.push(format!(
        "| my_image_filter forward, fused bias+relu, ms (GFLOP/s) | {} ({}) | {} | {} | <= 5 ms and >= 7x candle: {} / {} | max diff {diff:.1e} |",
        pair_ms(fused),
        gfl(2.0 * cf, fused),
        pair_ms(fwd_c),
        ratio(fwd_c, fused),
        met(fused_ok(fused.median, fwd_c.median)),
        met(fused_ok(fused.best, fwd_c.best))
    ));
    rows.push(format!(
        "| my_image_filter forward, separate Conv2D/BiasAdd/Relu, ms | {} | {} | {} | <= 5 ms and >= 7x candle: {} / {} | |",
        pair_ms(ops),
        pair_ms(fwd_c),
        ratio(fwd_c, ops),
        met(fused_ok(ops.median, fwd_c.median)),
        met(fused_ok(ops.best, fwd_c.best))
    ));
    rows.push(format!(
        "| my_image_filter forward + backward, ms | {} | {} | {} | - | |",
        pair_ms(fb),
        pair_ms(fb_c),
        ratio(fb_c, fb)
    ));

    println!("| workload | varscope | candle-core 0.11 | varscope speed-up | target | check |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!("\nload average after: {}", load_average());
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
