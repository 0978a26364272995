//! Layers and RNN cells (`varscope::layers`): the TF 2.21 cases of
//! `tests/conformance/layers_rnn.json` (copied from
//! `shared/oracle-next/public/`), run through the conformance runner's code,
//! and the gradients of the ops they added (`ops/extra.rs`) against central
//! finite differences.

#[path = "../../examples/conformance/layers.rs"]
mod runner;

use std::path::PathBuf;

use varscope::layers::{BatchNorm, Dense, batch_normalization, dense};
use varscope::ndarray::{ArrayD, Dimension, IxDyn};
use varscope::ops::Axes;
use varscope::{DType, Graph, Scope, Session, Tensor, Value};

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance").join(file)
}

/// The cases that pass, by name: the passing set never shrinks silently.
const PASSING: &[&str] = &[
    "dense_repeated",
    "dense_in_scopes",
    "dense_reuse_variables",
    "dense_auto_reuse",
    "dense_scope_counter_interplay",
    "dense_in_name_scope",
    "dense_rank3",
    "dense_name_twice_error",
    "dense_shape_mismatch",
    "conv2d_repeated",
    "batch_norm_train_4d",
    "batch_norm_2d_variants",
    "batch_norm_named_reuse",
    "cnn_siamese",
    "basic_rnn_static_rnn_default",
    "basic_rnn_static_rnn_scoped",
    "basic_rnn_dynamic_rnn_default",
    "basic_rnn_dynamic_rnn_scoped",
    "basic_rnn_bidi_default",
    "basic_rnn_bidi_scoped",
    "basic_lstm_static_rnn_default",
    "basic_lstm_static_rnn_scoped",
    "basic_lstm_dynamic_rnn_default",
    "basic_lstm_dynamic_rnn_scoped",
    "basic_lstm_bidi_default",
    "basic_lstm_bidi_scoped",
    "lstm_peep_proj_static_rnn_default",
    "lstm_peep_proj_static_rnn_scoped",
    "lstm_peep_proj_dynamic_rnn_default",
    "lstm_peep_proj_dynamic_rnn_scoped",
    "lstm_peep_proj_bidi_default",
    "lstm_peep_proj_bidi_scoped",
    "gru_static_rnn_default",
    "gru_static_rnn_scoped",
    "gru_dynamic_rnn_default",
    "gru_dynamic_rnn_scoped",
    "gru_bidi_default",
    "gru_bidi_scoped",
    "multi_lstm_static_rnn_default",
    "multi_lstm_static_rnn_scoped",
    "multi_lstm_dynamic_rnn_default",
    "multi_lstm_dynamic_rnn_scoped",
    "multi_lstm_bidi_default",
    "multi_lstm_bidi_scoped",
    "rnn_reuse_new_cell",
    "rnn_same_cell_two_scopes",
    "rnn_default_scope_twice_error",
    "rnn_outer_scope_reuse",
    "call_cell_direct",
    "call_cell_explicit_scope",
    "cell_with_name",
    "residual_wrapper",
    "dropout_wrapper",
    "multi_rnn_dropout_static",
    "static_bidirectional_rnn",
    "dynamic_rnn_time_major_seq_len",
    "seq2seq_shared_embedding_dynamic",
    "seq2seq_tied_embedding_static",
    "numeric_dense_relu",
    "numeric_basic_lstm_step",
    "numeric_gru_step",
    "numeric_batch_norm_train_2d",
    "numeric_dynamic_basic_rnn",
    "numeric_conv2d_same_even_kernel",
    "numeric_lstm_cell_peephole_proj",
    "numeric_batch_norm_fused_4d",
    "numeric_dynamic_lstm_seq_len",
];

