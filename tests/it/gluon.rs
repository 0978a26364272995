//! Gluon-style naming from ordinary Rust code, the 54 public Gluon oracle cases and 183
//! more cases produced by MXNet 1.9.1.

/// The Gluon conformance runner; `conformance.rs` can reach it as `super::gluon::runner`
/// (a second `#[path]` module of the same file trips `clippy::duplicate_mod`).
#[path = "../../examples/conformance/gluon.rs"]
pub(crate) mod runner;

/// The runner reaches the shared loader and field checks as `super::case`.
use crate::conformance::case;

use serde_json::Value as Json;

/// Runs every case of `file` (relative to the crate root) and returns how many passed,
/// failing with the expected and produced lines of each case that did not.
fn check_file(file: &str) -> usize {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let json: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let cases = json["cases"].as_array().map(Vec::as_slice).unwrap_or_default();
    assert!(!cases.is_empty(), "{file}: no cases");
    let mut failures = String::new();
    let mut passed = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let steps = case["steps"].as_array().map(Vec::as_slice).unwrap_or_default();
        let expect: Vec<&str> = case["expect"].as_array().into_iter().flatten().filter_map(Json::as_str).collect();
        match runner::run_case(steps) {
            Ok(out) if out == expect => passed += 1,
            Ok(out) => failures.push_str(&format!("FAIL {name}\n  expected {expect:?}\n  produced {out:?}\n")),
            Err(e) => failures.push_str(&format!("BROKEN {name}: {e}\n")),
        }
    }
    assert!(failures.is_empty(), "{file}: {passed}/{} passed\n{failures}", cases.len());
    passed
}

#[test]
fn gluon_public_cases_all_pass() {
    assert_eq!(check_file("tests/conformance/gluon_public.json"), 54);
}

/// Random step sequences (`tests/gluon_oracle/gen.py`) whose lines real MXNet 1.9.1 Gluon
/// printed (`tests/gluon_oracle/oracle.py`, which also reproduces all 54 public cases):
/// they reach rule combinations the public cases do not, such as re-entry across threads.
#[test]
fn mxnet_fuzz_cases_all_pass() {
    assert_eq!(check_file("tests/gluon_oracle/mxnet_fuzz.json"), 183);
}

#[test]
fn runner_prints_lines_and_refuses_malformed_cases() {
    let steps = serde_json::json!([
        {"do": "block", "hint": "dense", "as": "d"},
        {"do": "param", "block": "d", "name": "weight", "shape": [2, 0], "as": "w"},
        {"do": "param", "block": "d", "name": "weight", "shape": [0, 3]},
        {"do": "shape", "of": "w"},
        {"do": "collect", "block": "d", "select": "("}
    ]);
    let out = runner::run_case(steps.as_array().map(Vec::as_slice).unwrap_or_default());
    let expect = ["dense0_", "dense0_weight", "dense0_weight", "[2,3]", "error: invalid_regex"];
    assert_eq!(out, Ok(expect.map(String::from).to_vec()));
    // A malformed case is reported as such, not run.
    for bad in [
        serde_json::json!([{"do": "end"}]),
        serde_json::json!([{"do": "enter", "block": "nope"}]),
        serde_json::json!([{"do": "block", "hint": "dense", "as": "d"}, {"do": "shape", "of": "d"}]),
        serde_json::json!([{"do": "block", "hint": "dense", "as": "d"}, {"do": "param", "block": "d", "name": "w", "shape": [-1]}]),
        serde_json::json!([{"do": "fly"}]),
    ] {
        assert!(runner::run_case(bad.as_array().map(Vec::as_slice).unwrap_or_default()).is_err(), "{bad}");
    }
}

mod model {
    //! A model written as ordinary Rust code: two `Dense` blocks, the second sharing the
    //! first's parameters, backed by the graph's variable store.

    use varscope::gluon::{Block, BlockSpec, GluonScope, Parameter};
    use varscope::{ErrorKind, Graph, Init, Result, Value};

    /// A fully connected layer: `weight` (units × inputs) and `bias` (units).
    struct Dense {
        block: Block,
        weight: Parameter,
        bias: Parameter,
    }

    impl Dense {
        fn new(cx: &mut GluonScope, units: usize, inputs: usize, share: Option<&Dense>) -> Result<Dense> {
            let spec = match share {
                Some(owner) => BlockSpec::new("dense").share(&owner.block),
                None => BlockSpec::new("dense"),
            };
            let block = cx.block(spec)?;
            let weight = block.params().get("weight", &[units, inputs])?;
            let bias = block.params().get("bias", &[units])?;
            Ok(Dense { block, weight, bias })
        }
    }

    /// Two layers applied in turn, the second reusing the first's weights.
    struct Model {
        block: Block,
        first: Dense,
        second: Dense,
    }

