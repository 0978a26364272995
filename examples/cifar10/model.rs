//! TensorFlow's `models/image/cifar10/cifar10.py` (`inference()` and `loss()`), ported with the
//! same scopes, names and initializers, so its TF checkpoints restore here by name:
//! `conv1/weights`, `conv1/biases`, `conv2/..`, `local3/..`, `local4/..`, `softmax_linear/..`.
//! Shared by `examples/cifar10/main.rs` and `tests/it/cifar10.rs`.

use varscope::ops::{Axes, Padding};
use varscope::prelude::*;
use varscope::{model, scope, var};

/// Classes (CIFAR-10's ten).
pub const NUM_CLASSES: usize = 10;
/// cifar10.py's input crop: 24 x 24 RGB.
pub const IMAGE_SIZE: usize = 24;
/// cifar10.py's `tf.nn.lrn(.., 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)`.
const LRN: (usize, f64, f64, f64) = (4, 1.0, 0.001 / 9.0, 0.75);

/// `_variable_with_weight_decay`'s weight decay: `wd * l2_loss(var)`, named `weight_loss`, into
/// the `losses` collection (a model without variables of its own).
#[model]
fn weight_decay(cx: &mut Scope, var: &Tensor, wd: f64) -> Result<()> {
    let l2 = cx.l2_loss(var)?;
    let rate = cx.named("weight_loss/y").constant(Value::filled(var.dtype(), &[], wd)?)?;
    let decay = cx.named("weight_loss").mul(&l2, &rate)?;
    cx.graph().add_to_collection("losses", &decay);
    Ok(())
}

/// `conv -> bias_add -> relu` in a scope whose name the relu takes (`conv1/conv1`).
#[model]
fn conv_layer(cx: &mut Scope, x: &Tensor, name: &str, depth: usize, bias: f64) -> Result<Tensor> {
    let inputs = x.shape()[3];
    let kernel = var!(cx, "weights", [5, 5, inputs, depth], init = Init::truncated_normal(0.0, 5e-2))?;
    let conv = cx.conv2d(x, &kernel, [1, 1], Padding::Same)?;
    let biases = var!(cx, "biases", [depth], init = Init::constant(bias))?;
    let pre_activation = cx.bias_add(&conv, &biases)?;
    cx.named(name).relu(&pre_activation)
}

/// `relu(x · weights + biases)` with weight decay 0.004 (`local3`, `local4`).
#[model]
fn local_layer(cx: &mut Scope, x: &Tensor, name: &str, units: usize) -> Result<Tensor> {
    let inputs = x.shape()[1];
    let weights = var!(cx, "weights", [inputs, units], init = Init::truncated_normal(0.0, 0.04))?;
    weight_decay(cx, &weights, 0.004)?;
    let biases = var!(cx, "biases", [units], init = Init::constant(0.1))?;
    let y = cx.add(&cx.matmul(x, &weights)?, &biases)?;
    cx.named(name).relu(&y)
}

/// The linear layer before the softmax, without weight decay.
#[model]
fn softmax_linear(cx: &mut Scope, x: &Tensor) -> Result<Tensor> {
    let weights = var!(cx, "weights", [192, NUM_CLASSES], init = Init::truncated_normal(0.0, 1.0 / 192.0))?;
    let biases = var!(cx, "biases", [NUM_CLASSES], init = Init::constant(0.0))?;
    let product = cx.matmul(x, &weights)?; // before `named`, which names the next op built
    cx.named("softmax_linear").add(&product, &biases)
}

/// cifar10.py's `inference(images)`: the logits of a batch of 24 x 24 x 3 images.
#[model]
pub fn inference(cx: &mut Scope, images: &Tensor) -> Result<Tensor> {
    let conv1 = scope!(cx, "conv1" { conv_layer(cx, images, "conv1", 64, 0.0) })?;
    let pool1 = cx.named("pool1").max_pool(&conv1, [3, 3], [2, 2], Padding::Same)?;
    let (r, bias, alpha, beta) = LRN;
    let norm1 = cx.named("norm1").lrn(&pool1, r, bias, alpha, beta)?;
    let conv2 = scope!(cx, "conv2" { conv_layer(cx, &norm1, "conv2", 64, 0.1) })?;
    let norm2 = cx.named("norm2").lrn(&conv2, r, bias, alpha, beta)?;
    let pool2 = cx.named("pool2").max_pool(&norm2, [3, 3], [2, 2], Padding::Same)?;
    let batch = images.shape()[0] as isize;
    let local3 = scope!(cx, "local3" {
        let reshape = cx.reshape(&pool2, &[batch, -1])?;
        local_layer(cx, &reshape, "local3", 384)
    })?;
    let local4 = scope!(cx, "local4" { local_layer(cx, &local3, "local4", 192) })?;
    scope!(cx, "softmax_linear" { softmax_linear(cx, &local4) })
}

/// cifar10.py's `loss(logits, labels)`: the mean cross entropy plus every weight decay, as
/// `add_n` of the `losses` collection, named `total_loss`.
pub fn loss(cx: &mut Scope, logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let cross_entropy =
        cx.named("cross_entropy_per_example").sparse_softmax_cross_entropy_with_logits(labels, logits)?;
    let mean = cx.named("cross_entropy").reduce_mean(&cross_entropy, Axes::All, false)?;
    cx.graph().add_to_collection("losses", &mean);
    let losses = cx.graph().get_collection("losses");
    cx.named("total_loss").add_n(&losses.iter().collect::<Vec<_>>())
}