#[test]
fn layers_rnn_cases_pass() {
    let text = std::fs::read_to_string(data("layers_rnn.json")).expect("tests/conformance/layers_rnn.json");
    let runner::FileReport { passed, failed, broken, .. } = runner::run_file(&text).unwrap();
    assert_eq!(passed.len() + failed.len() + broken.len(), 67, "the file has 67 cases");
    let mut problems = String::new();
    for name in PASSING {
        if !passed.iter().any(|p| p == name) {
            let why = failed
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| d.join("\n  "))
                .or_else(|| broken.iter().find(|(n, _)| n == name).map(|(_, e)| e.clone()))
                .unwrap_or_default();
            problems.push_str(&format!("{name} no longer passes:\n  {why}\n"));
        }
    }
    for name in &passed {
        if !PASSING.contains(&name.as_str()) {
            problems.push_str(&format!("{name} passes now: add it to PASSING\n"));
        }
    }
    for (name, diffs) in &failed {
        if !PASSING.contains(&name.as_str()) {
            problems.push_str(&format!("{name} fails and is not listed:\n  {}\n", diffs.join("\n  ")));
        }
    }
    for (name, e) in &broken {
        if !PASSING.contains(&name.as_str()) {
            problems.push_str(&format!("{name} cannot run and is not listed: {e}\n"));
        }
    }
    assert!(problems.is_empty(), "{problems}");
    assert_eq!(passed.len(), 67, "{} passed", passed.len());
}

#[test]
fn layers_copy_matches_shared_reference_when_present() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle-next/public/layers_rnn.json");
    let Ok(theirs) = std::fs::read(&shared) else { return };
    let ours = std::fs::read(data("layers_rnn.json")).unwrap_or_default();
    assert!(ours == theirs, "tests/conformance/layers_rnn.json differs from {}: copy it over", shared.display());
}

#[test]
fn runner_reports_a_wrong_expectation() {
    let text = std::fs::read_to_string(data("layers_rnn.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = &mut json["cases"][0];
    case["expect"]["steps"][1]["value"]["name"] = "dense_9/BiasAdd:0".into();
    let out = runner::run_case(case).unwrap();
    assert!(!runner::diff(case, &out).is_empty());
}

#[test]
fn building_batch_norm_leaves_the_averages_and_a_session_moves_them() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let x = cx.placeholder("x", ArrayD::from_shape_vec(vec![2, 1], vec![1.0f32, 3.0]).unwrap()).unwrap();
    let y = batch_normalization(&mut cx, &x, &BatchNorm::new().training(true).momentum(0.5)).unwrap();
    let mean = graph.get_variable_by_name("batch_normalization/moving_mean").unwrap();
    assert_eq!(mean.value().to_f64_vec(), [0.0]);
    let mut fetch = vec![&y];
    let updates = graph.update_ops();
    fetch.extend(updates.iter());
    let feed = Value::from(ArrayD::from_shape_vec(vec![2, 1], vec![1.0f32, 3.0]).unwrap());
    Session::new(&graph).run(&fetch, &[(&x, feed)]).unwrap();
    assert_eq!(mean.value().to_f64_vec(), [1.0]); // 0 - (0 - 2) * 0.5
}

#[test]
fn misuse_is_an_error_naming_the_op() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let v = cx.constant(Value::from(vec![1.0f32, 2.0])).unwrap();
    assert!(dense(&mut cx, &v, &Dense::new(3)).unwrap_err().to_string().contains("rank"));
    let m = cx.constant(ArrayD::<f32>::zeros(vec![2, 3])).unwrap();
    let err = cx.stack(&[&v, &m], 0).unwrap_err().to_string();
    assert!(err.contains("stack") && err.contains("Pack"), "{err}");
    let err = cx.unstack(&m, 5).unwrap_err().to_string();
    assert!(err.contains("unstack") && err.contains("axis"), "{err}");
    let empty = cx.constant(ArrayD::<f32>::zeros(vec![0, 3])).unwrap();
    assert!(cx.unstack(&empty, 0).is_err());
}

