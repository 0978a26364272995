//! Loading the digits as sequences, and training the GRU classifier from its built graph.
//! Shared by `examples/sequence/main.rs` and `tests/it/sequence.rs`.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use varscope::ndarray::{Array3, ArrayD, Axis, IxDyn};
use varscope::ops::Axes;
use varscope::train::{GradientDescentOptimizer, Minimize};
use varscope::{Graph, Session, Tensor, Value};

use super::model;

/// Errors of the example.
pub type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Digits per batch.
pub const BATCH: usize = 64;
/// The gradient-descent step size.
pub const LEARNING_RATE: f32 = 0.5;

/// The shipped digits as `[n, 8 rows, 8 pixels]` in 0..1, and their labels.
pub fn load() -> BoxResult<(Array3<f32>, Vec<i32>)> {
    let d = super::digits::shipped()?;
    let labels = d.labels.iter().map(|&l| l as i32).collect();
    Ok((d.images.into_shape_with_order((d.labels.len(), model::STEPS, model::INPUTS))?, labels))
}

/// The graph, built once on a first batch: placeholders, logits, the mean cross entropy and
/// TF's gradient-descent train op.
pub struct Trainer {
    session: Session,
    digits: Tensor,
    labels: Tensor,
    logits: Tensor,
    loss: Tensor,
    train: Tensor,
}

impl Trainer {
    /// Builds the model on `digits`/`labels` (building computes the first batch's loss).
    pub fn new(graph: &Graph, digits: ArrayD<f32>, labels: ArrayD<i32>, rate: f32) -> varscope::Result<Trainer> {
        let mut cx = graph.scope();
        let digits = cx.placeholder("digits", digits)?;
        let labels = cx.placeholder("labels", labels)?;
        let logits = model::classify(&mut cx, &digits)?;
        let xent = cx.sparse_softmax_cross_entropy_with_logits(&labels, &logits)?;
        let loss = cx.named("loss").reduce_mean(&xent, Axes::All, false)?;
        let train = GradientDescentOptimizer::new(f64::from(rate)).minimize(&mut cx, &loss, Minimize::new())?;
        Ok(Trainer { session: Session::new(graph), digits, labels, logits, loss, train })
    }

    /// The loss the build computed (the first step's).
    pub fn first_loss(&self) -> f64 {
        self.loss.value().to_f64_vec()[0]
    }

    /// One step; the batch's loss before it.
    pub fn step(&self, digits: ArrayD<f32>, labels: ArrayD<i32>) -> varscope::Result<f64> {
        let feeds = [(&self.digits, Value::from(digits)), (&self.labels, Value::from(labels))];
        Ok(self.session.run(&[&self.loss, &self.train], &feeds)?[0].to_f64_vec()[0])
    }

    /// The predicted digit of each row of a batch.
    pub fn predict(&self, digits: ArrayD<f32>) -> varscope::Result<Vec<usize>> {
        let out = self.session.run(&[&self.logits], &[(&self.digits, Value::from(digits))])?;
        let v = out[0].to_f64_vec();
        Ok(v.chunks(10).map(|r| (0..10).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap_or(0)).collect())
    }
}

/// A batch by row indices.
pub fn batch(digits: &Array3<f32>, labels: &[i32], picks: &[usize]) -> (ArrayD<f32>, ArrayD<i32>) {
    let x = digits.select(Axis(0), picks).into_dyn();
    let y =
        ArrayD::from_shape_vec(IxDyn(&[picks.len()]), picks.iter().map(|&i| labels[i]).collect()).unwrap_or_default();
    (x, y)
}

/// Trains for `steps` batches on the first 1,397 digits; returns the losses and the accuracy
/// on the other 400.
pub fn train(graph: &Graph, steps: usize, mut progress: impl FnMut(usize, f64)) -> BoxResult<(Vec<f64>, f64)> {
    let (digits, labels) = load()?;
    let n_train = 1_397.min(labels.len());
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut pick = || (0..BATCH).map(|_| rng.random_range(0..n_train)).collect::<Vec<_>>();
    let (x, y) = batch(&digits, &labels, &pick());
    let trainer = Trainer::new(graph, x, y, LEARNING_RATE)?;
    let mut losses = vec![trainer.first_loss()];
    progress(0, losses[0]);
    for step in 1..steps {
        let (x, y) = batch(&digits, &labels, &pick());
        losses.push(trainer.step(x, y)?);
        progress(step, losses[step]);
    }
    let held_out: Vec<usize> = (n_train..labels.len()).collect();
    let mut correct = 0;
    for chunk in held_out.chunks_exact(BATCH) {
        let (x, _) = batch(&digits, &labels, chunk);
        let predicted = trainer.predict(x)?;
        correct += predicted.iter().zip(chunk).filter(|(p, i)| **p == labels[**i] as usize).count();
    }
    Ok((losses, correct as f64 / (held_out.len() / BATCH * BATCH).max(1) as f64))
}
