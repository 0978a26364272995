//! Build once, run many: `Session::run` against eager building, feeds,
//! placeholders, assignments, control inputs, gradients nodes and errors.

use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::{Axes, Padding};
use varscope::{DType, ErrorKind, Graph, Init, Scope, Session, Tensor, Value, VarSpec};

fn values(shape: &[usize], seed: u32) -> Value {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    Value::from(ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s % 2000) as f32 / 1000.0 - 1.0
    }))
}

/// A model touching every op family; returns its loss and its gradients
/// node's outputs (with respect to both variables).
fn model(cx: &mut Scope, x: &Tensor) -> varscope::Result<(Tensor, Vec<Tensor>)> {
    let f = cx.get_variable("filter", VarSpec::new().shape([3, 3, 2, 4]).init(Init::constant(0.1)))?;
    let b = cx.get_variable("bias", VarSpec::new().shape([4]).init(Init::constant(0.05)))?;
    let y = cx.relu(&cx.bias_add(&cx.conv2d(x, &f, [1, 1], Padding::Same)?, &b)?)?;
    let y = cx.max_pool(&y, [2, 2], [2, 2], Padding::Valid)?;
    let flat = cx.reshape(&y, &[2, -1])?;
    let t = cx.transpose(&flat, &[1, 0])?;
    let parts = cx.split(&t, 2, 0)?;
    let joined = cx.concat(&[&parts[1], &parts[0]], 0)?;
    let back = cx.transpose(&joined, &[1, 0])?;
    let sliced = cx.slice(&back, &[0, 0], &[2, 8])?;
    let idx = cx.constant(Value::from(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1i32, 0, 1]).unwrap()))?;
    let picked = cx.gather(&sliced, &idx, 0)?;
    let logits = cx.tanh(&cx.sigmoid(&picked)?)?;
    let labels = cx.softmax(&cx.mul(&logits, &logits)?)?;
    let xent = cx.softmax_cross_entropy_with_logits(&labels, &logits)?;
    let loss = cx.add(&cx.reduce_mean(&xent, Axes::All, false)?, &cx.reduce_max(&logits, Axes::All, false)?)?;
    let grads = cx.gradients(&loss, &[&f, &b])?;
    Ok((loss, grads))
}

#[test]
fn a_run_with_new_feeds_equals_building_with_them() -> varscope::Result<()> {
    let (first, second) = (values(&[2, 4, 4, 2], 1), values(&[2, 4, 4, 2], 2));
    // Built once with the first input, run with the second.
    let graph = Graph::new();
    let mut cx = graph.scope();
    let x = cx.placeholder("x", first.clone())?;
    let (loss, grads) = model(&mut cx, &x)?;
    let sess = Session::new(&graph);
    let ran = sess.run(&[&loss, &grads[0], &grads[1]], &[(&x, second.clone())])?;
    // Built eagerly with the second input.
    let eager = Graph::new();
    let mut ex = eager.scope();
    let x2 = ex.placeholder("x", second)?;
    let (loss2, grads2) = model(&mut ex, &x2)?;
    assert_eq!(ran[0], loss2.value());
    assert_eq!(ran[1], grads2[0].value());
    assert_eq!(ran[2], grads2[1].value());
    // And the eager values of the first build are what a run with the first input gives.
    let again = sess.run(&[&loss, &grads[0]], &[(&x, first)])?;
    assert_eq!(again[0], loss.value());
    assert_eq!(again[1], grads[0].value());
    assert_ne!(again[0], ran[0]);
    Ok(())
}

#[test]
fn training_by_running_the_same_ops_needs_no_rebuild() -> varscope::Result<()> {
    let graph = Graph::new();
    let cx = graph.scope();
    let x = cx.placeholder("x", Value::filled(DType::F32, &[3], 0.0)?)?;
    let w = cx.get_variable("w", VarSpec::new().shape([3]).init(Init::constant(0.0)))?;
    let diff = cx.sub(&w, &x)?;
    let loss = cx.reduce_sum(&cx.mul(&diff, &diff)?, Axes::All, false)?;
    let g = cx.gradients(&loss, &[&w])?;
    let lr = cx.constant(0.25f32)?;
    let step = cx.assign_sub(&w, &cx.mul(&lr, &g[0])?)?;
    let nodes = graph.nodes().len();
    let sess = Session::new(&graph);
    let target = Value::from(vec![1.0f32, -2.0, 4.0]);
    w.assign(Value::from(vec![0.0f32; 3]))?; // undo the eager step
    let mut losses = Vec::new();
    for _ in 0..20 {
        let out = sess.run(&[&loss, &step], &[(&x, target.clone())])?;
        losses.push(out[0].to_f64_vec()[0]);
    }
    // w -= 0.5 (w - x): the distance halves each step, the loss quarters.
    assert_eq!(losses[0], 21.0);
    assert!(losses.windows(2).all(|p| (p[1] - p[0] / 4.0).abs() <= 1e-5 * p[0]), "{losses:?}");
    assert!(w.value().to_f64_vec().iter().zip([1.0, -2.0, 4.0]).all(|(a, b)| (a - b).abs() < 1e-4));
    assert_eq!(graph.nodes().len(), nodes, "a run records nothing");
    Ok(())
}

