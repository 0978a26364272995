//! A sequence-to-sequence model on the cells of `varscope::layers`, named as
//! TF's `embedding_rnn_seq2seq` names it: one embedding shared by an LSTM
//! encoder and an LSTM decoder that starts from the encoder's final state,
//! then an output projection. It learns to reverse sequences of digits
//! (teacher forcing), built once and trained by gradient descent in a
//! `Session`.
//!
//! ```text
//! cargo run --release --example seq2seq [STEPS]
//! ```

use varscope::layers::{BasicLstmCell, Dense, dense, dynamic_rnn, embedding_lookup};
use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::Axes;
use varscope::{DType, Graph, Result, Session, Tensor, Value, VarScope};

const VOCAB: usize = 8; // 0 is GO, the digits are 1..8
const LEN: usize = 5;
const BATCH: usize = 32;
const UNITS: usize = 32;

/// A batch: encoder ids, decoder ids (GO, then the reversed sequence
/// shifted right) and one-hot targets (the reversed sequence).
fn batch(seed: &mut u64) -> (Value, Value, Value, Vec<usize>) {
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
    let onehot = ArrayD::from_shape_fn(IxDyn(&[BATCH * LEN, VOCAB]), |ix| f32::from(target[ix[0]] == ix[1]));
    let ids = |v: Vec<i32>| Value::from(ArrayD::from_shape_vec(IxDyn(&[BATCH, LEN]), v).expect("batch shape"));
    (ids(enc), ids(dec), Value::from(onehot), target)
}

fn main() -> Result<()> {
    let steps: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(600);
    let graph = Graph::with_seed(1);
    let mut cx = graph.scope();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let (e0, d0, t0, _) = batch(&mut seed);
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
    let xent = cx.softmax_cross_entropy_with_logits(&targets, &flat)?;
    let loss = cx.named("loss").reduce_mean(&xent, Axes::All, false)?;
    let vars = graph.trainable_variables();
    let wrt: Vec<&Tensor> = vars.iter().map(|v| v.tensor()).collect();
    let grads = cx.gradients(&loss, &wrt)?;
    let rate = cx.constant(0.5f32)?;
    let mut updates = Vec::new();
    for (v, g) in vars.iter().zip(&grads) {
        let step = cx.mul(g, &rate)?;
        updates.push(cx.assign_sub(v.tensor(), &step)?);
    }
    let train = cx.group(&updates.iter().collect::<Vec<_>>())?;

    println!("variables:");
    for v in &vars {
        println!("  {} {:?}", v.name(), v.shape());
    }
    let sess = Session::new(&graph);
    for step in 0..=steps {
        let (e, d, t, target) = batch(&mut seed);
        let feeds = [(&enc_ids, e), (&dec_ids, d), (&targets, t)];
        let out = sess.run(&[&loss, &flat, &train], &feeds)?;
        if step % 100 == 0 {
            let scores = out[1].to_f64_vec();
            let right = target
                .iter()
                .enumerate()
                .filter(|&(i, &want)| {
                    let row = &scores[i * VOCAB..(i + 1) * VOCAB];
                    let best = (0..VOCAB).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0);
                    best == want
                })
                .count();
            let acc = right as f64 / target.len() as f64;
            println!("step {step:>4}: loss {:.4}, accuracy {:.1} %", out[0].to_f64_vec()[0], 100.0 * acc);
        }
    }
    Ok(())
}
