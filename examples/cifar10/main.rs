//! TensorFlow's CIFAR-10 model (`models/image/cifar10/cifar10.py`), with the same scopes and
//! names, so TF checkpoints restore into it by name.
//!
//! ```sh
//! cargo run --release --example cifar10 -- [--steps N] [--out DIR]
//! cargo run --release --example cifar10 -- --restore CKPT --input IMAGES.json
//! ```
//!
//! The first form trains it from scratch (truncated-normal weights, plain gradient descent on
//! cifar10.py's total loss: cross entropy plus weight decay) with a progress bar. CIFAR-10
//! itself (170 MB) does not ship with varscope; the images here are the UCI handwritten digits
//! of `data/digits/` (CC BY 4.0), scaled to cifar10.py's 24 x 24 x 3 input and standardised
//! per image as cifar10.py does. It reports held-out accuracy and writes `loss.png`, TensorBoard
//! scalars and a TF checkpoint to `DIR` (default `target/examples/cifar10`).
//!
//! The second form restores a checkpoint written by TensorFlow for cifar10.py's graph and
//! prints the logits of the images in `IMAGES.json` (`{"shape": [n, 24, 24, 3], "values":
//! [...]}`) as JSON: `scripts/interop/check-cifar10.sh` compares them with TF's.

#[allow(dead_code)] // `Digits::split` is the Siamese example's
#[path = "../common/digits.rs"]
mod digits;
mod model;
#[path = "../common/plot.rs"]
mod plot;

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use varscope::checkpoint::Saver;
use varscope::ndarray::{Array4, ArrayD, Axis, IxDyn};
use varscope::ops::Axes;
use varscope::summary::SummaryWriter;
use varscope::train::{GradientDescentOptimizer, Minimize};
use varscope::{Graph, ManifestExt, Session, Tensor, Value};

use model::{IMAGE_SIZE, NUM_CLASSES};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

const BATCH: usize = 32;
const LEARNING_RATE: f64 = 0.05;

/// The digits as cifar10.py's input: each 8 x 8 pixel a 3 x 3 block, grey in all three
/// channels, standardised per image (`tf.image.per_image_standardization`).
fn digits_as_images() -> BoxResult<(Array4<f32>, Vec<i32>)> {
    let d = digits::shipped()?;
    let n = d.labels.len();
    let mut images = Vec::with_capacity(n * IMAGE_SIZE * IMAGE_SIZE * 3);
    for row in d.images.rows() {
        let img: Vec<f32> = (0..IMAGE_SIZE * IMAGE_SIZE * 3)
            .map(|i| {
                let (y, x) = (i / (IMAGE_SIZE * 3), (i / 3) % IMAGE_SIZE);
                row[(y / 3) * 8 + x / 3]
            })
            .collect();
        let len = img.len() as f32;
        let mean = img.iter().sum::<f32>() / len;
        let std = (img.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / len).sqrt().max(1.0 / len.sqrt());
        images.extend(img.iter().map(|v| (v - mean) / std));
    }
    let labels = d.labels.iter().map(|&l| l as i32).collect();
    Ok((Array4::from_shape_vec((n, IMAGE_SIZE, IMAGE_SIZE, 3), images)?, labels))
}

/// The training graph: placeholders for a batch, the logits, cifar10.py's total loss and TF's
/// gradient-descent train op.
struct Trainer {
    session: Session,
    images: Tensor,
    labels: Tensor,
    logits: Tensor,
    loss: Tensor,
    train: Tensor,
}

impl Trainer {
    fn new(graph: &Graph, images: ArrayD<f32>, labels: ArrayD<i32>) -> varscope::Result<Trainer> {
        let mut cx = graph.scope();
        let images = cx.placeholder("images", images)?;
        let labels = cx.placeholder("labels", labels)?;
        let logits = model::inference(&mut cx, &images)?;
        let loss = model::loss(&mut cx, &logits, &labels)?;
        let train = GradientDescentOptimizer::new(LEARNING_RATE).minimize(&mut cx, &loss, Minimize::new())?;
        Ok(Trainer { session: Session::new(graph), images, labels, logits, loss, train })
    }

    fn step(&self, images: ArrayD<f32>, labels: ArrayD<i32>) -> varscope::Result<f64> {
        let feeds = [(&self.images, Value::from(images)), (&self.labels, Value::from(labels))];
        Ok(self.session.run(&[&self.loss, &self.train], &feeds)?[0].to_f64_vec()[0])
    }

    fn predict(&self, images: ArrayD<f32>) -> varscope::Result<Vec<usize>> {
        let logits = self.session.run(&[&self.logits], &[(&self.images, Value::from(images))])?;
        let v = logits[0].to_f64_vec();
        Ok(v.chunks(NUM_CLASSES)
            .map(|row| (0..NUM_CLASSES).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0))
            .collect())
    }
}

fn batch_of(images: &Array4<f32>, labels: &[i32], picks: &[usize]) -> (ArrayD<f32>, ArrayD<i32>) {
    let x = images.select(Axis(0), picks).into_dyn();
    let y =
        ArrayD::from_shape_vec(IxDyn(&[picks.len()]), picks.iter().map(|&i| labels[i]).collect()).unwrap_or_default();
    (x, y)
}

