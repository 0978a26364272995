//! A GRU reads each UCI digit (`data/digits/`, CC BY 4.0) row by row and classifies it:
//! `varscope::layers::GruCell` under `static_rnn`, one set of weights for the 8 time steps,
//! built once and trained by running its graph.
//!
//! ```sh
//! cargo run --release --example sequence -- [--steps N] [--out DIR]
//! ```
//!
//! Shows a progress bar (loss, digits per second), the variables, the held-out accuracy, and
//! writes to `DIR` (default `target/examples/sequence`) the loss curve (`loss.png`), TensorBoard
//! scalars (`logs/`) and a TF checkpoint, checked against the model's compile-time manifest.

#[path = "../common/args.rs"]
mod args;
#[allow(dead_code)] // `Digits::split` is the Siamese example's
#[path = "../common/digits.rs"]
mod digits;
mod model;
#[path = "../common/plot.rs"]
mod plot;
mod train;

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use train::{BATCH, BoxResult};
use varscope::checkpoint::Saver;
use varscope::summary::SummaryWriter;
use varscope::{Graph, ManifestExt};

fn main() -> BoxResult<()> {
    let (steps, out) = args::steps_and_out(1_500, "target/examples/sequence")?;
    let graph = Graph::with_seed(3);
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed_precise}, eta {eta}]")?);
    let start = Instant::now();
    let (losses, accuracy) = train::train(&graph, steps, |step, loss| {
        let rate = (step + 1) as f64 * BATCH as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("loss {loss:.3}, {rate:.0} digits/s"));
        bar.inc(1);
    })?;
    bar.finish();
    println!("variables (one GRU cell, shared by all 8 steps):");
    for v in graph.global_variables() {
        println!("  {:<34} {:?}", v.name(), v.shape());
    }
    let k = losses.len().clamp(1, 50);
    let head = losses.iter().take(k).sum::<f64>() / k as f64;
    let tail = losses.iter().rev().take(k).sum::<f64>() / k as f64;
    println!("loss: {head:.3} (first {k} steps) -> {tail:.3} (last {k})");
    println!("held-out accuracy: {:.1}% (chance: 10%)", accuracy * 100.0);
    std::fs::create_dir_all(&out)?;
    let png = out.join("loss.png");
    plot::loss_curve(&png, "GRU over the rows of UCI digits: cross entropy", &losses, 50)?;
    println!("loss curve: {}", png.display());
    let mut events = SummaryWriter::new(out.join("logs"))?;
    for (step, &loss) in losses.iter().enumerate() {
        events.scalar("loss", step as i64, loss)?;
    }
    events.scalar("held_out/accuracy", steps as i64, accuracy)?;
    events.flush()?;
    println!("TensorBoard scalars: {}", events.path().display());
    let checkpoint = Saver::new(&graph).save(out.join("model.ckpt"), Some(steps as u64))?;
    let report = model::classify::MANIFEST.check_checkpoint(&checkpoint)?;
    println!(
        "checkpoint: {} ({} variables, compatible with the model: {})",
        checkpoint.display(),
        report.matched,
        report.is_compatible()
    );
    Ok(())
}
