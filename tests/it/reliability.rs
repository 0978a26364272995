//! The runtime's promises under hostile use: graph identity, stale tensors,
//! threads, huge shapes, integer overflow, bad initializer parameters.

use std::sync::{Arc, Barrier};
use std::thread;

use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::Axes;
use varscope::{DType, Error, ErrorKind, Graph, Init, Reuse, Value, VarScope, VarSpec};

fn ints(shape: &[usize], xs: Vec<i32>) -> Value {
    Value::from(ArrayD::from_shape_vec(IxDyn(shape), xs).unwrap())
}

#[test]
fn a_tensor_of_another_graph_is_refused_by_every_op() {
    let (a, b) = (Graph::new(), Graph::new());
    let (ca, cb) = (a.scope(), b.scope());
    let x = ca.constant(1.0f32).unwrap();
    let w = ca.get_variable("w", [1]).unwrap();
    let y = cb.constant(2.0f32).unwrap();
    for err in [cb.add(&x, &y).unwrap_err(), cb.add(&y, &w).unwrap_err(), cb.identity(&x).unwrap_err()] {
        assert!(matches!(err, Error::ForeignTensor { .. }), "{err}");
        assert!(err.to_string().contains("belongs to another graph"), "{err}");
    }
    let msg = cb.identity(&w).unwrap_err().to_string();
    assert!(msg.contains("op `Identity") && msg.contains("`w:0`"), "{msg}");
    let grad = Value::filled(DType::F32, &[1], 1.0).unwrap();
    let err = b.apply_gradient_descent(&w, 0.1, &grad).unwrap_err();
    assert!(matches!(err, Error::ForeignTensor { .. }), "{err}");
    assert!(b.gradients(&y, &[&x]).is_err());
    // The graph that owns them accepts them.
    ca.add(&x, &w).unwrap();
    a.apply_gradient_descent(&w, 0.1, &grad).unwrap();
}

#[test]
fn a_tensor_of_a_dropped_graph_is_refused_even_if_its_memory_is_reused() {
    let old = Graph::new();
    let stale = old.scope().constant(1.0f32).unwrap();
    drop(old);
    // New graphs, one of which may be allocated where the old one was.
    for _ in 0..200 {
        let g = Graph::new();
        let err = g.scope().identity(&stale).unwrap_err();
        assert!(matches!(err, Error::ForeignTensor { .. }), "{err}");
    }
}

#[test]
fn tensors_made_before_clear_ops_are_refused_afterwards() {
    let graph = Graph::new();
    let cx = graph.scope();
    let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(2.0))).unwrap();
    let y = cx.mul(&w, &w).unwrap();
    graph.clear_ops();
    let err = cx.add(&y, &w).unwrap_err();
    assert!(matches!(err, Error::StaleTensor { .. }), "{err}");
    assert!(err.to_string().contains("before the last `clear_ops`"), "{err}");
    assert!(graph.gradients(&y, &[&w]).is_err());
    // Variables survive the clear; a rebuilt loss differentiates.
    let y = cx.mul(&w, &w).unwrap();
    assert_eq!(graph.gradients(&y, &[&w]).unwrap()[0].to_f64_vec(), vec![4.0]);
}