/// Trains for `steps` steps and returns the losses and the held-out accuracy.
pub fn train(graph: &Graph, steps: usize, mut progress: impl FnMut(usize, f64)) -> BoxResult<(Vec<f64>, f64)> {
    let (images, labels) = digits_as_images()?;
    let n_train = 1_397.min(labels.len());
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut pick = || (0..BATCH).map(|_| rng.random_range(0..n_train)).collect::<Vec<_>>();
    let (x, y) = batch_of(&images, &labels, &pick());
    let trainer = Trainer::new(graph, x, y)?; // building computes the first step's ops
    let mut losses = vec![trainer.loss.value().to_f64_vec()[0]];
    progress(0, losses[0]);
    for step in 1..steps {
        let (x, y) = batch_of(&images, &labels, &pick());
        losses.push(trainer.step(x, y)?);
        progress(step, losses[step]);
    }
    let (mut correct, mut seen) = (0usize, 0usize);
    let held_out: Vec<usize> = (n_train..labels.len()).collect();
    for chunk in held_out.chunks_exact(BATCH) {
        let (x, _) = batch_of(&images, &labels, chunk);
        let predicted = trainer.predict(x)?;
        correct += predicted.iter().zip(chunk).filter(|(p, i)| **p == labels[**i] as usize).count();
        seen += chunk.len();
    }
    Ok((losses, correct as f64 / seen.max(1) as f64))
}

/// Restores a TF checkpoint into the model and prints the logits of the images in `input`.
fn restore_and_predict(checkpoint: &Path, input: &Path) -> BoxResult<()> {
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(input)?)?;
    let shape: Vec<usize> = serde_json::from_value(json["shape"].clone())?;
    let values: Vec<f32> = serde_json::from_value(json["values"].clone())?;
    let images = ArrayD::from_shape_vec(IxDyn(&shape), values)?;
    let graph = Graph::new();
    let mut cx = graph.scope();
    let x = cx.placeholder("images", images.clone())?;
    let logits = model::inference(&mut cx, &x)?;
    let report = model::inference::MANIFEST.check_checkpoint(checkpoint)?;
    if !report.is_compatible() {
        return Err(format!("the checkpoint does not fit the model:\n{report}").into());
    }
    Saver::new(&graph).restore(checkpoint)?;
    let out = Session::new(&graph).run(&[&logits], &[(&x, Value::from(images))])?;
    let names: Vec<String> = graph.global_variables().iter().map(|v| v.op_name().to_string()).collect();
    println!(
        "{}",
        serde_json::json!({ "variables": names, "logits": out[0].to_f64_vec(), "logits_name": logits.name() })
    );
    Ok(())
}

fn main() -> BoxResult<()> {
    let (mut steps, mut out) = (300usize, PathBuf::from("target/examples/cifar10"));
    let (mut restore, mut input) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--steps" => steps = args.next().ok_or("--steps needs a number")?.parse()?,
            "--out" => out = args.next().ok_or("--out needs a directory")?.into(),
            "--restore" => restore = Some(PathBuf::from(args.next().ok_or("--restore needs a checkpoint")?)),
            "--input" => input = Some(PathBuf::from(args.next().ok_or("--input needs a JSON file")?)),
            other => {
                return Err(format!(
                    "unknown argument `{other}` (use --steps N, --out DIR, --restore CKPT --input FILE)"
                )
                .into());
            }
        }
    }
    if let Some(checkpoint) = restore {
        return restore_and_predict(&checkpoint, &input.ok_or("--restore needs --input IMAGES.json")?);
    }
    let graph = Graph::with_seed(7);
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed_precise}, eta {eta}]")?);
    let start = Instant::now();
    let (losses, accuracy) = train(&graph, steps, |step, loss| {
        let rate = (step + 1) as f64 * BATCH as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("loss {loss:.3}, {rate:.0} images/s"));
        bar.inc(1);
    })?;
    bar.finish();
    println!("variables (cifar10.py's names):");
    for v in graph.global_variables() {
        println!("  {:<28} {:?}", v.name(), v.shape());
    }
    let k = losses.len().clamp(1, 20);
    let head = losses.iter().take(k).sum::<f64>() / k as f64;
    let tail = losses.iter().rev().take(k).sum::<f64>() / k as f64;
    println!("total loss: {head:.3} (first {k} steps) -> {tail:.3} (last {k})");
    println!("held-out accuracy: {:.1}% (chance: 10%)", accuracy * 100.0);
    std::fs::create_dir_all(&out)?;
    let png = out.join("loss.png");
    plot::loss_curve(&png, "cifar10.py's model on UCI digits: total loss", &losses, 10)?;
    println!("loss curve: {}", png.display());
    let mut events = SummaryWriter::new(out.join("logs"))?;
    for (step, &loss) in losses.iter().enumerate() {
        events.scalar("total_loss", step as i64, loss)?;
    }
    events.scalar("held_out/accuracy", steps as i64, accuracy)?;
    events.flush()?;
    println!("TensorBoard scalars: {}", events.path().display());
    let checkpoint = Saver::new(&graph).save(out.join("model.ckpt"), Some(steps as u64))?;
    let report = model::inference::MANIFEST.check_checkpoint(&checkpoint)?;
    println!(
        "checkpoint: {} ({} variables, compatible with the model: {})",
        checkpoint.display(),
        report.matched,
        report.is_compatible()
    );
    let _ = Axes::All;
    Ok(())
}
