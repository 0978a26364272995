// Checks: the README's tutorial without `cx.reuse_variables()`: the second call of the model
// creates `image_filters/conv1/weights` again, a compile error on that call (`main` is
// `#[checked]`, as in the README; without the attribute the `scope!` checks its own body).
use varscope::prelude::*;
use varscope::{checked, model, scope, var};

#[model]
fn conv_relu(cx: &mut Scope, input: &Tensor, kernel: [usize; 2], bias: [usize; 1]) -> Result<Tensor> {
    let weights = var!(cx, "weights", kernel, init = Init::RandomNormal { mean: 0.0, stddev: 1.0 })?;
    let biases = var!(cx, "biases", bias, init = Init::constant(0.0))?;
    let y = cx.matmul(input, &weights)?;
    let y = cx.add(&y, &biases)?;
    cx.relu(&y)
}

#[model]
fn my_image_filter(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let relu1 = scope!(cx, "conv1" { conv_relu(cx, input, [4, 4], [4]) })?;
    scope!(cx, "conv2" { conv_relu(cx, &relu1, [4, 4], [4]) })
}

#[checked]
fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let cx = &mut cx;
    let image1 = cx.constant(Value::filled(DType::F32, &[2, 4], 1.0)?)?;
    let image2 = cx.constant(Value::filled(DType::F32, &[2, 4], 0.5)?)?;
    scope!(cx, "image_filters" {
        let _r1 = my_image_filter(cx, &image1)?;
        let _r2 = my_image_filter(cx, &image2)?;
        Ok(())
    })
}
