//! The cifar10 example's model (`examples/cifar10/model.rs`): cifar10.py's variable and op
//! names, its `losses` collection, and a few steps of training from the built graph that
//! lower the loss. (`scripts/interop/check-cifar10.sh` restores a TF-written checkpoint into
//! it and compares the logits with TF's.)

#[path = "../../examples/cifar10/model.rs"]
mod model;

use varscope::ndarray::{ArrayD, IxDyn};
use varscope::{Graph, Session, Tensor, Value};

#[test]
fn the_port_has_cifar10_names_and_trains() -> varscope::Result<()> {
    let graph = Graph::with_seed(3);
    let mut cx = graph.scope();
    let images = ArrayD::from_shape_fn(IxDyn(&[4, model::IMAGE_SIZE, model::IMAGE_SIZE, 3]), |i| {
        ((i[0] * 7 + i[1] * 3 + i[2] + i[3]) % 11) as f32 / 5.5 - 1.0
    });
    let labels = ArrayD::from_shape_vec(IxDyn(&[4]), vec![0i32, 3, 7, 9]).expect("four labels");
    let x = cx.placeholder("images", images.clone())?;
    let y = cx.placeholder("labels", labels.clone())?;
    let logits = model::inference(&mut cx, &x)?;
    let total = model::loss(&mut cx, &logits, &y)?;
    let names: Vec<String> = graph.global_variables().iter().map(|v| v.name().to_string()).collect();
    let layers = ["conv1", "conv2", "local3", "local4", "softmax_linear"];
    let expected: Vec<String> =
        layers.iter().flat_map(|l| [format!("{l}/weights:0"), format!("{l}/biases:0")]).collect();
    assert_eq!(names, expected);
    assert_eq!(logits.name(), "softmax_linear/softmax_linear:0");
    assert_eq!(total.name(), "total_loss:0");
    let losses: Vec<String> = graph.get_collection("losses").iter().map(|t| t.name().to_string()).collect();
    assert_eq!(losses, ["local3/weight_loss:0", "local4/weight_loss:0", "cross_entropy:0"]);
    let ops: Vec<String> = graph.nodes().into_iter().map(|n| n.name).collect();
    for name in ["conv1/conv1", "pool1", "norm1", "conv2/conv2", "norm2", "pool2", "local3/local3", "local4/local4"] {
        assert!(ops.iter().any(|o| o == name), "no op {name}");
    }
    assert!(ops.iter().any(|o| o == "cross_entropy_per_example/cross_entropy_per_example"));

    // Gradient descent from the built graph, on one batch: the loss falls.
    let vars = graph.trainable_variables();
    let wrt: Vec<&Tensor> = vars.iter().map(|v| v.tensor()).collect();
    let grads = cx.gradients(&total, &wrt)?;
    let rate = cx.constant(0.05f32)?;
    let updates = vars
        .iter()
        .zip(&grads)
        .map(|(v, g)| cx.assign_sub(v, &cx.mul(&rate, g)?))
        .collect::<varscope::Result<Vec<_>>>()?;
    let train = cx.group(&updates.iter().collect::<Vec<_>>())?;
    let sess = Session::new(&graph);
    let feeds = [(&x, Value::from(images)), (&y, Value::from(labels))];
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(sess.run(&[&total, &train], &feeds)?[0].to_f64_vec()[0]);
    }
    assert!(seen[3] < seen[0], "the loss did not fall: {seen:?}");
    Ok(())
}