    impl Model {
        fn new(cx: &mut GluonScope) -> Result<Model> {
            let block = cx.block("model")?;
            let mut inside = cx.name_scope(&block);
            let first = Dense::new(&mut inside, 3, 3, None)?;
            let second = Dense::new(&mut inside, 3, 3, Some(&first))?;
            drop(inside);
            Ok(Model { block, first, second })
        }
    }

    #[test]
    fn shared_dense_layers_have_one_set_of_parameters() -> Result<()> {
        let mut cx = GluonScope::new();
        let model = Model::new(&mut cx)?;
        assert_eq!(model.block.prefix(), "model0_");
        assert_eq!(model.first.block.prefix(), "model0_dense0_");
        assert_eq!(model.second.block.prefix(), "model0_dense1_");
        assert_eq!(model.second.weight.name(), "model0_dense0_weight");
        assert!(model.second.weight.same(&model.first.weight));
        assert!(model.second.bias.same(&model.first.bias));
        let children: Vec<String> = model.block.children().iter().map(|c| c.prefix().to_string()).collect();
        assert_eq!(children, ["model0_dense0_", "model0_dense1_"]);
        assert_eq!(model.block.collect_params(None)?.keys(), ["model0_dense0_weight", "model0_dense0_bias"]);
        // A second model in the same thread is numbered on.
        let other = Model::new(&mut cx)?;
        assert_eq!(other.first.weight.name(), "model1_dense0_weight");
        Ok(())
    }

    #[test]
    fn parameters_materialise_once_in_the_variable_store() -> Result<()> {
        let graph = Graph::new();
        let mut cx = GluonScope::new();
        let model = Model::new(&mut cx)?;
        let vars = model.block.initialize(&graph, Init::Ones)?;
        let names: Vec<String> = vars.iter().map(|v| v.name().to_string()).collect();
        assert_eq!(names, ["model0_dense0_weight:0", "model0_dense0_bias:0"]);
        let globals: Vec<String> = graph.global_variables().iter().map(|v| v.name().to_string()).collect();
        assert_eq!(globals, names);
        // The sharing layer sees the same variable; initialising again changes nothing.
        let again = model.second.weight.initialize(&graph, Init::Zeros)?;
        assert!(again.same(&vars[0]));
        assert!(model.first.weight.variable().is_some_and(|v| v.same(&vars[0])));
        match again.value() {
            Value::F32(a) => assert!(a.iter().all(|&x| x == 1.0) && a.shape() == [3, 3]),
            other => panic!("expected f32 ones, got {other:?}"),
        }
        // The TF-style store finds it under the same name.
        assert!(graph.get_variable_by_name("model0_dense0_bias").is_some_and(|v| v.same(&vars[1])));
        Ok(())
    }

    #[test]
    fn unknown_dims_and_same_named_parameters_refuse_initialisation() -> Result<()> {
        let graph = Graph::new();
        let mut cx = GluonScope::new();
        let a = cx.block(BlockSpec::new("dense").prefix("x_"))?;
        let b = cx.block(BlockSpec::new("dense").prefix("x_"))?;
        let lazy = a.params().get("weight", &[0, 3])?;
        let err = lazy.initialize(&graph, Init::Ones).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("`x_weight` has unknown dimensions (shape (0, 3)"), "{err}");
        a.params().get("weight", &[2, 3])?;
        lazy.initialize(&graph, Init::Ones)?;
        let twin = b.params().get("weight", &[2, 3])?;
        let err = twin.initialize(&graph, Init::Ones).err().map(|e| e.kind());
        assert_eq!(err, Some(ErrorKind::AlreadyExists));
        Ok(())
    }
}

mod rules {
    //! Gluon rules exercised through the Rust API, with the errors' messages.

    use varscope::ErrorKind;
    use varscope::gluon::{BlockSpec, GluonScope};

    #[test]
    fn shape_mismatch_names_the_parameter_both_shapes_and_the_fix() -> varscope::Result<()> {
        let mut cx = GluonScope::new();
        let dense = cx.block("dense")?;
        let w = dense.params().get("weight", &[2, 3])?;
        let err = dense.params().get("weight", &[4, 3]).err();
        assert_eq!(err.as_ref().map(|e| e.kind()), Some(ErrorKind::ShapeMismatch));
        assert_eq!(
            err.map(|e| e.to_string()).unwrap_or_default(),
            "cannot retrieve Gluon parameter `dense0_weight`: desired shape (4, 3) does not match stored \
             shape (2, 3); ask for the stored shape, or use 0 for the dimensions not known yet"
        );
        assert_eq!(w.shape(), [2, 3]);
        Ok(())
    }

