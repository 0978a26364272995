// Checks: the README's tutorial without `cx.reuse_variables()`: the second call of a model in
// the same non-reuse scope creates `conv1/weights` again, found through the callee's manifest.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn conv_relu(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let weights = var!(cx, "weights", [5, 5], init = Init::RandomNormal { mean: 0.0, stddev: 1.0 })?;
    let y = cx.matmul(input, &weights)?;
    cx.relu(&y)
}

#[model]
fn image_filter(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    scope!(cx, "conv1" { conv_relu(cx, input) })
}

#[model]
fn two_images(cx: &mut Scope, a: &Tensor, b: &Tensor) -> Result<()> {
    image_filter(cx, a)?;
    image_filter(cx, b)?;
    Ok(())
}

fn main() {}