/// Deterministic values in `[-1, 1)` (xorshift), kept `0.2` away from 0.
fn fill(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let v = (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
        v + 0.2 * v.signum()
    })
}

type Build = dyn Fn(&mut Scope, &[Tensor]) -> varscope::Result<Tensor>;

/// `sum(y · w)` for uneven weights `w`.
fn loss(cx: &mut Scope, y: &Tensor) -> varscope::Result<Tensor> {
    let w = ArrayD::from_shape_fn(IxDyn(y.shape()), |ix| {
        1.0 + 0.37 * (ix.slice().iter().enumerate().map(|(i, &v)| (i + 2) * v).sum::<usize>() % 7) as f64
    });
    let w = cx.constant(w)?;
    cx.reduce_sum(&cx.mul(y, &w)?, Axes::All, false)
}

fn loss_at(inputs: &[ArrayD<f64>], f: &Build) -> f64 {
    let g = Graph::new();
    let mut cx = g.scope();
    let ts: Vec<Tensor> = inputs.iter().map(|a| cx.constant(a.clone()).unwrap()).collect();
    let y = f(&mut cx, &ts).unwrap();
    loss(&mut cx, &y).unwrap().value().to_f64_vec()[0]
}

/// Checks `f`'s gradient for each input against central finite differences.
fn check(inputs: Vec<ArrayD<f64>>, f: &Build) {
    let g = Graph::new();
    let mut cx = g.scope();
    let ts: Vec<Tensor> = inputs.iter().map(|a| cx.constant(a.clone()).unwrap()).collect();
    let y = f(&mut cx, &ts).unwrap();
    let l = loss(&mut cx, &y).unwrap();
    let grads = g.gradients(&l, &ts.iter().collect::<Vec<_>>()).unwrap();
    for (i, input) in inputs.iter().enumerate() {
        let analytic = grads[i].to_f64_vec();
        assert_eq!(analytic.len(), input.len(), "input {i}: gradient of the wrong size");
        for (k, &a) in analytic.iter().enumerate() {
            let mut plus = inputs.clone();
            let mut minus = inputs.clone();
            plus[i].as_slice_mut().unwrap()[k] += 1e-6;
            minus[i].as_slice_mut().unwrap()[k] -= 1e-6;
            let numeric = (loss_at(&plus, f) - loss_at(&minus, f)) / 2e-6;
            assert!((numeric - a).abs() < 1e-5 * (1.0 + numeric.abs()), "input {i}[{k}]: {numeric} vs {a}");
        }
    }
}

#[test]
fn maximum_and_minimum_gradients() {
    check(vec![fill(&[2, 3], 1), fill(&[3], 2)], &|cx, t| cx.maximum(&t[0], &t[1]));
    check(vec![fill(&[2, 3], 3), fill(&[2, 1], 4)], &|cx, t| cx.minimum(&t[0], &t[1]));
}

#[test]
fn rsqrt_and_cast_gradients() {
    check(vec![fill(&[4], 5).mapv(|v| v.abs() + 0.5)], &|cx, t| cx.rsqrt(&t[0]));
    check(vec![fill(&[2, 2], 6)], &|cx, t| cx.cast(&t[0], DType::F64));
}

#[test]
fn stack_and_unstack_gradients() {
    check(vec![fill(&[2, 3], 7), fill(&[2, 3], 8)], &|cx, t| cx.stack(&[&t[0], &t[1]], 1));
    check(vec![fill(&[2, 3, 2], 9)], &|cx, t| {
        let parts = cx.unstack(&t[0], 1)?;
        cx.add(&cx.mul(&parts[0], &parts[2])?, &parts[1])
    });
}

#[test]
fn fused_batch_norm_gradients_in_training_and_inference() {
    for training in [true, false] {
        let inputs = vec![
            fill(&[3, 2, 2], 10),
            fill(&[2], 11),
            fill(&[2], 12),
            fill(&[2], 13),
            fill(&[2], 14).mapv(|v| v.abs() + 0.5),
        ];
        check(inputs, &move |cx, t| {
            Ok(cx.fused_batch_norm(&t[0], &t[1], &t[2], &t[3], &t[4], 0.001, training)?.remove(0))
        });
    }
}

