// Checks: the tutorial: `cx.reuse_variables()` part-way through a scope switches the rest of
// the scope to reuse, so the second call shares the first call's variables.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn conv_relu(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let weights = var!(cx, "weights", [3, 3], init = Init::RandomNormal { mean: 0.0, stddev: 1.0 })?;
    let biases = var!(cx, "biases", [3], init = Init::constant(0.0))?;
    let y = cx.matmul(input, &weights)?;
    let y = cx.add(&y, &biases)?;
    cx.relu(&y)
}

#[model]
fn image_filter(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let relu1 = scope!(cx, "conv1" { conv_relu(cx, input) })?;
    scope!(cx, "conv2" { conv_relu(cx, &relu1) })
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let cx = &mut cx;
    let image1 = cx.constant(Value::filled(DType::F32, &[2, 3], 1.0)?)?;
    let image2 = cx.constant(Value::filled(DType::F32, &[2, 3], 2.0)?)?;
    scope!(cx, "image_filters" {
        image_filter(cx, &image1)?;
        cx.reuse_variables();
        image_filter(cx, &image2)?;
        Ok::<(), Error>(())
    })?;
    assert_eq!(graph.global_variables().len(), 4);
    Ok(())
}
