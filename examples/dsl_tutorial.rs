//! The DSL tutorial of the README: two convolution-like layers in named scopes, applied to two
//! images with shared variables, and the model's manifest printed before anything runs.
//!
//! Run with `cargo run --example dsl_tutorial`.

use varscope::prelude::*;
use varscope::{checked, model, scope, var};

/// One layer: weights and biases, then `relu(input · weights + biases)`.
#[model]
fn conv_relu(cx: &mut Scope, input: &Tensor, kernel: [usize; 2], bias: [usize; 1]) -> Result<Tensor> {
    let weights = var!(cx, "weights", kernel, init = Init::RandomNormal { mean: 0.0, stddev: 1.0 })?;
    let biases = var!(cx, "biases", bias, init = Init::constant(0.0))?;
    let y = cx.matmul(input, &weights)?;
    let y = cx.add(&y, &biases)?;
    cx.relu(&y)
}

/// Two layers, each in its own scope.
#[model]
fn my_image_filter(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let relu1 = scope!(cx, "conv1" { conv_relu(cx, input, [4, 4], [4]) })?;
    scope!(cx, "conv2" { conv_relu(cx, &relu1, [4, 4], [4]) })
}

#[checked] // checks `main` like a model body
fn main() -> Result<()> {
    // The manifest exists before any tensor does.
    println!("{}", my_image_filter::MANIFEST);

    let graph = Graph::with_seed(42);
    let mut cx = graph.scope();
    let cx = &mut cx;
    let image1 = cx.constant(Value::filled(DType::F32, &[2, 4], 1.0)?)?;
    let image2 = cx.constant(Value::filled(DType::F32, &[2, 4], 0.5)?)?;
    scope!(cx, "image_filters" {
        let r1 = my_image_filter(cx, &image1)?;
        cx.reuse_variables(); // without this line: a compile error on the next call
        let r2 = my_image_filter(cx, &image2)?;
        println!("outputs: {} {}", r1.name(), r2.name());
        Ok::<(), Error>(())
    })?;
    for v in graph.global_variables() {
        println!("variable {} {:?}", v.name(), v.shape());
    }
    Ok(())
}
