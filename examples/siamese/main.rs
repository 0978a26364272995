//! A Siamese network on the UCI handwritten digits (`data/digits/`), as in TensorFlow's
//! weight-sharing tutorial: one tower, applied twice with the same variables.
//!
//! ```sh
//! cargo run --release --example siamese -- [--steps N] [--out DIR]
//! ```
//!
//! Prints the variables, trains with a progress bar (loss, pairs per second), reports the
//! held-out accuracy, and writes to `DIR` (default `target/examples/siamese`): the loss curve
//! as `loss.png` and as TensorBoard scalars in `logs/` (`tensorboard --logdir DIR/logs`), and a
//! TensorFlow checkpoint `model.ckpt-STEPS` that TF's `Saver.restore` reads by name.

#[path = "../common/args.rs"]
mod args;
#[path = "../common/digits.rs"]
mod digits;
#[path = "../common/plot.rs"]
mod plot;
mod train;

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use varscope::checkpoint::Saver;
use varscope::summary::SummaryWriter;
use varscope::{Graph, ManifestExt};

const BATCH: usize = 64;
const LEARNING_RATE: f32 = 0.1;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (steps, out) = args::steps_and_out(3_000, "target/examples/siamese")?;
    let digits = digits::shipped()?;
    let (train_set, held_out) = digits.split(1_397);
    println!("{} training digits, {} held out", train_set.labels.len(), held_out.labels.len());

    let graph = Graph::with_seed(42);
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed_precise}, eta {eta}]")?);
    let start = Instant::now();
    let report = train::train(&graph, &train_set, &held_out, steps, BATCH, LEARNING_RATE, |step, loss| {
        let rate = (step + 1) as f64 * BATCH as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("loss {loss:.4}, {rate:.0} pairs/s"));
        bar.inc(1);
    })?;
    bar.finish();

    println!("variables (shared by both towers):");
    for v in graph.global_variables() {
        println!("  {:<32} {:?}", v.name(), v.shape());
    }
    let head = report.losses.iter().take(50).sum::<f64>() / report.losses.len().clamp(1, 50) as f64;
    let tail = report.losses.iter().rev().take(50).sum::<f64>() / report.losses.len().clamp(1, 50) as f64;
    println!("loss: {head:.4} (first 50 steps) -> {tail:.4} (last 50)");
    println!(
        "held-out accuracy (nearest class centroid in the embedding): {:.1}% (chance: 10%)",
        report.accuracy * 100.0
    );
    std::fs::create_dir_all(&out)?;
    let png = out.join("loss.png");
    plot::loss_curve(&png, "Siamese network on UCI digits: contrastive loss", &report.losses, 50)?;
    println!("loss curve: {}", png.display());

    let mut events = SummaryWriter::new(out.join("logs"))?;
    for (step, &loss) in report.losses.iter().enumerate() {
        events.scalar("loss", step as i64, loss)?;
    }
    events.scalar("held_out/accuracy", steps as i64, report.accuracy)?;
    events.flush()?;
    println!("TensorBoard scalars: {}", events.path().display());

    let checkpoint = Saver::new(&graph).save(out.join("model.ckpt"), Some(steps as u64))?;
    // The model's manifest, known at compile time, matches what was saved.
    let report = train::siamese::MANIFEST.check_checkpoint(&checkpoint)?;
    println!(
        "checkpoint: {} ({} variables, compatible with the model: {})",
        checkpoint.display(),
        report.matched,
        report.is_compatible()
    );
    Ok(())
}
