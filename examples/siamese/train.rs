//! The Siamese network of TensorFlow's weight-sharing tutorial, on the UCI handwritten digits:
//! two copies of one tower embed two images with the *same* variables (the second call reuses
//! them), and a contrastive loss pulls pairs of one digit together and pushes other pairs at
//! least `MARGIN` apart. Shared by `examples/siamese/main.rs` and the test that runs a short
//! version (`tests/it/siamese.rs`).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use varscope::ndarray::{Array1, Array2};
use varscope::ops::Axes;
use varscope::prelude::*;
use varscope::train::{GradientDescentOptimizer, Minimize};
use varscope::{model, scope, var};

pub use super::digits::{Digits, PIXELS};

/// Pairs within `MARGIN` of each other count as "same digit".
pub const MARGIN: f32 = 1.0;

/// `x · weights + biases` with this scope's variables.
#[model]
fn dense(cx: &mut Scope, x: &Tensor, inputs: usize, units: usize) -> Result<Tensor> {
    let weights = var!(cx, "weights", [inputs, units], init = Init::GlorotUniform)?;
    let biases = var!(cx, "biases", [units], init = Init::Zeros)?;
    let y = cx.matmul(x, &weights)?;
    cx.add(&y, &biases)
}

/// One tower: 64 pixels -> 64 hidden units (relu) -> a 16-dimensional embedding.
#[model]
pub fn tower(cx: &mut Scope, images: &Tensor) -> Result<Tensor> {
    let hidden = scope!(cx, "hidden" { dense(cx, images, PIXELS, 64) })?;
    let hidden = cx.relu(&hidden)?;
    scope!(cx, "embedding" { dense(cx, &hidden, 64, 16) })
}

/// Both towers in scope `siamese`; the second reuses the first one's variables, as
/// `scope.reuse_variables()` does in the TF tutorial. `reuse` is `Reuse::ReuseOnly` after the
/// first step, when the variables exist.
#[model]
pub fn siamese(cx: &mut Scope, left: &Tensor, right: &Tensor, reuse: Reuse) -> Result<(Tensor, Tensor)> {
    scope!(cx, "siamese", reuse = reuse {
        let a = tower(cx, left)?;
        cx.reuse_variables();
        let b = tower(cx, right)?;
        Ok((a, b))
    })
}

/// The contrastive loss: `mean(same * d² + (1 - same) * relu(MARGIN - d)²)`, `d` the distance.
fn contrastive_loss(cx: &mut Scope, a: &Tensor, b: &Tensor, same: &Tensor) -> Result<Tensor> {
    let diff = cx.sub(a, b)?;
    let sq = cx.mul(&diff, &diff)?;
    let d2 = cx.reduce_sum(&sq, Axes::List(vec![1]), false)?;
    let eps = cx.constant(1e-6f32)?;
    let d2e = cx.add(&d2, &eps)?;
    let d = cx.sqrt(&d2e)?;
    let margin = cx.constant(MARGIN)?;
    let gap = cx.sub(&margin, &d)?;
    let gap = cx.relu(&gap)?;
    let push = cx.mul(&gap, &gap)?;
    let one = cx.constant(1.0f32)?;
    let other = cx.sub(&one, same)?;
    let pull = cx.mul(same, &d2)?;
    let push = cx.mul(&other, &push)?;
    let total = cx.add(&pull, &push)?;
    cx.reduce_mean(&total, Axes::All, false)
}

/// A batch of `batch` pairs, half of one digit and half of two different digits.
fn pairs(data: &Digits, batch: usize, rng: &mut ChaCha8Rng) -> Batch {
    let n = data.labels.len();
    let (mut left, mut right) = (Array2::zeros((batch, PIXELS)), Array2::zeros((batch, PIXELS)));
    let mut same = Array1::zeros(batch);
    for k in 0..batch {
        let i = rng.random_range(0..n);
        let want_same = k % 2 == 0;
        let j = loop {
            let j = rng.random_range(0..n);
            if j != i && (data.labels[j] == data.labels[i]) == want_same {
                break j;
            }
        };
        left.row_mut(k).assign(&data.images.row(i));
        right.row_mut(k).assign(&data.images.row(j));
        same[k] = if want_same { 1.0 } else { 0.0 };
    }
    (left, right, same)
}

/// How training went.
pub struct Report {
    /// The loss of each step.
    pub losses: Vec<f64>,
    /// Held-out accuracy of nearest-class-centroid classification in the embedding.
    pub accuracy: f64,
}

/// The training graph, built once: placeholders for a batch of pairs, the loss, and the op
/// that takes one gradient-descent step; a [`Session`] runs it again for every later batch.
pub struct Trainer {
    session: Session,
    left: Tensor,
    right: Tensor,
    same: Tensor,
    loss: Tensor,
    step: Tensor,
}

