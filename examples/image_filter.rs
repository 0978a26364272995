//! The seed tutorial of TensorFlow's variable scopes, end to end:
//! `conv_relu` creates `weights` and `biases`, `my_image_filter` applies it in
//! scopes `conv1` and `conv2`, and `image_filters` applies the filter to two
//! images with `reuse_variables()` in between, so both results share the same
//! four variables.
//!
//! Run with `cargo run --release --example image_filter`.

use std::time::Instant;

use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::{Axes, Padding};
use varscope::{Graph, Init, Result, Scope, Tensor, VarSpec};

/// `relu(conv2d(input, weights) + biases)` with this scope's `weights` and
/// `biases` (created, or reused when the scope reuses).
fn conv_relu(cx: &mut Scope, input: &Tensor, kernel_shape: [usize; 4], bias_shape: [usize; 1]) -> Result<Tensor> {
    let weights = cx.get_variable("weights", VarSpec::new().shape(kernel_shape).init(Init::random_normal(0.0, 1.0)))?;
    let biases = cx.get_variable("biases", VarSpec::new().shape(bias_shape).init(Init::constant(0.0)))?;
    let conv = cx.conv2d(input, &weights, [1, 1], Padding::Same)?;
    cx.relu(&cx.add(&conv, &biases)?)
}

/// Two conv-relu layers in variable scopes `conv1` and `conv2`.
fn my_image_filter(cx: &mut Scope, input_images: &Tensor) -> Result<Tensor> {
    let relu1 = conv_relu(&mut *cx.variable_scope("conv1")?, input_images, [5, 5, 32, 32], [32])?;
    conv_relu(&mut *cx.variable_scope("conv2")?, &relu1, [5, 5, 32, 32], [32])
}

/// A deterministic 8x32x32x32 batch of images.
fn image(cx: &mut Scope, phase: f32) -> Result<Tensor> {
    let a = ArrayD::from_shape_fn(IxDyn(&[8, 32, 32, 32]), |ix| {
        ((ix[0] * 7 + ix[1] * 3 + ix[2] * 5 + ix[3]) as f32 * 0.1 + phase).sin()
    });
    cx.constant(a)
}

fn mean_ms(runs: &[f64]) -> f64 {
    runs.iter().sum::<f64>() / runs.len() as f64
}

fn main() -> Result<()> {
    let graph = Graph::with_seed(42);
    let mut cx = graph.scope();
    let image1 = image(&mut cx, 0.0)?;
    let image2 = image(&mut cx, 1.0)?;

    let (result1, result2) = {
        let mut scope = cx.variable_scope("image_filters")?;
        let result1 = my_image_filter(&mut scope, &image1)?;
        scope.reuse_variables();
        let result2 = my_image_filter(&mut scope, &image2)?;
        (result1, result2)
    };

    println!("variables ({}):", graph.global_variables().len());
    for v in graph.global_variables() {
        println!("  {:<32} {:?}", v.name(), v.shape());
    }
    println!("ops:");
    for n in graph.nodes().iter().filter(|n| n.op_type != "VariableV2") {
        println!("  {:<36} {:<8} <- {}", n.name, n.op_type, n.inputs.join(", "));
    }
    println!("results: {} {:?}, {} {:?}", result1.name(), result1.shape(), result2.name(), result2.shape());

    // Time the forward pass (one `my_image_filter` on one 8x32x32x32 batch,
    // reusing the variables) and forward + backward, clearing the record
    // between runs as a training loop would.
    const RUNS: usize = 5;
    let (mut fwd, mut fwd_bwd) = (Vec::new(), Vec::new());
    for run in 0..=RUNS {
        graph.clear_ops();
        let x = image(&mut cx, run as f32)?;
        let start = Instant::now();
        let y = {
            let mut scope =
                cx.variable_scope(varscope::VarScope::new("image_filters").reuse(varscope::Reuse::ReuseOnly))?;
            my_image_filter(&mut scope, &x)?
        };
        let forward = start.elapsed().as_secs_f64() * 1e3;
        let loss = cx.reduce_mean(&y, Axes::All, false)?;
        let vars = graph.trainable_variables();
        let wrt: Vec<&Tensor> = vars.iter().map(|v| v.tensor()).collect();
        let grads = graph.gradients(&loss, &wrt)?;
        let total = start.elapsed().as_secs_f64() * 1e3;
        assert_eq!(grads.len(), 4);
        // The first run warms caches and allocators up.
        if run > 0 {
            fwd.push(forward);
            fwd_bwd.push(total);
        }
    }
    println!(
        "forward (my_image_filter on 8x32x32x32, two 5x5x32x32 SAME conv + bias + relu): {:.2} ms mean of {RUNS} runs",
        mean_ms(&fwd)
    );
    println!(
        "forward + backward (gradients of the mean w.r.t. the 4 variables): {:.2} ms mean of {RUNS} runs",
        mean_ms(&fwd_bwd)
    );
    Ok(())
}
