//! varscope kernels vs candle-core 0.11 (CPU) on the same shapes, measured in one run.
//!
//! Run: `cargo run --release --manifest-path compare/Cargo.toml` (prints a Markdown table), or
//! `scripts/perf/compare.sh`, which adds TensorFlow's side (`compare/tf_side.py`). Options:
//! `--budget SECONDS` per workload (default 2), `--summary FILE` writes one tab-separated line per
//! workload (key, median, best, 25th and 75th percentile, in seconds), `--dump FILE` writes the
//! fused forward's output as raw little-endian f32 (what `tf_side.py --check` compares against).
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
use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::Axes;
use varscope::{Graph, Init, Reuse, Scope, VarScope, VarSpec};
use workload::{ImageFilter, Rng};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Median and best wall time in seconds of `f` over about `budget` seconds (at least 5 runs).
/// The machine is shared, so the best run shows what the code can do and the median what it did.
#[derive(Clone, Copy)]
struct T2 {
    median: f64,
    best: f64,
    q1: f64,
    q3: f64,
}

/// Times several workloads round-robin (one run of each per round), so that all of them see the
/// same machine load and their ratios stay meaningful on a shared machine.
/// A workload returning `Some(seconds)` timed itself (TensorFlow's calls, timed in its process).
fn time_set(budget: f64, fs: &mut [&mut dyn FnMut() -> Res<Option<f64>>]) -> Res<Vec<T2>> {
    for f in fs.iter_mut() {
        f()?; // warm-up (grows scratch buffers, faults pages in, spins up threads)
    }
    let mut samples = vec![Vec::new(); fs.len()];
    let start = Instant::now();
    let total = budget * fs.len() as f64;
    while samples[0].len() < 5 || (start.elapsed().as_secs_f64() < total && samples[0].len() < 2000) {
        for (f, s) in fs.iter_mut().zip(samples.iter_mut()) {
            let t = Instant::now();
            let own = f()?;
            s.push(own.unwrap_or_else(|| t.elapsed().as_secs_f64()));
        }
    }
    Ok(samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(|a, b| a.total_cmp(b));
            T2 { median: s[s.len() / 2], best: s[0], q1: s[s.len() / 4], q3: s[s.len() * 3 / 4] }
        })
        .collect())
}

/// Wraps a workload for [`time_set`], keeping its result alive until timing stops.
fn run<T>(mut f: impl FnMut() -> Res<T>) -> impl FnMut() -> Res<Option<f64>> {
    move || {
        std::hint::black_box(f()?);
        Ok(None)
    }
}

/// TensorFlow's side: `compare/tf_side.py --serve` in the venv's Python, one child process that
/// builds the same graphs on the same data and runs one timed `session.run` per request, so its
/// workloads take their turn in the same round-robin rounds as varscope's.
struct Tf {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    /// Max abs difference of TF's forward output to varscope's fused forward.
    diff: f64,
}

impl Tf {
    fn start(python: &str, dump: &str) -> Res<Self> {
        use std::process::{Command, Stdio};
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tf_side.py");
        let mut child = Command::new(python)
            .args([script, "--serve", "--threads", "2", "--check", dump])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {python} {script}: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut tf = Self { child, stdin, stdout, diff: f64::NAN };
        let line = tf.line()?;
        tf.diff = line
            .strip_prefix("diff ")
            .and_then(|d| d.trim().parse().ok())
            .ok_or_else(|| format!("tf_side.py said {line:?} instead of its output check"))?;
        Ok(tf)
    }

    fn line(&mut self) -> Res<String> {
        use std::io::BufRead;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err("tf_side.py exited (see its error above)".into());
        }
        Ok(line)
    }

    fn time(&mut self, key: &str) -> Res<f64> {
        use std::io::Write;
        writeln!(self.stdin, "{key}")?;
        self.stdin.flush()?;
        let line = self.line()?;
        Ok(line.trim().parse().map_err(|_| format!("tf_side.py answered {line:?} to {key}"))?)
    }
}