#[test]
fn a_run_computes_only_what_its_fetches_need() -> varscope::Result<()> {
    let graph = Graph::new();
    let cx = graph.scope();
    let v = cx.get_variable("v", VarSpec::new().shape([]).init(Init::constant(1.0)))?;
    let one = cx.constant(1.0f32)?;
    let inc = cx.assign_add(&v, &one)?; // v = 2, eagerly
    let read = cx.identity(&v)?;
    let sess = Session::new(&graph);
    for _ in 0..3 {
        assert_eq!(sess.run(&[&read], &[])?[0].to_f64_vec(), vec![2.0]);
    }
    sess.run(&[&inc], &[])?;
    assert_eq!(v.value().to_f64_vec(), vec![3.0]);
    // A group runs its control inputs.
    let train = cx.group(&[&inc])?;
    assert_eq!(train.op_name(), "group_deps");
    sess.run(&[&train], &[])?;
    sess.run(&[&train], &[])?;
    assert_eq!(v.value().to_f64_vec(), vec![5.0]);
    Ok(())
}

#[test]
fn placeholders_must_be_fed_and_feeds_must_fit() -> varscope::Result<()> {
    let graph = Graph::new();
    let cx = graph.scope();
    let x = cx.placeholder("x", Value::from(vec![1.0f32, 2.0]))?;
    assert_eq!(x.name(), "x:0");
    let y = cx.neg(&x)?;
    let sess = Session::new(&graph);
    let e = sess.run(&[&y], &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("placeholder `x`"), "{e}");
    let e = sess.run(&[&y], &[(&x, Value::from(vec![1.0f32, 2.0, 3.0]))]).unwrap_err();
    assert!(e.to_string().contains("shape (3,)") && e.to_string().contains("`x:0`"), "{e}");
    let e = sess.run(&[&y], &[(&x, Value::from(vec![1.0f64, 2.0]))]).unwrap_err();
    assert!(e.to_string().contains("float64"), "{e}");
    // Feeding an intermediate tensor cuts the graph there: x need not be fed.
    let z = cx.add(&y, &y)?;
    assert_eq!(sess.run(&[&z], &[(&y, Value::from(vec![3.0f32, 4.0]))])?[0].to_f64_vec(), vec![6.0, 8.0]);
    // A tensor of another graph is refused.
    let other = Graph::new();
    let t = other.scope().constant(1.0f32)?;
    assert_eq!(sess.run(&[&t], &[]).unwrap_err().kind(), ErrorKind::InvalidArgument);
    Ok(())
}

#[test]
fn tensors_cleared_from_the_graph_cannot_be_run() -> varscope::Result<()> {
    let graph = Graph::new();
    let cx = graph.scope();
    let a = cx.constant(1.0f32)?;
    let b = cx.neg(&a)?;
    let sess = Session::new(&graph);
    assert_eq!(sess.run(&[&b], &[])?[0].to_f64_vec(), vec![-1.0]);
    graph.clear_ops();
    let e = sess.run(&[&b], &[]).unwrap_err();
    assert!(e.to_string().contains("clear_ops") || e.to_string().contains("before"), "{e}");
    Ok(())
}

#[test]
fn placeholder_with_default_passes_its_input_and_its_gradient() -> varscope::Result<()> {
    let graph = Graph::new();
    let cx = graph.scope();
    let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(2.0)))?;
    let p = cx.placeholder_with_default("scale", &w)?;
    let loss = cx.mul(&p, &p)?;
    let g = cx.gradients(&loss, &[&w])?;
    let sess = Session::new(&graph);
    assert_eq!(sess.run(&[&g[0]], &[])?[0].to_f64_vec(), vec![4.0]);
    // Fed, the default's gradient is cut: the loss no longer depends on w.
    assert_eq!(sess.run(&[&g[0]], &[(&p, Value::from(3.0f32))])?[0].to_f64_vec(), vec![0.0]);
    Ok(())
}

#[test]
fn a_run_surfaces_op_errors_for_values_the_build_never_saw() -> varscope::Result<()> {
    let graph = Graph::new();
    let cx = graph.scope();
    let table = cx.constant(Value::from(vec![1.0f32, 2.0, 3.0]))?;
    let ids = cx.placeholder("ids", Value::from(ArrayD::from_shape_vec(IxDyn(&[1]), vec![0i32]).unwrap()))?;
    let picked = cx.gather(&table, &ids, 0)?;
    let sess = Session::new(&graph);
    let bad = Value::from(ArrayD::from_shape_vec(IxDyn(&[1]), vec![7i32]).unwrap());
    let e = sess.run(&[&picked], &[(&ids, bad)]).unwrap_err();
    assert!(e.to_string().contains("GatherV2") && e.to_string().contains("out of range"), "{e}");
    Ok(())
}