    #[test]
    fn duplicate_names_and_bad_regexes_are_typed_errors() -> varscope::Result<()> {
        let mut cx = GluonScope::new();
        let net = cx.block("net")?;
        for _ in 0..2 {
            let block = cx.block(BlockSpec::new("dense").prefix("x_"))?;
            block.params().get("weight", &[1])?;
            net.register_child(&block)?;
        }
        let err = net.collect_params(None).err();
        assert_eq!(err.as_ref().map(|e| e.kind()), Some(ErrorKind::DuplicateName));
        assert!(err.is_some_and(|e| e.to_string().starts_with("two different Gluon parameters are named `x_weight`")));
        // `share_all` collects too, and a failed block advances no counter.
        assert_eq!(
            cx.block(BlockSpec::new("model").share_all(&net)).err().map(|e| e.kind()),
            Some(ErrorKind::DuplicateName)
        );
        assert_eq!(cx.block("model")?.prefix(), "model0_");
        for bad in ["(", "x_[", "a{2,1}", "(?P<n>a)(?P<n>b)"] {
            let kind = net.collect_params(Some(bad)).err().map(|e| e.kind());
            assert_eq!(kind, Some(ErrorKind::InvalidRegex), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn register_refuses_cycles_but_allows_repeats() -> varscope::Result<()> {
        let mut cx = GluonScope::new();
        let outer = cx.block("model")?;
        let inner = cx.name_scope(&outer).block("dense")?;
        inner.params().get("w", &[1])?;
        outer.register_child(&inner)?; // a second registration is allowed
        assert_eq!(outer.children().len(), 2);
        assert_eq!(outer.collect_params(None)?.keys(), ["model0_dense0_w"]);
        for (parent, child) in [(&inner, &outer), (&outer, &outer)] {
            let err = parent.register_child(child).err();
            assert_eq!(err.as_ref().map(|e| e.kind()), Some(ErrorKind::InvalidArgument));
            assert!(err.is_some_and(|e| e.to_string().contains("a block cannot contain itself")));
        }
        Ok(())
    }

    #[test]
    fn reentering_an_open_scope_makes_the_outer_end_fail() -> varscope::Result<()> {
        let mut cx = GluonScope::new();
        let model = cx.block("model")?;
        cx.enter(&model);
        cx.enter(&model);
        cx.end()?;
        let err = cx.end().err();
        assert_eq!(err.as_ref().map(|e| e.kind()), Some(ErrorKind::ReenteredScope));
        assert!(err.is_some_and(|e| e.to_string().contains("scope of block `model0_` was entered again")));
        // The thread stays in `model`'s scope, but nothing is registered under it.
        assert!(cx.current_block().is_some_and(|b| b.same(&model)));
        assert!(cx.entered().is_empty());
        assert_eq!(cx.block("dense")?.prefix(), "model0_dense0_");
        assert!(model.children().is_empty());
        // An `end` with nothing entered is refused, not a panic.
        assert_eq!(cx.end().err().map(|e| e.kind()), Some(ErrorKind::InvalidArgument));
        Ok(())
    }

    #[test]
    fn guard_end_reports_what_drop_cannot() -> varscope::Result<()> {
        let mut cx = GluonScope::new();
        let model = cx.block("model")?;
        let mut outer = cx.name_scope(&model);
        outer.name_scope(&model).end()?;
        assert_eq!(outer.end().err().map(|e| e.kind()), Some(ErrorKind::ReenteredScope));
        // A dropped guard also ends scopes entered through it and left open.
        let head = cx.block("head")?;
        {
            let mut g = cx.name_scope(&head);
            g.enter(&model);
            g.enter(&head);
        }
        assert!(cx.entered().is_empty());
        Ok(())
    }

    #[test]
    fn empty_prefix_scope_names_nothing_but_registers_children() -> varscope::Result<()> {
        let mut cx = GluonScope::new();
        let seq = cx.block(BlockSpec::new("sequential").prefix(""))?;
        let dense = cx.name_scope(&seq).block("dense")?;
        assert_eq!(dense.prefix(), "dense0_");
        assert!(seq.children().first().is_some_and(|c| c.same(&dense)));
        assert!(cx.current_block().is_none());
        Ok(())
    }

    #[test]
    fn block_counters_are_shared_across_threads_top_counters_are_not() -> varscope::Result<()> {
        let mut cx = GluonScope::new();
        let model = cx.block("model")?;
        let names = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| -> varscope::Result<(String, String)> {
                        let mut own = GluonScope::new();
                        let top = own.block("model")?.prefix().to_string();
                        let inner = own.name_scope(&model).block("dense")?.prefix().to_string();
                        Ok((top, inner))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().map_err(|_| "thread panicked")).collect::<Vec<_>>()
        });
        let mut inner = Vec::new();
        for result in names {
            let Ok(Ok((top, dense))) = result else { panic!("a thread failed") };
            assert_eq!(top, "model0_");
            inner.push(dense);
        }
        inner.sort();
        assert_eq!(inner, ["model0_dense0_", "model0_dense1_", "model0_dense2_", "model0_dense3_"]);
        Ok(())
    }
}