#[test]
fn clear_ops_while_other_threads_build_never_hands_a_name_out_twice() {
    let graph = Graph::new();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clearer = {
        let (graph, stop) = (graph.clone(), stop.clone());
        thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                graph.clear_ops();
            }
        })
    };
    let builders: Vec<_> = (0..2)
        .map(|_| {
            let graph = graph.clone();
            thread::spawn(move || {
                let cx = graph.scope();
                for _ in 0..3000 {
                    let c = cx.constant(Value::filled(DType::F32, &[64], 1.0).unwrap()).unwrap();
                    // `c` may be cleared meanwhile: refused, never a duplicate name.
                    match cx.neg(&c) {
                        Ok(_) => {}
                        Err(Error::StaleTensor { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for b in builders {
        b.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    clearer.join().unwrap();
}

#[test]
fn eight_threads_auto_reusing_get_exactly_one_variable_per_name() {
    const THREADS: usize = 8;
    const CALLS: usize = 10_000;
    const NAMES: usize = 97;
    let graph = Graph::with_seed(3);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (graph, barrier) = (graph.clone(), barrier.clone());
            thread::spawn(move || {
                let mut cx = graph.scope();
                let s = cx.variable_scope(VarScope::new("shared").reuse(Reuse::Auto)).unwrap();
                barrier.wait();
                (0..CALLS)
                    .map(|i| s.get_variable(&format!("v{}", (i * 7 + t) % NAMES), [2]).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let got: Vec<_> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let vars = graph.global_variables();
    assert_eq!(vars.len(), NAMES);
    for v in &got {
        let owner = graph.get_variable_by_name(v.op_name()).unwrap();
        assert!(owner.same(v), "{} was created twice", v.name());
    }
}

#[test]
fn values_depend_on_the_seed_and_the_name_not_on_creation_order() {
    let spec = VarSpec::new().shape([4]).init(Init::random_normal(0.0, 1.0));
    let one = Graph::with_seed(11);
    let (a, b) = {
        let cx = one.scope();
        (cx.get_variable("a", spec.clone()).unwrap(), cx.get_variable("b", spec.clone()).unwrap())
    };
    // Reversed order, an extra variable first, created from two threads.
    let two = Graph::with_seed(11);
    two.scope().get_variable("extra", spec.clone()).unwrap();
    let b2 = {
        let (two, spec) = (two.clone(), spec.clone());
        thread::spawn(move || two.scope().get_variable("b", spec).unwrap()).join().unwrap()
    };
    let a2 = two.scope().get_variable("a", spec.clone()).unwrap();
    assert_eq!(a.value(), a2.value());
    assert_eq!(b.value(), b2.value());
    assert_ne!(a.value(), b.value());
    let other_seed = Graph::with_seed(12).scope().get_variable("a", spec).unwrap();
    assert_ne!(a.value(), other_seed.value());
}

#[test]
fn huge_or_overflowing_shapes_are_refused_naming_the_variable_or_op() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let s = cx.variable_scope("big").unwrap();
    for shape in [vec![1 << 40, 1 << 40], vec![usize::MAX, 2], vec![1 << 16, 1 << 16]] {
        let err = s.get_variable("w", shape.as_slice()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("variable `big/w`"), "{err}");
    }
    assert!(s.variable(Some("p"), VarSpec::new().shape([usize::MAX, 3])).is_err());
    assert!(Value::filled(DType::F32, &[usize::MAX, 2], 0.0).is_err());
    let col = s.constant(Value::filled(DType::F32, &[1 << 20, 1], 1.0).unwrap()).unwrap();
    let row = s.reshape(&col, &[1, 1 << 20]).unwrap();
    let err = s.add(&col, &row).unwrap_err();
    assert!(err.to_string().contains("op `big/add") && err.to_string().contains("elements"), "{err}");
    let err = s.matmul(&col, &row).unwrap_err();
    assert!(err.to_string().contains("(MatMul)"), "{err}");
}

#[test]
fn int32_arithmetic_wraps_around_as_in_tensorflow() {
    let graph = Graph::new();
    let cx = graph.scope();
    let max = cx.constant(ints(&[2], vec![i32::MAX, i32::MIN])).unwrap();
    let one = cx.constant(ints(&[2], vec![1, 1])).unwrap();
    assert_eq!(cx.add(&max, &one).unwrap().value(), ints(&[2], vec![i32::MIN, i32::MIN + 1]));
    assert_eq!(cx.sub(&one, &max).unwrap().value(), ints(&[2], vec![i32::MIN + 2, i32::MIN + 1]));
    assert_eq!(cx.mul(&max, &max).unwrap().value(), ints(&[2], vec![1, 0]));
    assert_eq!(cx.neg(&max).unwrap().value(), ints(&[2], vec![i32::MIN + 1, i32::MIN]));
    let sum = cx.reduce_sum(&max, Axes::All, false).unwrap();
    assert_eq!(sum.value().to_f64_vec(), vec![-1.0]);
    let m = cx.constant(ints(&[1, 2], vec![i32::MAX, i32::MAX])).unwrap();
    let n = cx.constant(ints(&[2, 1], vec![2, 2])).unwrap();
    assert_eq!(cx.matmul(&m, &n).unwrap().value().to_f64_vec(), vec![-4.0]);
    // A batched product and a bias wrap too (not a debug-build overflow panic).
    let (bm, bn) = (cx.reshape(&m, &[1, 1, 2]).unwrap(), cx.reshape(&n, &[1, 2, 1]).unwrap());
    assert_eq!(cx.batch_matmul(&bm, &bn, false, false).unwrap().value().to_f64_vec(), vec![-4.0]);
    let bias = cx.constant(ints(&[2], vec![1, 1])).unwrap();
    assert_eq!(cx.bias_add(&m, &bias).unwrap().value(), ints(&[1, 2], vec![i32::MIN, i32::MIN]));
}

#[test]
fn out_of_range_int32_constants_and_non_finite_initializers_are_refused() {
    let graph = Graph::new();
    let cx = graph.scope();
    let int = |init| VarSpec::new().shape([2]).dtype(DType::I32).init(init);
    let err = cx.get_variable("step", int(Init::constant(3_000_000_000i64))).unwrap_err();
    assert!(err.to_string().contains("`step`") && err.to_string().contains("int32"), "{err}");
    assert!(cx.get_variable("ok", int(Init::constant(-2_147_483_648i64))).is_ok());
    assert!(Value::filled(DType::I32, &[1], 1.5).is_err());
    for init in [
        Init::random_normal(f64::NAN, 1.0),
        Init::random_normal(0.0, f64::INFINITY),
        Init::random_uniform(0.0, f64::INFINITY),
    ] {
        let err = cx.get_variable("r", VarSpec::new().shape([2]).init(init)).unwrap_err();
        assert!(err.to_string().contains("finite"), "{err}");
    }
}

#[test]
fn variable_with_may_use_the_graph_in_its_callback() {
    let graph = Graph::new();
    let cx = graph.scope();
    let w = cx.get_variable("w", VarSpec::new().shape([2]).init(Init::constant(3.0))).unwrap();
    let g2 = graph.clone();
    let v = cx
        .variable_with(Some("copy"), true, |_| {
            // Would deadlock if the graph's lock were held here.
            let other = g2.scope();
            other.get_variable("made_inside", [1])?;
            Ok(g2.get_variable_by_name("w").unwrap().value())
        })
        .unwrap();
    assert_eq!(v.value(), w.value());
    assert_eq!(v.name(), "copy:0");
    assert_eq!(graph.global_variables().len(), 3);
}

#[test]
fn minimize_skips_an_int32_step_counter() {
    let graph = Graph::new();
    let cx = graph.scope();
    let step = cx.get_variable("global_step", VarSpec::new().shape([]).dtype(DType::I32)).unwrap();
    assert!(step.trainable());
    let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(1.0))).unwrap();
    let loss = cx.mul(&w, &w).unwrap();
    let grads = graph.minimize(&loss, 0.25).unwrap();
    assert_eq!(grads.len(), 1);
    assert_eq!(w.value().to_f64_vec(), vec![0.5]);
    assert_eq!(step.value().to_f64_vec(), vec![0.0]);
}

#[test]
fn debug_of_an_error_is_its_helpful_sentence() {
    let graph = Graph::new();
    let cx = graph.scope();
    cx.get_variable("v", [1]).unwrap();
    let err = cx.get_variable("v", [1]).unwrap_err();
    assert_eq!(format!("{err:?}"), err.to_string());
    assert!(!format!("{err:?}").contains("AlreadyExists {"));
}

#[test]
fn tensors_and_values_display_as_tensorflow_prints_them() {
    let graph = Graph::new();
    let cx = graph.scope();
    let x = cx.named("x").constant(ints(&[2, 2], vec![1, 2, 3, 4])).unwrap();
    assert_eq!(x.to_string(), r#"Tensor("x:0", shape=(2, 2), dtype=int32)"#);
    assert_eq!(x.value().to_string(), "[[1, 2],\n [3, 4]]");
}

#[test]
fn ops_compose_like_the_tensorflow_code_they_port() {
    let graph = Graph::new();
    let cx = graph.scope();
    let x = cx.constant(Value::filled(DType::F32, &[2, 3], 1.0).unwrap()).unwrap();
    let w = cx.get_variable("w", VarSpec::new().shape([3, 4]).init(Init::constant(0.5))).unwrap();
    let b = cx.get_variable("b", VarSpec::new().shape([4]).init(Init::constant(-1.0))).unwrap();
    // tf.nn.relu(tf.matmul(x, w) + b), in one expression.
    let y = cx.relu(&cx.add(&cx.matmul(&x, &w).unwrap(), &b).unwrap()).unwrap();
    assert_eq!(y.name(), "Relu:0");
    assert_eq!(y.value().to_f64_vec(), vec![0.5; 8]);
    let names: Vec<String> = graph.nodes().into_iter().map(|n| n.name).collect();
    assert_eq!(names[names.len() - 3..], ["MatMul", "add", "Relu"]);
}

#[test]
fn zero_sized_class_axes_give_empty_results() {
    let graph = Graph::new();
    let cx = graph.scope();
    let logits = cx.constant(Value::filled(DType::F32, &[3, 0], 0.0).unwrap()).unwrap();
    assert_eq!(cx.softmax(&logits).unwrap().shape(), &[3, 0]);
    assert_eq!(cx.log_softmax(&logits).unwrap().shape(), &[3, 0]);
    // No classes: each row's cross-entropy is an empty sum, 0.
    let loss = cx.softmax_cross_entropy_with_logits(&logits, &logits).unwrap();
    assert_eq!(loss.value().to_f64_vec(), vec![0.0; 3]);
    let empty_batch = cx.constant(Value::filled(DType::F32, &[0, 4], 0.0).unwrap()).unwrap();
    assert_eq!(cx.softmax(&empty_batch).unwrap().shape(), &[0, 4]);
}

#[test]
fn clear_ops_frees_op_names_and_keeps_variables_and_their_scopes() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let w = {
        let s = cx.variable_scope("layer").unwrap();
        let w = s.get_variable("w", [1]).unwrap();
        assert_eq!(s.add(&w, &w).unwrap().name(), "layer/add:0");
        w
    };
    assert_eq!(cx.constant(1.0f32).unwrap().name(), "Const:0");
    assert_eq!(cx.constant(1.0f32).unwrap().name(), "Const_1:0");
    assert_eq!(cx.name_scope("tmp").unwrap().constant(1.0f32).unwrap().name(), "tmp/Const:0");
    assert_eq!(graph.clear_ops(), 4);
    for _ in 0..2 {
        assert_eq!(graph.nodes().len(), 1, "only the variable stays");
        assert_eq!(cx.constant(1.0f32).unwrap().name(), "Const:0");
        assert_eq!(cx.name_scope("tmp").unwrap().constant(1.0f32).unwrap().name(), "tmp/Const:0");
        // The variable's scope keeps one use; the variable's own names stay taken.
        let s = cx.variable_scope(VarScope::new("layer").reuse(Reuse::ReuseOnly)).unwrap();
        assert_eq!(s.current_name_scope(), "layer_1");
        assert!(s.get_variable("w", [1]).unwrap().same(&w));
        assert_eq!(s.named("layer/w/").identity(&w).unwrap_err().kind(), ErrorKind::AlreadyExists);
        drop(s);
        assert_eq!(graph.clear_ops(), 2);
    }
}

#[test]
fn window_arithmetic_that_would_overflow_is_refused() {
    use varscope::kernels::Window;
    use varscope::ops::Padding;
    assert!(Window::new("conv2d", "height", 10, usize::MAX, 3, Padding::Same).is_err());
    assert!(Window::new("conv2d", "height", 10, 3, usize::MAX, Padding::Same).is_ok());
    let graph = Graph::new();
    let cx = graph.scope();
    let x = cx.constant(Value::filled(DType::F32, &[1, 4, 4, 1], 1.0).unwrap()).unwrap();
    let err = cx.max_pool(&x, [usize::MAX, 2], [1, 1], Padding::Same).unwrap_err();
    assert!(err.to_string().contains("op `MaxPool`"), "{err}");
    let w = cx.constant(Value::filled(DType::F32, &[1, 1, 1, 1], 1.0).unwrap()).unwrap();
    assert_eq!(cx.conv2d(&x, &w, [usize::MAX, 1], Padding::Same).unwrap().shape(), &[1, 1, 4, 1]);
}

#[test]
fn a_deep_chain_of_gluon_blocks_drops_without_recursion() {
    let mut cx = varscope::gluon::GluonScope::new();
    let root = cx.block("b").unwrap();
    let mut last = root.clone();
    for _ in 0..100_000 {
        let next = cx.block("b").unwrap();
        last.register_child(&next).unwrap();
        last = next;
    }
    drop(last);
    drop(cx);
    // Recursive drops of 100,000 nested blocks overflow a test thread's stack.
    drop(root);
}