#[test]
fn regularization_losses_run_on_the_current_weights() -> varscope::Result<()> {
    use varscope::{Regularizer, VarScope};
    let graph = Graph::new();
    let mut cx = graph.scope();
    let w = {
        let layer = cx.variable_scope(VarScope::new("dense").regularizer(Regularizer::l2(2.0)))?;
        layer.get_variable("w", VarSpec::new().shape([2]).init(Init::constant(1.0)))?
    };
    let losses = graph.regularization_losses();
    assert_eq!(losses[0].value().to_f64_vec(), vec![2.0]); // 2.0 * (1 + 1) / 2, at creation
    let sess = Session::new(&graph);
    w.assign(Value::from(vec![3.0f32, 0.0]))?;
    assert_eq!(sess.run(&[&losses[0]], &[])?[0].to_f64_vec(), vec![9.0]);
    Ok(())
}

/// Two `conv2d → bias → relu` layers (`add` then `bias_add`, the second written `b + conv`
/// when `flip`), their sum as the loss, and the gradients with respect to every variable.
/// Returns the output, the first layer's conv and pre-activation, the loss and the gradients.
fn conv_layers(cx: &mut Scope, x: &Tensor, dtype: DType, flip: bool) -> varscope::Result<[Tensor; 8]> {
    let spec = |shape: &[usize], init: Init| VarSpec::new().shape(shape).dtype(dtype).init(init);
    let w1 = cx.get_variable("w1", spec(&[3, 3, 3, 16], Init::RandomNormal { mean: 0.0, stddev: 0.3 }))?;
    let b1 = cx.get_variable("b1", spec(&[16], Init::RandomNormal { mean: 0.0, stddev: 0.3 }))?;
    let w2 = cx.get_variable("w2", spec(&[3, 3, 16, 16], Init::RandomNormal { mean: 0.0, stddev: 0.3 }))?;
    let b2 = cx.get_variable("b2", spec(&[16], Init::RandomNormal { mean: 0.0, stddev: 0.3 }))?;
    let conv1 = cx.conv2d(x, &w1, [1, 1], Padding::Same)?;
    let pre1 = if flip { cx.add(&b1, &conv1)? } else { cx.add(&conv1, &b1)? };
    let h = cx.relu(&pre1)?;
    let y = cx.relu(&cx.bias_add(&cx.conv2d(&h, &w2, [1, 1], Padding::Same)?, &b2)?)?;
    let loss = cx.reduce_sum(&y, Axes::All, false)?;
    let mut g = cx.gradients(&loss, &[&w1, &b1, &w2, &b2])?.into_iter();
    let mut next = || g.next().expect("one gradient per variable");
    Ok([y, conv1, pre1, loss, next(), next(), next(), next()])
}

/// A run fuses `Conv2D → bias → Relu` into one convolution when nothing else reads the
/// intermediates, and gives the same bits as building eagerly; fetching an intermediate
/// (which keeps the ops apart) gives the same bits too, in f32 (the direct kernels) and f64.
#[test]
fn fused_conv_bias_relu_runs_give_the_eager_bits() -> varscope::Result<()> {
    for (dtype, flip) in [(DType::F32, false), (DType::F32, true), (DType::F64, false)] {
        let cast = |v: Value| match dtype {
            DType::F64 => Value::from(ArrayD::from_shape_vec(IxDyn(v.shape()), v.to_f64_vec()).expect("shape")),
            _ => v,
        };
        let (first, second) = (cast(values(&[2, 6, 7, 3], 3)), cast(values(&[2, 6, 7, 3], 4)));
        let graph = Graph::with_seed(5);
        let mut cx = graph.scope();
        let x = cx.placeholder("x", first)?;
        let built = conv_layers(&mut cx, &x, dtype, flip)?;
        let eager = Graph::with_seed(5);
        let mut ex = eager.scope();
        let x2 = ex.placeholder("x", second.clone())?;
        let want = conv_layers(&mut ex, &x2, dtype, flip)?;
        let sess = Session::new(&graph);
        let [y, conv1, pre1, loss, g0, g1, g2, g3] = &built;
        // Fused: the output, the loss and the gradients.
        let ran = sess.run(&[y, loss, g0, g1, g2, g3], &[(&x, second.clone())])?;
        for (got, w) in ran.iter().zip([&want[0], &want[3], &want[4], &want[5], &want[6], &want[7]]) {
            assert_eq!(got, &w.value(), "{dtype} flip {flip}: {}", w.name());
        }
        // Fetching the first conv and its pre-activation keeps that layer unfused.
        let ran = sess.run(&[y, conv1, pre1, g0, g1], &[(&x, second.clone())])?;
        for (got, w) in ran.iter().zip([&want[0], &want[1], &want[2], &want[4], &want[5]]) {
            assert_eq!(got, &w.value(), "{dtype} flip {flip}, intermediates fetched: {}", w.name());
        }
        // Forward only, run twice (the second run must not see the first's buffers).
        for _ in 0..2 {
            assert_eq!(sess.run(&[y], &[(&x, second.clone())])?[0], want[0].value());
        }
    }
    Ok(())
}