#[test]
fn select_gradient_and_dropout_draws() {
    let cond = fill(&[2, 3], 15).mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
    check(vec![cond, fill(&[2, 3], 16), fill(&[3], 17)], &|cx, t| cx.select(&t[0], &t[1], &t[2]));
    // The same graph seed and op name draw the same mask; another name, another.
    let draw = |name: &str| {
        let graph = Graph::with_seed(5);
        let cx = graph.scope();
        cx.named(name).random_uniform(&[64], DType::F64).unwrap().value().to_f64_vec()
    };
    assert_eq!(draw("a"), draw("a"));
    assert_ne!(draw("a"), draw("b"));
    let graph = Graph::new();
    let mut cx = graph.scope();
    let x = cx.constant(ArrayD::<f32>::ones(vec![1000])).unwrap();
    let y = varscope::layers::dropout(&mut cx, &x, 0.25).unwrap();
    let kept = y.value().to_f64_vec().iter().filter(|&&v| v != 0.0).count();
    assert!((650..850).contains(&kept), "{kept} of 1000 kept at rate 0.25");
    assert!(varscope::layers::dropout(&mut cx, &x, 1.0).is_err());
}

#[test]
fn reverse_sequence_gradient_and_errors() {
    let f = |cx: &mut Scope, t: &[Tensor]| {
        let lengths = cx.constant(Value::from(vec![3i32, 0, 1]))?;
        cx.reverse_sequence(&t[0], &lengths, 0, 1)
    };
    check(vec![fill(&[3, 3, 2], 11)], &f);
    let graph = Graph::new();
    let cx = graph.scope();
    let x = cx.constant(ArrayD::<f32>::zeros(vec![2, 3])).unwrap();
    let long = cx.constant(Value::from(vec![1i32, 4])).unwrap();
    let err = cx.reverse_sequence(&x, &long, 1, 0).unwrap_err().to_string();
    assert!(err.contains("ReverseSequence") && err.contains("length 4"), "{err}");
    let few = cx.constant(Value::from(vec![1i32])).unwrap();
    assert!(cx.reverse_sequence(&x, &few, 1, 0).is_err(), "one length for a batch of 2");
    let ok = cx.constant(Value::from(vec![1i32, 2])).unwrap();
    assert!(cx.reverse_sequence(&x, &ok, 1, 1).is_err(), "one axis for both");
}

/// The `[batch, time, units]` rows of `t` as f64 vectors, one per batch row.
fn rows(t: &Tensor) -> Vec<Vec<f64>> {
    let v = t.value().to_f64_vec();
    let per = v.len() / t.shape()[0];
    v.chunks(per).map(<[f64]>::to_vec).collect()
}