/// A batch: left images, right images, and 1 where both show one digit.
pub type Batch = (Array2<f32>, Array2<f32>, Array1<f32>);

impl Trainer {
    /// Builds the towers (creating their variables), the contrastive loss and TF's
    /// `GradientDescentOptimizer(learning_rate).minimize(loss)` train op, on the first batch;
    /// returns the first batch's loss (building computes it, and leaves the variables as they
    /// were).
    pub fn new(graph: &Graph, first: Batch, learning_rate: f32) -> Result<(Trainer, f64)> {
        let mut cx = graph.scope();
        let left = cx.placeholder("left", first.0.into_dyn())?;
        let right = cx.placeholder("right", first.1.into_dyn())?;
        let same = cx.placeholder("same", first.2.into_dyn())?;
        let (a, b) = siamese(&mut cx, &left, &right, Reuse::CreateOnly)?;
        let loss = contrastive_loss(&mut cx, &a, &b, &same)?;
        let step = GradientDescentOptimizer::new(f64::from(learning_rate)).minimize(&mut cx, &loss, Minimize::new())?;
        let first_loss = loss.value().to_f64_vec()[0];
        Ok((Trainer { session: Session::new(graph), left, right, same, loss, step }, first_loss))
    }

    /// One step on a batch of pairs; returns the batch's loss before the step.
    pub fn step(&self, (left, right, same): Batch) -> Result<f64> {
        let feeds = [
            (&self.left, Value::from(left.into_dyn())),
            (&self.right, Value::from(right.into_dyn())),
            (&self.same, Value::from(same.into_dyn())),
        ];
        let out = self.session.run(&[&self.loss, &self.step], &feeds)?;
        Ok(out[0].to_f64_vec()[0])
    }
}

/// Trains for `steps` steps of `batch` pairs by gradient descent, calling `progress` after each
/// step with the step's loss, then classifies the held-out digits by the nearest centroid of the
/// training digits' embeddings. The graph is built once (on the first batch); each later step
/// is one session run.
pub fn train(
    graph: &Graph,
    train_set: &Digits,
    held_out: &Digits,
    steps: usize,
    batch: usize,
    learning_rate: f32,
    mut progress: impl FnMut(usize, f64),
) -> BoxResult<Report> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut losses = Vec::with_capacity(steps);
    let mut trainer = None;
    for step in 0..steps {
        let pairs = pairs(train_set, batch, &mut rng);
        let value = match &trainer {
            None => {
                let (t, first) = Trainer::new(graph, pairs, learning_rate)?;
                trainer = Some(t);
                first
            }
            Some(t) => t.step(pairs)?,
        };
        losses.push(value);
        progress(step, value);
    }
    let mut cx = graph.scope();
    let accuracy = accuracy(&mut cx, train_set, held_out)?;
    Ok(Report { losses, accuracy })
}

/// Errors of the example: the runtime's, and the shape of what it computed.
pub type BoxResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The embeddings of `data` through the trained tower, one row per image (built eagerly,
/// on the current weights).
pub fn embed(cx: &mut Scope, data: &Digits) -> BoxResult<Array2<f32>> {
    let x = cx.constant(data.images.clone().into_dyn())?;
    let e = scope!(cx, "siamese", reuse { tower(cx, &x) })?;
    let v = e.value();
    let a = v.as_f32().ok_or("the embedding is not float32")?;
    Ok(a.to_owned().into_dimensionality()?)
}

fn accuracy(cx: &mut Scope, train_set: &Digits, held_out: &Digits) -> BoxResult<f64> {
    let train_e = embed(cx, train_set)?;
    let test_e = embed(cx, held_out)?;
    let dim = train_e.ncols();
    let mut centroids = Array2::<f32>::zeros((10, dim));
    let mut counts = [0usize; 10];
    for (row, &label) in train_e.rows().into_iter().zip(&train_set.labels) {
        let mut c = centroids.row_mut(label);
        c += &row;
        counts[label] += 1;
    }
    for (mut c, &n) in centroids.rows_mut().into_iter().zip(&counts) {
        c /= n.max(1) as f32;
    }
    let correct = test_e
        .rows()
        .into_iter()
        .zip(&held_out.labels)
        .filter(|(row, label)| {
            let nearest = (0..10)
                .min_by(|&p, &q| {
                    let d = |k: usize| (&centroids.row(k) - row).mapv(|x| x * x).sum();
                    d(p).total_cmp(&d(q))
                })
                .unwrap_or(0);
            nearest == **label
        })
        .count();
    Ok(correct as f64 / held_out.labels.len().max(1) as f64)
}
