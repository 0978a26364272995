//! What the conformance cases cannot see: messages, seeding, threads, guards.

use std::collections::HashMap;

use varscope::{DType, ErrorKind, Graph, Init, Reuse, VarScope, VarSpec, Variable};

#[test]
fn already_exists_names_the_full_path_and_the_fix() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let mut f = cx.variable_scope("image_filters").unwrap();
    let c = f.variable_scope("conv1").unwrap();
    c.get_variable("weights", [5, 5, 32, 32]).unwrap();
    let err = c.get_variable("weights", [5, 5, 32, 32]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let msg = err.to_string();
    assert!(msg.contains("`image_filters/conv1/weights` already exists"), "{msg}");
    assert!(msg.contains("Reuse::ReuseOnly") && msg.contains("reuse_variables()"), "{msg}");
}

#[test]
fn not_found_suggests_an_existing_variable() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    cx.variable_scope("foo").unwrap().get_variable("v", [1]).unwrap();
    let bar = cx.variable_scope(VarScope::new("bar").reuse(Reuse::ReuseOnly)).unwrap();
    let err = bar.get_variable("v", [1]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let msg = err.to_string();
    assert!(msg.contains("`bar/v` does not exist"), "{msg}");
    assert!(msg.contains("did you mean `foo/v`?"), "{msg}");
}

#[test]
fn mismatches_show_both_shapes_and_dtypes() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    cx.variable_scope("s").unwrap().get_variable("w", [2, 3]).unwrap();
    let s = cx.variable_scope(VarScope::new("s").reuse(Reuse::ReuseOnly)).unwrap();
    let msg = s.get_variable("w", [3]).unwrap_err().to_string();
    assert!(msg.contains("`s/w`") && msg.contains("(3,)") && msg.contains("(2, 3)"), "{msg}");
    let msg = s.get_variable("w", VarSpec::new().dtype(DType::F64)).unwrap_err().to_string();
    assert!(msg.contains("`s/w`") && msg.contains("float64") && msg.contains("float32"), "{msg}");
}

#[test]
fn invalid_names_say_which_character_is_wrong() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let err = cx.push_variable_scope("conv 1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidName);
    let msg = err.to_string();
    assert!(msg.contains("`conv 1`") && msg.contains("character 5 is a space"), "{msg}");
    // Nothing was entered.
    assert_eq!(cx.depth(), 0);
    assert_eq!(cx.current_name_scope(), "");
    let msg = cx.push_name_scope("_x").unwrap_err().to_string();
    assert!(msg.contains("inside a scope"), "{msg}");
}

#[test]
fn missing_shape_and_bad_int_constant_explain_the_fix() {
    let graph = Graph::new();
    let cx = graph.scope();
    let msg = cx.get_variable("w", VarSpec::lookup()).unwrap_err().to_string();
    assert!(msg.contains("`w` does not exist yet and needs a shape"), "{msg}");
    let spec = VarSpec::new().shape([2]).dtype(DType::I32).init(Init::constant(1.5));
    let msg = cx.get_variable("i", spec).unwrap_err().to_string();
    assert!(msg.contains("int32 variable `i`") && msg.contains("1.5"), "{msg}");
}

fn glorot_values(seed: u64) -> Vec<f64> {
    let graph = Graph::with_seed(seed);
    let cx = graph.scope();
    let a = cx.get_variable("a", [4, 3]).unwrap();
    let b =
        cx.get_variable("b", VarSpec::new().shape([5]).init(Init::RandomNormal { mean: 0.0, stddev: 1.0 })).unwrap();
    let mut v = a.value().to_f64_vec();
    v.extend(b.value().to_f64_vec());
    v
}

#[test]
fn seeded_initializers_reproduce() {
    let first = glorot_values(7);
    assert_eq!(first, glorot_values(7));
    assert_ne!(first, glorot_values(8));
    // Glorot uniform for [4, 3]: limit sqrt(6 / 7).
    let limit = (6.0f64 / 7.0).sqrt();
    assert!(first[..12].iter().all(|x| x.abs() <= limit));
    assert!(first.windows(2).any(|w| w[0] != w[1]), "values are not constant");
}

