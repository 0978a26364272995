//! The seed model in TensorBoard: `image_filters` with `conv1` and `conv2`, applied to two
//! images with `reuse_variables()`, its graph and a few training steps' scalars written as an
//! event file, plus the graph's and the model manifest's DOT.
//!
//! ```sh
//! cargo run --release --example tensorboard -- LOGDIR [SCALARS.json]
//! tensorboard --logdir LOGDIR
//! ```
//!
//! SCALARS.json (optional) receives the scalars written, as `{"scalars": {tag: [[step, value],
//! ...]}}`, the form `check_events.py --scalars-from` reads.

use std::fmt::Write as _;

use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::{Axes, Padding};
use varscope::prelude::*;
use varscope::summary::SummaryWriter;
use varscope::{model, scope, var};

/// `relu(conv2d(input, weights) + biases)` with this scope's `weights` and `biases`.
#[model]
fn conv_relu(cx: &mut Scope, input: &Tensor, kernel_shape: [usize; 4], bias_shape: [usize; 1]) -> Result<Tensor> {
    let weights = var!(cx, "weights", kernel_shape, init = Init::RandomNormal { mean: 0.0, stddev: 1.0 })?;
    let biases = var!(cx, "biases", bias_shape, init = Init::constant(0.0))?;
    let conv = cx.conv2d(input, &weights, [1, 1], Padding::Same)?;
    let pre = cx.add(&conv, &biases)?;
    cx.relu(&pre)
}

/// Two conv-relu layers in variable scopes `conv1` and `conv2`.
#[model]
fn my_image_filter(cx: &mut Scope, input_images: &Tensor) -> Result<Tensor> {
    let relu1 = scope!(cx, "conv1" { conv_relu(cx, input_images, [5, 5, 32, 32], [32]) })?;
    scope!(cx, "conv2" { conv_relu(cx, &relu1, [5, 5, 32, 32], [32]) })
}

/// A deterministic 8x32x32x32 batch of images, as the constant `name`.
fn image(cx: &mut Scope, name: &str, phase: f32) -> Result<Tensor> {
    let a = ArrayD::from_shape_fn(IxDyn(&[8, 32, 32, 32]), |ix| {
        ((ix[0] * 7 + ix[1] * 3 + ix[2] * 5 + ix[3]) as f32 * 0.1 + phase).sin()
    });
    cx.named(name).constant(a)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(logdir) = args.next() else {
        eprintln!("usage: cargo run --release --example tensorboard -- LOGDIR [SCALARS.json]");
        std::process::exit(2);
    };
    let scalars_json = args.next();

    let graph = Graph::with_seed(42);
    let mut cx = graph.scope();
    let cx = &mut cx;
    let image1 = image(cx, "image1", 0.0)?;
    let image2 = image(cx, "image2", 1.0)?;
    scope!(cx, "image_filters" {
        my_image_filter(cx, &image1)?;
        cx.reuse_variables();
        my_image_filter(cx, &image2)?;
        Ok::<(), Error>(())
    })?;

    // The graph, with the two images drawn as the placeholders a TF program would feed.
    let mut writer = SummaryWriter::new(&logdir)?;
    writer.graph_with_inputs(&graph, &[&image1, &image2])?;
    let dot_err =
        |e: std::io::Error| Error::InvalidArgument { message: format!("cannot write a DOT file in `{logdir}`: {e}") };
    std::fs::write(format!("{logdir}/graph.dot"), graph.to_dot()).map_err(dot_err)?;
    std::fs::write(format!("{logdir}/my_image_filter.dot"), my_image_filter::MANIFEST.to_dot()).map_err(dot_err)?;

    // A few gradient-descent steps on the mean activation of the second image's filter,
    // logging the loss and, under the name scope `metrics`, the first layer's mean.
    let mut logged: Vec<(String, Vec<(i64, f32)>)> = Vec::new();
    for step in 0..5i64 {
        graph.clear_ops();
        let x = image(cx, "image", step as f32)?;
        let (relu1, relu2) = scope!(cx, "image_filters", reuse {
            let relu1 = scope!(cx, "conv1" { conv_relu(cx, &x, [5, 5, 32, 32], [32]) })?;
            let relu2 = scope!(cx, "conv2" { conv_relu(cx, &relu1, [5, 5, 32, 32], [32]) })?;
            Ok::<_, Error>((relu1, relu2))
        })?;
        let loss = cx.reduce_mean(&relu2, Axes::All, false)?;
        let (tag, mean1) = {
            let metrics = cx.name_scope("metrics")?;
            let mean1 = metrics.reduce_mean(&relu1, Axes::All, false)?;
            (SummaryWriter::scoped_tag(&metrics, "mean_relu1"), mean1)
        };
        let values = [("loss".to_string(), scalar(&loss)), (tag, scalar(&mean1))];
        writer.scalars(step, &[(values[0].0.as_str(), values[0].1), (values[1].0.as_str(), values[1].1)])?;
        for (tag, value) in values {
            match logged.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, series)) => series.push((step, value as f32)),
                None => logged.push((tag, vec![(step, value as f32)])),
            }
        }
        println!("step {step}: loss {:.4}", scalar(&loss));
        graph.minimize(&loss, 1e-3)?;
    }
    writer.flush()?;
    println!("wrote {}; run: tensorboard --logdir {logdir}", writer.path().display());

    if let Some(path) = scalars_json {
        let mut json = String::from("{\"scalars\": {");
        for (i, (tag, series)) in logged.iter().enumerate() {
            let points: Vec<String> = series.iter().map(|(s, v)| format!("[{s}, {}]", f64::from(*v))).collect();
            let _ = write!(json, "{}\"{tag}\": [{}]", if i > 0 { ", " } else { "" }, points.join(", "));
        }
        json.push_str("}}\n");
        std::fs::write(&path, json)
            .map_err(|e| Error::InvalidArgument { message: format!("cannot write `{path}`: {e}") })?;
    }
    Ok(())
}

/// The value of a scalar tensor.
fn scalar(t: &Tensor) -> f64 {
    t.value().to_f64_vec().first().copied().unwrap_or(f64::NAN)
}