impl Drop for Tf {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One TF workload for [`time_set`] (NaN times when TF is not in this run).
fn tf_run<'a>(tf: &'a Option<std::cell::RefCell<Tf>>, key: &'a str) -> impl FnMut() -> Res<Option<f64>> + 'a {
    move || match tf {
        Some(tf) => {
            let t = tf.borrow_mut().time(key)?;
            // Let TF's pool threads stop spinning before the next workload starts (not timed).
            std::thread::sleep(std::time::Duration::from_millis(5));
            Ok(Some(t))
        }
        None => Ok(Some(f64::NAN)),
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

/// The seed's `my_image_filter` through the recorded graph, as a user writes it (the ops of
/// `benches/graph.rs`): what naming, recording and the autodiff walk add to the kernels.
fn graph_conv_relu(cx: &mut Scope, input: &varscope::Tensor) -> varscope::Result<varscope::Tensor> {
    let w = cx.get_variable(
        "weights",
        VarSpec::new().shape([5, 5, 32, 32]).init(Init::RandomNormal { mean: 0.0, stddev: 0.1 }),
    )?;
    let b = cx.get_variable("biases", VarSpec::new().shape([32]).init(Init::constant(0.0)))?;
    let conv = cx.conv2d(input, &w, [1, 1], varscope::ops::Padding::Same)?;
    let pre = cx.add(&conv, &b)?;
    cx.relu(&pre)
}

fn graph_image_filter(cx: &mut Scope, x: &varscope::Tensor) -> varscope::Result<varscope::Tensor> {
    let mut top = cx.variable_scope(VarScope::new("image_filters").reuse(Reuse::Auto))?;
    let relu1 = {
        let mut s = top.variable_scope("conv1")?;
        graph_conv_relu(&mut s, x)?
    };
    let mut s = top.variable_scope("conv2")?;
    graph_conv_relu(&mut s, &relu1)
}

struct Args {
    budget: f64,
    summary: Option<String>,
    dump: Option<String>,
    tf_python: Option<String>,
}

fn args() -> Res<Args> {
    let mut a = Args { budget: 2.0, summary: None, dump: None, tf_python: None };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or_else(|| format!("{k} needs a value"));
        match k.as_str() {
            "--budget" => a.budget = v()?.parse()?,
            "--summary" => a.summary = Some(v()?),
            "--dump" => a.dump = Some(v()?),
            "--tf" => a.tf_python = Some(v()?),
            _ => {
                return Err(
                    format!("unknown argument {k}; use --budget S, --summary FILE, --dump FILE, --tf PYTHON").into()
                );
            }
        }
    }
    Ok(a)
}

fn main() -> Res<()> {
    let dev = Device::Cpu;
    let args = args()?;
    let budget = args.budget;
    let mut summary: Vec<(String, T2)> = Vec::new();
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
    let m = ImageFilter::new(4);
    let c = Candle::new(&m, &dev)?;
    let mut scratch = Conv2dScratch::new();
    let mut hidden = Array4::<f32>::zeros(ImageFilter::shape());
    let mut out = Array4::<f32>::zeros(ImageFilter::shape());

    // Same numbers from both libraries before any timing.
    m.forward_fused(&mut scratch, &mut hidden, &mut out)?;
    let theirs = c.forward()?.permute((0, 2, 3, 1))?.flatten_all()?.to_vec1::<f32>()?;
    let diff = out.iter().zip(&theirs).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    let dump = match (&args.dump, &args.tf_python) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(_)) => Some(std::env::temp_dir().join("varscope-compare-forward.bin").display().to_string()),
        (None, None) => None,
    };
    if let Some(path) = &dump {
        let bytes: Vec<u8> = out.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(path, bytes)?;
    }
    let tf = match (&args.tf_python, &dump) {
        (Some(py), Some(path)) => Some(std::cell::RefCell::new(Tf::start(py, path)?)),
        _ => None,
    };

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
                &mut tf_run(&tf, if n == 512 { "matmul512" } else { "matmul1024" }),
            ],
        )?;
        let (tv, tc) = (t[0], t[1]);
        summary.push((format!("matmul{n}"), tv));
        summary.push((format!("matmul{n}_candle"), tc));
        if n >= 512 {
            summary.push((format!("tf_matmul{n}"), t[2]));
        }
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
            &mut tf_run(&tf, "conv_fwd"),
            &mut tf_run(&tf, "conv_bwd"),
        ],
    )?;
    let (tf_conv_fwd, tf_conv_bwd) = (t[5], t[6]);
    let (conv_fwd, conv_bwd, conv_fb, conv_fwd_c, conv_fb_c) = (t[0], t[1], t[2], t[3], t[4]);
    let t = time_set(
        budget,
        &mut [
            &mut run(|| Ok(m.forward_fused(&mut scratch, &mut hidden, &mut out)?)),
            &mut run(|| Ok(m.forward_ops()?)),
            &mut run(|| c.forward()),
            &mut tf_run(&tf, "filter_fwd"),
        ],
    )?;
    let (fused, ops, fwd_c, tf_fwd) = (t[0], t[1], t[2], t[3]);
    let t = time_set(
        budget,
        &mut [
            &mut run(|| {
                let tape = m.forward_ops()?;
                Ok(m.backward(&tape)?)
            }),
            &mut run(|| c.forward_backward()),
            &mut tf_run(&tf, "filter_fb"),
        ],
    )?;
    let (fb, fb_c, tf_fb) = (t[0], t[1], t[2]);

    // The same model through the recorded graph (separate Conv2D / Add / Relu ops, autodiff),
    // each workload on its own graph, timed in the same rounds as the bare kernels.
    let image = ArrayD::from_shape_vec(IxDyn(&ImageFilter::shape()), m.x.iter().copied().collect())?;
    let (graph_f, graph_b) = (Graph::with_seed(7), Graph::with_seed(7));
    let (mut cx_f, mut cx_b) = (graph_f.scope(), graph_b.scope());
    // And built once, run many (`Session::run` with the image fed), as a training loop runs it.
    let graph_s = Graph::with_seed(7);
    let mut cx_s = graph_s.scope();
    let feed = varscope::Value::from(image.clone());
    let x_s = cx_s.placeholder("image", feed.clone())?;
    let y_s = graph_image_filter(&mut cx_s, &x_s)?;
    let loss_s = cx_s.reduce_sum(&y_s, Axes::All, false)?;
    let vars_s = graph_s.trainable_variables();
    let wrt_s: Vec<&varscope::Tensor> = vars_s.iter().map(|v| v.tensor()).collect();
    let grads_s = cx_s.gradients(&loss_s, &wrt_s)?;
    let mut fetch_s: Vec<&varscope::Tensor> = vec![&loss_s];
    fetch_s.extend(grads_s.iter());
    let sess = varscope::Session::new(&graph_s);
    let t = time_set(
        budget,
        &mut [
            &mut run(|| {
                graph_f.clear_ops();
                let x = cx_f.constant(image.clone())?;
                Ok(graph_image_filter(&mut cx_f, &x)?)
            }),
            &mut run(|| Ok(m.forward_ops()?)),
            &mut run(|| {
                graph_b.clear_ops();
                let x = cx_b.constant(image.clone())?;
                let y = graph_image_filter(&mut cx_b, &x)?;
                let loss = cx_b.reduce_sum(&y, Axes::All, false)?;
                let vars = graph_b.trainable_variables();
                let wrt: Vec<&varscope::Tensor> = vars.iter().map(|v| v.tensor()).collect();
                Ok(graph_b.gradients(&loss, &wrt)?)
            }),
            &mut run(|| {
                let tape = m.forward_ops()?;
                Ok(m.backward(&tape)?)
            }),
            &mut tf_run(&tf, "filter_fwd"),
            &mut tf_run(&tf, "filter_fb"),
            &mut run(|| Ok(sess.run(&[&y_s], &[(&x_s, feed.clone())])?)),
            &mut run(|| Ok(sess.run(&fetch_s, &[(&x_s, feed.clone())])?)),
        ],
    )?;
    let (g_fwd, k_fwd, g_fb, k_fb, tf_g_fwd, tf_g_fb) = (t[0], t[1], t[2], t[3], t[4], t[5]);
    let (s_fwd, s_fb) = (t[6], t[7]);
    for (k, v) in [
        ("conv_fwd", conv_fwd),
        ("conv_bwd", conv_bwd),
        ("conv_fb", conv_fb),
        ("conv_fwd_candle", conv_fwd_c),
        ("conv_fb_candle", conv_fb_c),
        ("filter_fwd_fused", fused),
        ("filter_fwd_ops", ops),
        ("filter_fwd_candle", fwd_c),
        ("filter_fb", fb),
        ("filter_fb_candle", fb_c),
        ("graph_fwd", g_fwd),
        ("graph_fb", g_fb),
        ("graph_round_kernels_fwd", k_fwd),
        ("graph_round_kernels_fb", k_fb),
        ("session_fwd", s_fwd),
        ("session_fb", s_fb),
        ("tf_conv_fwd", tf_conv_fwd),
        ("tf_conv_bwd", tf_conv_bwd),
        ("tf_filter_fwd", tf_fwd),
        ("tf_filter_fb", tf_fb),
        ("tf_graph_round_fwd", tf_g_fwd),
        ("tf_graph_round_fb", tf_g_fb),
    ] {
        summary.push((k.into(), v));
    }

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
        "| conv2d layer backward (input + filter), ms | {} | - | - | <= 2.0x forward: {bm:.2}x / {bb:.2}x ({} / {}) | |",
        pair_ms(conv_bwd),
        met(bm <= 2.0),
        met(bb <= 2.0)
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

    rows.push(format!(
        "| my_image_filter forward through the graph (Conv2D/Add/Relu ops), ms | {} | - | - | graph / kernels (same round) <= 1.05x: {:.2}x / {:.2}x | |",
        pair_ms(g_fwd),
        g_fwd.median / k_fwd.median,
        g_fwd.best / k_fwd.best
    ));
    rows.push(format!(
        "| my_image_filter forward + backward through the graph, ms | {} | - | - | graph / kernels (same round) <= 1.05x: {:.2}x / {:.2}x | |",
        pair_ms(g_fb),
        g_fb.median / k_fb.median,
        g_fb.best / k_fb.best
    ));

    rows.push(format!(
        "| my_image_filter forward, Session::run (fused Conv2D/bias/Relu), ms | {} | - | - | session / kernels (same round) <= 1.05x: {:.2}x / {:.2}x | |",
        pair_ms(s_fwd),
        s_fwd.median / k_fwd.median,
        s_fwd.best / k_fwd.best
    ));
    rows.push(format!(
        "| my_image_filter forward + backward, Session::run, ms | {} | - | - | session / kernels (same round) <= 1.05x: {:.2}x / {:.2}x | |",
        pair_ms(s_fb),
        s_fb.median / k_fb.median,
        s_fb.best / k_fb.best
    ));

    println!("| workload | varscope | candle-core 0.11 | varscope speed-up | target | check |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    if let Some(tf) = &tf {
        let tf = tf.borrow();
        let vs = |name: &str, ours: T2, theirs: T2| {
            format!(
                "| {name} | {} (IQR {:.2}–{:.2}) | {} (IQR {:.2}–{:.2}) | {:.2}x / {:.2}x |",
                pair_ms(ours),
                ms(ours.q1),
                ms(ours.q3),
                pair_ms(theirs),
                ms(theirs.q1),
                ms(theirs.q3),
                ours.median / theirs.median,
                ours.best / theirs.best
            )
        };
        println!("\nvarscope vs TensorFlow (tf_side.py, session.run, 2 intra-op threads), in the same rounds:\n");
        println!(
            "| workload, ms | varscope median / best | TF 2.21 median / best | varscope / TF time (<= 1.0x is at least as fast) |"
        );
        println!("|---|---|---|---|");
        println!("{}", vs("my_image_filter forward, kernels with fused bias+relu", fused, tf_fwd));
        println!("{}", vs("my_image_filter forward, kernels as separate ops", ops, tf_fwd));
        println!("{}", vs("my_image_filter forward + backward, kernels", fb, tf_fb));
        println!("{}", vs("my_image_filter forward, through the graph", g_fwd, tf_g_fwd));
        println!("{}", vs("my_image_filter forward + backward, through the graph", g_fb, tf_g_fb));
        println!("{}", vs("my_image_filter forward, Session::run", s_fwd, tf_g_fwd));
        println!("{}", vs("my_image_filter forward + backward, Session::run", s_fb, tf_g_fb));
        println!("{}", vs("conv2d layer forward", conv_fwd, tf_conv_fwd));
        println!("{}", vs("conv2d layer backward (input + filter)", conv_bwd, tf_conv_bwd));
        for (k, t) in &summary {
            if let Some(n) = k.strip_prefix("tf_matmul") {
                let ours = summary.iter().find(|(k2, _)| *k2 == format!("matmul{n}")).map(|(_, t)| *t);
                if let Some(ours) = ours {
                    println!("{}", vs(&format!("matmul {n}³ (TF incl. feed/fetch)"), ours, *t));
                }
            }
        }
        println!("\nmax abs difference of TF's my_image_filter output to varscope's fused forward: {:.1e}", tf.diff);
    }
    println!("\nload average after: {}", load_average());
    if let Some(path) = &args.summary {
        let text: String = summary
            .iter()
            .map(|(k, t)| format!("{k}\t{:e}\t{:e}\t{:e}\t{:e}\n", t.median, t.best, t.q1, t.q3))
            .collect();
        std::fs::write(path, text)?;
    }
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
