//! A sequence-to-sequence model on the cells of `varscope::layers`, named as
//! TF's `embedding_rnn_seq2seq` names it: one embedding shared by an LSTM
//! encoder and an LSTM decoder that starts from the encoder's final state,
//! then an output projection. It learns to reverse sequences of digits
//! (teacher forcing), built once and trained with `GradientDescentOptimizer`
//! in a `Session`; its accuracy is computed in the graph (`argmax`, `equal`).
//!
//! ```sh
//! cargo run --release --example seq2seq -- [--steps N] [--out DIR]
//! ```
//!
//! Shows a progress bar, then writes to `DIR` (default `target/examples/seq2seq`)
//! the loss curve (`loss.png`) and a TF checkpoint.

#[path = "common/args.rs"]
mod args;
#[path = "common/plot.rs"]
mod plot;

use indicatif::{ProgressBar, ProgressStyle};
use varscope::checkpoint::Saver;
use varscope::layers::{BasicLstmCell, Dense, dense, dynamic_rnn, embedding_lookup};
use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::Axes;
use varscope::train::{GradientDescentOptimizer, Minimize};
use varscope::{DType, Graph, Session, Value, VarScope};

type BoxResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const VOCAB: usize = 8; // 0 is GO, the digits are 1..8
const LEN: usize = 5;
const BATCH: usize = 32;
const UNITS: usize = 32;

/// A batch: encoder ids, decoder ids (GO, then the reversed sequence
/// shifted right) and the target ids (the reversed sequence), all `[BATCH, LEN]` int32.
fn batch(seed: &mut u64) -> (Value, Value, Value) {
    let mut next = || {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        1 + (*seed % (VOCAB as u64 - 1)) as usize
    };
    let (mut enc, mut dec, mut target) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..BATCH {
        let seq: Vec<usize> = (0..LEN).map(|_| next()).collect();
        let rev: Vec<usize> = seq.iter().rev().copied().collect();
        enc.extend(seq.iter().map(|&d| d as i32));
        dec.push(0);
        dec.extend(rev[..LEN - 1].iter().map(|&d| d as i32));
        target.extend(rev);
    }
    let target = target.into_iter().map(|d| d as i32).collect();
    let ids = |v: Vec<i32>| Value::from(ArrayD::from_shape_vec(IxDyn(&[BATCH, LEN]), v).expect("batch shape"));
    (ids(enc), ids(dec), ids(target))
}

fn main() -> BoxResult<()> {
    let (steps, out) = args::steps_and_out(600, "target/examples/seq2seq")?;
    let graph = Graph::with_seed(1);
    let mut cx = graph.scope();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let (e0, d0, t0) = batch(&mut seed);
    let enc_ids = cx.placeholder("enc_ids", e0)?;
    let dec_ids = cx.placeholder("dec_ids", d0)?;
    let targets = cx.placeholder("targets", t0)?;

    cx.push_variable_scope("embedding_rnn_seq2seq")?;
    let embedding = cx.get_variable("embedding", [VOCAB, 8])?;
    cx.push_variable_scope("encoder")?;
    let enc_in = embedding_lookup(&mut cx, embedding.tensor(), &enc_ids, None)?;
    let encoder = dynamic_rnn(&mut cx, &BasicLstmCell::new(UNITS), &enc_in, None, DType::F32, None, false, None)?;
    cx.pop_scope()?;
    cx.push_variable_scope(VarScope::new("decoder"))?;
    let dec_in = embedding_lookup(&mut cx, embedding.tensor(), &dec_ids, None)?;
    let cell = BasicLstmCell::new(UNITS);
    let decoder = dynamic_rnn(&mut cx, &cell, &dec_in, Some(&encoder.state), DType::F32, None, false, None)?;
    let logits = dense(&mut cx, &decoder.outputs[0], &Dense::new(VOCAB).name("output_projection"))?;
    cx.pop_scope()?;
    cx.pop_scope()?;

    let flat = cx.reshape(&logits, &[-1, VOCAB as isize])?;
    let labels = cx.reshape(&targets, &[-1])?;
    let onehot = cx.one_hot(&labels, VOCAB, 1.0, 0.0, -1, DType::F32)?;
    let xent = cx.softmax_cross_entropy_with_logits(&onehot, &flat)?;
    let loss = cx.named("loss").reduce_mean(&xent, Axes::All, false)?;
    let predicted = cx.argmax(&flat, -1, DType::I32)?;
    let hits = cx.cast(&cx.equal(&predicted, &labels)?, DType::F32)?;
    let accuracy = cx.named("accuracy").reduce_mean(&hits, Axes::All, false)?;
    let train = GradientDescentOptimizer::new(0.5).minimize(&mut cx, &loss, Minimize::new())?;

    println!("variables:");
    for v in graph.trainable_variables() {
        println!("  {:<58} {:?}", v.name(), v.shape());
    }
    let sess = Session::new(&graph);
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed_precise}, eta {eta}]")?);
    let mut losses = Vec::with_capacity(steps);
    let mut last_accuracy = 0.0;
    for _ in 0..steps {
        let (e, d, t) = batch(&mut seed);
        let feeds = [(&enc_ids, e), (&dec_ids, d), (&targets, t)];
        let out = sess.run(&[&loss, &accuracy, &train], &feeds)?;
        let (l, a) = (out[0].to_f64_vec()[0], out[1].to_f64_vec()[0]);
        losses.push(l);
        last_accuracy = a;
        bar.set_message(format!("loss {l:.3}, accuracy {:.0} %", 100.0 * a));
        bar.inc(1);
    }
    bar.finish();
    let (e, d, t) = batch(&mut seed);
    let held_out = sess.run(&[&accuracy], &[(&enc_ids, e), (&dec_ids, d), (&targets, t)])?[0].to_f64_vec()[0];
    println!("last training batch: {:.1} % of digits right", 100.0 * last_accuracy);
    println!("a fresh batch: {:.1} % of digits right (chance: {:.1} %)", 100.0 * held_out, 100.0 / 7.0);
    std::fs::create_dir_all(&out)?;
    let png = out.join("loss.png");
    plot::loss_curve(&png, "seq2seq reversing digit sequences: cross entropy", &losses, 25)?;
    println!("loss curve: {}", png.display());
    let checkpoint = Saver::new(&graph).save(out.join("model.ckpt"), Some(steps as u64))?;
    println!("checkpoint: {}", checkpoint.display());
    Ok(())
}