/// With `sequence_length`, each row of a bidirectional RNN is what the same
/// RNN (same seed, so same weights) computes on that row alone, cut to its
/// length, with zeros after it; the reversals are TF's `ReverseSequence` nodes.
#[test]
fn bidirectional_rnns_with_lengths_match_each_row_alone() {
    use varscope::layers::{GruCell, bidirectional_dynamic_rnn, static_bidirectional_rnn};
    let (batch, time, depth, units) = (2, 4, 3, 5);
    let x = fill(&[batch, time, depth], 5).mapv(|v| v as f32);
    let lengths = [2usize, 4];
    let run = |x: ArrayD<f32>, lens: Option<Vec<i32>>| {
        let graph = Graph::with_seed(9);
        let mut cx = graph.scope();
        let xt = cx.constant(x).unwrap();
        let l = lens.map(|l| cx.constant(Value::from(l)).unwrap());
        let [f, b] = bidirectional_dynamic_rnn(
            &mut cx,
            &GruCell::new(units),
            &GruCell::new(units),
            &xt,
            DType::F32,
            l.as_ref(),
            false,
            None,
        )
        .unwrap();
        let xs = cx.unstack(&xt, 1).unwrap();
        let scope = Some(varscope::VarScope::new("sbi"));
        let (outs, _, _) = static_bidirectional_rnn(
            &mut cx,
            &GruCell::new(units),
            &GruCell::new(units),
            &xs,
            DType::F32,
            l.as_ref(),
            scope,
        )
        .unwrap();
        let names: Vec<String> =
            graph.nodes().into_iter().filter(|n| n.op_type == "ReverseSequence").map(|n| n.name).collect();
        let statics: Vec<Vec<Vec<f64>>> = outs.iter().map(rows).collect();
        (rows(&f.outputs[0]), rows(&b.outputs[0]), statics, names)
    };
    let (fw, bw, st, names) = run(x.clone(), Some(lengths.iter().map(|&l| l as i32).collect()));
    assert_eq!(
        names,
        ["bidirectional_rnn/bw/ReverseSequence", "ReverseSequence", "sbi/bw/ReverseSequence", "ReverseSequence_1"]
    );
    for (row, &len) in lengths.iter().enumerate() {
        let alone = ArrayD::from_shape_fn(IxDyn(&[1, len, depth]), |ix| x[[row, ix[1], ix[2]]]);
        let (fw1, bw1, st1, _) = run(alone, None);
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(&fw[row][..len * units], &fw1[0]), "row {row}: forward outputs");
        assert!(close(&bw[row][..len * units], &bw1[0]), "row {row}: backward outputs");
        assert!(
            fw[row][len * units..].iter().chain(&bw[row][len * units..]).all(|&v| v == 0.0),
            "row {row}: past its length"
        );
        for t in 0..time {
            let got = &st[t][row];
            if t < len {
                assert!(close(got, &st1[t][0]), "row {row} step {t}: static outputs");
            } else {
                assert!(got.iter().all(|&v| v == 0.0), "row {row} step {t}: past its length");
            }
        }
    }
}

#[test]
fn dropout_layer_is_named_as_tf_and_drops_only_in_training() {
    use varscope::layers::{Dropout, dropout_layer};
    let graph = Graph::new();
    let mut cx = graph.scope();
    let x = cx.constant(ArrayD::<f32>::ones(vec![40, 50])).unwrap();
    let a = dropout_layer(&mut cx, &x, &Dropout::new(0.5)).unwrap();
    let b = dropout_layer(&mut cx, &x, &Dropout::new(0.5).training(true)).unwrap();
    let c = dropout_layer(&mut cx, &x, &Dropout::new(0.5).training(true).name("drop")).unwrap();
    let d = dropout_layer(&mut cx, &x, &Dropout::new(0.0).training(true)).unwrap();
    // What TF 2.21 names them (tf.compat.v1.layers.dropout, TF_USE_LEGACY_KERAS=1).
    let names = [a.name(), b.name(), c.name(), d.name()];
    assert_eq!(
        names,
        ["dropout/Identity:0", "dropout_1/dropout/SelectV2:0", "drop/dropout/SelectV2:0", "dropout_2/Identity:0"]
    );
    assert!(a.value().to_f64_vec().iter().all(|&v| v == 1.0));
    let kept = b.value().to_f64_vec();
    assert!(kept.iter().all(|&v| v == 0.0 || v == 2.0));
    let share = kept.iter().filter(|&&v| v == 2.0).count() as f64 / kept.len() as f64;
    assert!((0.4..0.6).contains(&share), "kept {share} of the inputs at rate 0.5");
    let err = dropout_layer(&mut cx, &x, &Dropout::new(1.0).training(true)).unwrap_err().to_string();
    assert!(err.contains("rate 1"), "{err}");
}