#[test]
fn eight_threads_share_one_graph_with_auto_reuse() {
    let graph = Graph::new();
    let names: Vec<String> = (0..16).map(|i| format!("w{i}")).collect();
    let got: Vec<Vec<(String, Variable)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let graph = graph.clone();
                let names = &names;
                s.spawn(move || {
                    let mut cx = graph.scope();
                    let shared = cx.variable_scope(VarScope::new("shared").reuse(Reuse::Auto)).unwrap();
                    // Each thread walks the names in its own order.
                    (0..names.len())
                        .map(|i| {
                            let name = &names[(i * 5 + t * 3) % names.len()];
                            let v = shared.get_variable(name, [2, 2]).unwrap();
                            (name.clone(), v)
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let globals = graph.global_variables();
    assert_eq!(globals.len(), names.len(), "every name has exactly one variable");
    let by_name: HashMap<&str, &Variable> = globals.iter().map(|v| (v.name(), v)).collect();
    for thread in &got {
        for (name, v) in thread {
            let full = format!("shared/{name}:0");
            assert!(by_name[full.as_str()].same(v), "{full} is shared by every thread");
        }
    }
}

#[test]
fn a_thread_starts_at_the_root_unless_given_a_captured_scope() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let main = cx.variable_scope("main").unwrap();
    let captured = main.current_variable_scope();
    let (root_name, inside) = std::thread::scope(|s| {
        s.spawn(|| {
            let mut tcx = graph.scope();
            let root = tcx.get_variable("v", [1]).unwrap();
            let m = tcx.variable_scope(&captured).unwrap();
            let inner = m.get_variable("v", [1]).unwrap();
            (root.name().to_string(), inner.name().to_string())
        })
        .join()
        .unwrap()
    });
    assert_eq!((root_name.as_str(), inside.as_str()), ("v:0", "main/v:0"));
    assert_eq!(main.current_variable_scope().name(), "main");
}

#[test]
fn guards_close_scopes_on_every_path() {
    fn build(cx: &mut varscope::Scope, fail: bool) -> varscope::Result<Variable> {
        let mut s = cx.variable_scope("layer")?;
        let inner = s.name_scope("ops")?;
        if fail {
            inner.get_variable("missing", VarSpec::lookup())?;
        }
        inner.get_variable("w", [1])
    }
    let graph = Graph::new();
    let mut cx = graph.scope();
    assert!(build(&mut cx, true).is_err());
    assert_eq!((cx.depth(), cx.current_name_scope(), cx.current_variable_scope().name()), (0, "", ""));
    assert_eq!(build(&mut cx, false).unwrap().name(), "layer/w:0");
    assert_eq!(cx.depth(), 0);
    assert_eq!(cx.pop_scope().unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn ops_are_recorded_with_their_inputs() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let foo_scope = cx.variable_scope("foo").unwrap();
    let v = foo_scope.get_variable("v", VarSpec::new().shape([2]).init(Init::constant(2.0))).unwrap();
    let one = foo_scope.constant(1.0f32).unwrap();
    let x = foo_scope.add(&one, &v).unwrap();
    let y = foo_scope.named("y").mul(&x, &x).unwrap();
    assert_eq!(y.value().to_f64_vec(), vec![9.0, 9.0]);
    let nodes = graph.nodes();
    let add = nodes.iter().find(|n| n.name == "foo/add").unwrap();
    assert_eq!(add.op_type, "AddV2");
    assert_eq!(add.inputs, vec!["foo/Const:0".to_string(), "foo/v:0".to_string()]);
    assert!(nodes.iter().any(|n| n.name == "foo/y" && n.op_type == "Mul"));
    assert!(nodes.iter().any(|n| n.name == "foo/v" && n.op_type == "VariableV2"));
}

#[test]
fn shape_errors_name_the_op_and_both_shapes() {
    let graph = Graph::new();
    let cx = graph.scope();
    let a = cx.get_variable("a", [2, 3]).unwrap();
    let b = cx.get_variable("b", [2, 3]).unwrap();
    let msg = cx.matmul(&a, &b).unwrap_err().to_string();
    assert!(msg.contains("`MatMul`") && msg.contains("(2, 3)"), "{msg}");
    let c = cx.get_variable("c", [4]).unwrap();
    let msg = cx.add(&a, &c).unwrap_err().to_string();
    assert!(msg.contains("`add`") && msg.contains("(4,)"), "{msg}");
}

#[test]
fn tensors_from_another_graph_are_refused() {
    let (g1, g2) = (Graph::new(), Graph::new());
    let a = g1.scope().constant(1.0f32).unwrap();
    let msg = g2.scope().identity(&a).unwrap_err().to_string();
    assert!(msg.contains("another graph"), "{msg}");
}

#[test]
fn regularizers_run_once_per_created_variable_and_are_inherited() -> varscope::Result<()> {
    use varscope::Regularizer;
    let graph = Graph::new();
    let mut cx = graph.scope();
    let l2 = Regularizer::l2(0.5);
    {
        let mut outer = cx.variable_scope(VarScope::new("outer").regularizer(l2.clone()))?;
        outer.get_variable("w", VarSpec::new().shape([2]).init(Init::constant(3.0)))?;
        {
            // Inherited by a sub-scope; a variable's own regularizer wins.
            let inner = outer.variable_scope("inner")?;
            inner.get_variable("a", VarSpec::new().shape([1]).init(Init::constant(2.0)))?;
            let doubled = Regularizer::new(|cx, w| cx.add(w, w));
            inner.get_variable("b", VarSpec::new().shape([1]).init(Init::constant(2.0)).regularizer(doubled))?;
        }
        // Reusing does not run the regularizer again.
        let again = outer.variable_scope(VarScope::new("inner").reuse(Reuse::ReuseOnly))?;
        again.get_variable("a", VarSpec::new())?;
    }
    // A plain get_variable outside has none.
    cx.get_variable("free", VarSpec::new().shape([1]))?;
    let losses = graph.regularization_losses();
    let names: Vec<&str> = losses.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "outer/w/Regularizer/l2_regularizer:0",
            "outer/inner/a/Regularizer/l2_regularizer:0",
            "outer/inner/b/Regularizer/add:0"
        ]
    );
    // 0.5 * (9 + 9) / 2, 0.5 * 4 / 2, and 2 + 2.
    let values: Vec<f64> = losses.iter().map(|t| t.value().to_f64_vec()[0]).collect();
    assert_eq!(values, [4.5, 1.0, 4.0]);
    // The loss is differentiable: d(0.5 * sum(w^2) / 2)/dw = 0.5 * w.
    let w = graph.get_variable_by_name("outer/w");
    assert!(w.is_some());
    let Some(w) = w else { return Ok(()) };
    let grads = graph.gradients(&losses[0], &[&w])?;
    assert_eq!(grads[0].to_f64_vec(), [1.5, 1.5]);
    Ok(())
}
