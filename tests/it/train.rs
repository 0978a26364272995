//! Training: placeholders, feeds and fetches, train ops run many times on a
//! graph built once, clipping, schedules, slot naming and errors.

use varscope::ops::Axes;
use varscope::train::{
    AdagradOptimizer, AdamOptimizer, Gradient, GradientDescentOptimizer, Minimize, MomentumOptimizer, RMSPropOptimizer,
    clip_by_global_norm, exponential_decay, get_or_create_global_step, piecewise_constant, polynomial_decay,
};
use varscope::{DType, ErrorKind, Graph, Init, Session, Value, VarScope, VarSpec};

fn vector(x: &[f32]) -> Value {
    Value::from(x.to_vec())
}

/// A linear regression `y = x . w + b` fitted by feeding batches into
/// placeholders: the graph is built once, then only run.
#[test]
fn placeholders_feeds_and_a_train_op_run_many_times_without_rebuilding() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let x = cx.placeholder("x", Value::filled(DType::F32, &[4, 2], 0.0).unwrap()).unwrap();
    let y = cx.placeholder("y", Value::filled(DType::F32, &[4, 1], 0.0).unwrap()).unwrap();
    let w = cx.get_variable("w", VarSpec::new().shape([2, 1]).init(Init::Zeros)).unwrap();
    let b = cx.get_variable("b", VarSpec::new().shape([1]).init(Init::Zeros)).unwrap();
    let pred = cx.add(&cx.matmul(&x, &w).unwrap(), &b).unwrap();
    let err = cx.sub(&pred, &y).unwrap();
    let loss = cx.named("loss").reduce_mean(&cx.mul(&err, &err).unwrap(), Axes::All, false).unwrap();
    let step = get_or_create_global_step(&cx).unwrap();
    let train =
        GradientDescentOptimizer::new(0.1).minimize(&mut cx, &loss, Minimize::new().global_step(&step)).unwrap();
    // Building trained nothing.
    assert_eq!(w.value().to_f64_vec(), vec![0.0, 0.0]);
    assert_eq!(step.value().to_f64_vec(), vec![0.0]);
    let nodes = graph.nodes().len();

    // y = 2 x0 - x1 + 0.5
    let xs = [[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]];
    let feed_x = Value::from(varscope::ndarray::ArrayD::from_shape_vec(vec![4, 2], xs.concat()).unwrap());
    let ys: Vec<f32> = xs.iter().map(|r| 2.0 * r[0] - r[1] + 0.5).collect();
    let feed_y = Value::from(varscope::ndarray::ArrayD::from_shape_vec(vec![4, 1], ys).unwrap());
    let sess = Session::new(&graph);
    let feeds = [(&x, feed_x.clone()), (&y, feed_y.clone())];
    let first = sess.run(&[&loss], &feeds).unwrap()[0].to_f64_vec()[0];
    for _ in 0..500 {
        sess.run(&[&train], &feeds).unwrap();
    }
    let last = sess.run(&[&loss], &feeds).unwrap()[0].to_f64_vec()[0];
    assert!(first > 1.0 && last < 1e-4, "loss {first} -> {last}");
    let w = w.value().to_f64_vec();
    assert!((w[0] - 2.0).abs() < 1e-2 && (w[1] + 1.0).abs() < 1e-2, "{w:?}");
    assert!((b.value().to_f64_vec()[0] - 0.5).abs() < 1e-2);
    assert_eq!(step.value().to_f64_vec(), vec![500.0]);
    // No node was added by running, and the loss can still be fetched with other feeds.
    assert_eq!(graph.nodes().len(), nodes);
    let zero_y = Value::filled(DType::F32, &[4, 1], 0.0).unwrap();
    let other = sess.run(&[&loss], &[(&x, feed_x), (&y, zero_y)]).unwrap()[0].to_f64_vec()[0];
    assert!(other > 1.0);
    // A placeholder the run needs but is not fed is an error naming it.
    let err = sess.run(&[&loss], &[]).unwrap_err();
    assert!(err.to_string().contains("placeholder `x`"), "{err}");
}

#[test]
fn each_optimizer_matches_its_update_formula_over_several_runs() {
    // One scalar float64 w = 1 with loss w², g = 2w; the formulas of
    // OPTIM-FORMAT.md in f64, with TF's float32 hyperparameters (`h`) and
    // float32 beta powers.
    fn h(x: f64) -> f64 {
        f64::from(x as f32)
    }
    type Build = fn(&mut varscope::Scope, &varscope::Tensor) -> varscope::Tensor;
    type Reference = fn(&mut [f64; 4], f64) -> f64;
    let cases: [(&str, Build, Reference); 4] = [
        (
            "momentum",
            |cx, l| MomentumOptimizer::new(0.1, 0.9).minimize(cx, l, Minimize::new()).unwrap(),
            |s, w| {
                s[0] = h(0.9) * s[0] + 2.0 * w;
                w - h(0.1) * s[0]
            },
        ),
        (
            "adam",
            |cx, l| AdamOptimizer::new(0.1).minimize(cx, l, Minimize::new()).unwrap(),
            |s, w| {
                let g = 2.0 * w;
                if s[2] == 0.0 {
                    (s[2], s[3]) = (h(0.9), h(0.999));
                }
                let lr = h(0.1) * (1.0 - s[3]).sqrt() / (1.0 - s[2]);
                s[0] += (g - s[0]) * (1.0 - h(0.9));
                s[1] += (g * g - s[1]) * (1.0 - h(0.999));
                (s[2], s[3]) = (h(s[2] * h(0.9)), h(s[3] * h(0.999)));
                w - lr * s[0] / (s[1].sqrt() + h(1e-8))
            },
        ),
        (
            "adagrad",
            |cx, l| AdagradOptimizer::new(0.1).minimize(cx, l, Minimize::new()).unwrap(),
            |s, w| {
                let g = 2.0 * w;
                if s[0] == 0.0 {
                    s[0] = 0.1;
                }
                s[0] += g * g;
                w - h(0.1) * g / s[0].sqrt()
            },
        ),
        (
            "rmsprop",
            |cx, l| RMSPropOptimizer::new(0.01).momentum(0.5).minimize(cx, l, Minimize::new()).unwrap(),
            |s, w| {
                let g = 2.0 * w;
                if s[0] == 0.0 {
                    s[0] = 1.0;
                }
                s[0] += (g * g - s[0]) * (1.0 - h(0.9));
                s[1] = h(0.5) * s[1] + h(0.01) * g / (s[0] + h(1e-10)).sqrt();
                w - s[1]
            },
        ),
    ];
    for (what, build, rule) in cases {
        let graph = Graph::new();
        let mut cx = graph.scope();
        let w = cx.get_variable("w", VarSpec::new().shape([]).dtype(DType::F64).init(Init::constant(1.0))).unwrap();
        let loss = cx.mul(&w, &w).unwrap();
        let loss = cx.cast(&loss, DType::F32).unwrap();
        let train = build(&mut cx, &loss);
        let sess = Session::new(&graph);
        let (mut state, mut want) = ([0.0; 4], 1.0);
        for k in 0..5 {
            sess.run(&[&train], &[]).unwrap();
            want = rule(&mut state, want);
            let got = w.value().to_f64_vec()[0];
            // The same float64 operations, some in another order.
            assert!((got - want).abs() < 1e-12, "{what} step {k}: {got} vs {want}");
        }
    }
}

#[test]
fn slots_are_named_as_tf_names_them_and_are_ordinary_variables() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let a = cx.variable_scope("net").unwrap().get_variable("a", VarSpec::new().shape([2])).unwrap();
    let loss = cx.reduce_sum(&cx.mul(&a, &a).unwrap(), Axes::All, false).unwrap();
    let mut adam = AdamOptimizer::new(0.1);
    {
        let mut train = cx.variable_scope("train").unwrap();
        let op = adam.minimize(&mut train, &loss, Minimize::new()).unwrap();
        assert_eq!(op.name(), "train/Adam:0");
    }
    let m = adam.get_slot(&a, "m").unwrap();
    assert_eq!(m.name(), "train/net/a/Adam:0");
    assert_eq!(adam.get_slot(&a, "v").unwrap().name(), "train/net/a/Adam_1:0");
    let powers: Vec<String> = adam.non_slot_variables().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(powers, ["train/beta1_power:0", "train/beta2_power:0"]);
    assert!(!m.trainable());
    // An ordinary variable: in the global collection a checkpoint saves.
    assert!(graph.global_variables().iter().any(|v| v.same(&m)));
    let mut rms = RMSPropOptimizer::new(0.1).centered(true).name("R");
    rms.minimize(&mut cx, &loss, Minimize::new().name("step")).unwrap();
    let names: Vec<String> =
        ["rms", "mg", "momentum"].iter().map(|n| rms.get_slot(&a, n).unwrap().name().to_string()).collect();
    assert_eq!(names, ["net/a/R:0", "net/a/R_1:0", "net/a/R_2:0"]);
    assert_eq!(rms.get_slot(&a, "rms").unwrap().value().to_f64_vec(), vec![1.0, 1.0]);
}

#[test]
fn non_trainable_and_integer_variables_are_skipped() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let w = cx.get_variable("w", VarSpec::new().shape([2]).init(Init::constant(1.0))).unwrap();
    let frozen = cx.get_variable("f", VarSpec::new().shape([2]).init(Init::constant(2.0)).trainable(false)).unwrap();
    let unused = cx.get_variable("unused", VarSpec::new().shape([2])).unwrap();
    let count = cx.get_variable("count", VarSpec::new().shape([]).dtype(DType::I32)).unwrap();
    let loss = cx.reduce_sum(&cx.mul(&w, &frozen).unwrap(), Axes::All, false).unwrap();
    let opt = MomentumOptimizer::new(0.1, 0.9);
    let grads = opt.compute_gradients(&cx, &loss, Some(&[w.clone(), unused.clone(), count.clone()])).unwrap();
    assert!(matches!(&grads[0].0, Some(Gradient::Dense(g)) if g.value().to_f64_vec() == vec![2.0, 2.0]));
    assert!(grads[1].0.is_none() && grads[2].0.is_none());
    let mut opt = opt;
    let train = opt.minimize(&mut cx, &loss, Minimize::new()).unwrap();
    assert!(opt.get_slot(&w, "momentum").is_some());
    assert!(opt.get_slot(&frozen, "momentum").is_none() && opt.get_slot(&unused, "momentum").is_none());
    Session::new(&graph).run(&[&train], &[]).unwrap();
    assert_eq!(frozen.value().to_f64_vec(), vec![2.0, 2.0]);
    let w1 = w.value().to_f64_vec();
    assert!((w1[0] - (1.0 - 0.2f32 as f64)).abs() < 1e-6, "{w1:?}");
}

#[test]
fn a_gathered_variable_gets_sparse_updates_of_its_looked_up_rows() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let table = cx.get_variable("table", VarSpec::new().shape([3, 2]).init(Init::constant(1.0))).unwrap();
    let ids = cx.constant(Value::from(vec![2i32, 0, 2])).unwrap();
    let rows = cx.gather(&table, &ids, 0).unwrap();
    let loss = cx.reduce_sum(&rows, Axes::All, false).unwrap();
    let mut opt = MomentumOptimizer::new(0.5, 0.5);
    let grads = opt.compute_gradients(&cx, &loss, None).unwrap();
    assert!(matches!(&grads[0].0, Some(Gradient::Sparse { indices, .. }) if indices.same(&ids)));
    let train = opt.apply_gradients(&mut cx, &grads, None, None).unwrap();
    let sess = Session::new(&graph);
    sess.run(&[&train], &[]).unwrap();
    // Row 2 was looked up twice (gradient 2), row 0 once, row 1 never.
    assert_eq!(table.value().to_f64_vec(), vec![0.5, 0.5, 1.0, 1.0, 0.0, 0.0]);
    sess.run(&[&train], &[]).unwrap();
    let acc = opt.get_slot(&table, "momentum").unwrap().value().to_f64_vec();
    assert_eq!(acc, vec![1.5, 1.5, 0.0, 0.0, 3.0, 3.0]);
}

#[test]
fn clip_by_global_norm_scales_gradients_that_an_optimizer_then_applies() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let a = cx.get_variable("a", VarSpec::new().shape([2]).init(Init::constant(0.0))).unwrap();
    let b = cx.get_variable("b", VarSpec::new().shape([1]).init(Init::constant(0.0))).unwrap();
    let ca = cx.constant(vector(&[3.0, 0.0])).unwrap();
    let cb = cx.constant(vector(&[4.0])).unwrap();
    let la = cx.reduce_sum(&cx.mul(&a, &ca).unwrap(), Axes::All, false).unwrap();
    let lb = cx.reduce_sum(&cx.mul(&b, &cb).unwrap(), Axes::All, false).unwrap();
    let loss = cx.add(&la, &lb).unwrap();
    let mut opt = GradientDescentOptimizer::new(1.0);
    let grads = opt.compute_gradients(&cx, &loss, None).unwrap();
    let dense: Vec<_> = grads.iter().map(|(g, _)| g.as_ref().and_then(Gradient::dense).unwrap().clone()).collect();
    let (clipped, norm) = clip_by_global_norm(&mut cx, &dense.iter().collect::<Vec<_>>(), 2.5).unwrap();
    assert_eq!(norm.value().to_f64_vec(), vec![5.0]);
    let clipped_gv: Vec<_> = clipped
        .into_iter()
        .zip(grads.iter().map(|(_, v)| v.clone()))
        .map(|(g, v)| (Some(Gradient::Dense(g)), v))
        .collect();
    let train = opt.apply_gradients(&mut cx, &clipped_gv, None, None).unwrap();
    Session::new(&graph).run(&[&train], &[]).unwrap();
    assert_eq!(a.value().to_f64_vec(), vec![-1.5, 0.0]);
    assert_eq!(b.value().to_f64_vec(), vec![-2.0]);
    // Under the threshold nothing changes.
    let (same, _) = clip_by_global_norm(&mut cx, &[&ca, &cb], 10.0).unwrap();
    assert_eq!(same[0].value().to_f64_vec(), vec![3.0, 0.0]);
    assert!(clip_by_global_norm(&mut cx, &[], 1.0).is_err());
    assert!(clip_by_global_norm(&mut cx, &[&ca], -1.0).is_err());
}

#[test]
fn schedules_follow_the_global_step_in_every_run() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let step = get_or_create_global_step(&cx).unwrap();
    let w = cx.get_variable("w", VarSpec::new().shape([]).init(Init::constant(0.0))).unwrap();
    let lr = piecewise_constant(&cx, &step, &[2], &[1.0, 0.5]).unwrap();
    let decayed = exponential_decay(&cx, 1.0, &step, 1.0, 0.5, false).unwrap();
    let poly = polynomial_decay(&cx, 1.0, &step, 4.0, 0.2, 1.0).unwrap();
    let loss = cx.mul(&w, &cx.constant(-1.0f32).unwrap()).unwrap(); // gradient -1: w += lr
    let train =
        GradientDescentOptimizer::new(&lr).minimize(&mut cx, &loss, Minimize::new().global_step(&step)).unwrap();
    let sess = Session::new(&graph);
    let mut seen = Vec::new();
    for _ in 0..4 {
        let v = sess.run(&[&decayed, &poly], &[]).unwrap();
        seen.push((v[0].to_f64_vec()[0], v[1].to_f64_vec()[0]));
        sess.run(&[&train], &[]).unwrap();
    }
    // Steps 0, 1, 2 train at 1.0, step 3 at 0.5.
    assert_eq!(w.value().to_f64_vec(), vec![3.5]);
    let want = [(1.0, 1.0), (0.5, 0.8), (0.25, 0.6), (0.125, 0.4)];
    for ((d, p), (wd, wp)) in seen.iter().zip(want) {
        assert!((d - wd).abs() < 1e-6 && (p - wp).abs() < 1e-6, "{seen:?}");
    }
    assert!(piecewise_constant(&cx, &step, &[2, 1], &[1.0, 0.5, 0.1]).is_err());
    assert!(piecewise_constant(&cx, &w, &[2], &[1.0, 0.5]).is_err());
    assert!(exponential_decay(&cx, 1.0, &step, 0.0, 0.5, false).is_err());
}

#[test]
fn errors_are_typed_and_name_the_variable() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let w = cx.get_variable("w", VarSpec::new().shape([2])).unwrap();
    let other = cx.get_variable("other", VarSpec::new().shape([2])).unwrap();
    let loss = cx.reduce_sum(&w, Axes::All, false).unwrap();
    // No gradient for any variable of the var_list.
    let err = AdamOptimizer::new(0.1)
        .minimize(&mut cx, &loss, Minimize::new().var_list(std::slice::from_ref(&other)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("`other`"), "{err}");
    // A gradient that does not fit its variable.
    let bad = cx.constant(vector(&[1.0, 2.0, 3.0])).unwrap();
    let err = GradientDescentOptimizer::new(0.1)
        .apply_gradients(&mut cx, &[(Some(Gradient::Dense(bad)), w.clone())], None, None)
        .unwrap_err();
    assert!(err.to_string().contains("variable `w`"), "{err}");
    // A float global step.
    let err =
        GradientDescentOptimizer::new(0.1).minimize(&mut cx, &loss, Minimize::new().global_step(&other)).unwrap_err();
    assert!(err.to_string().contains("global step `other`"), "{err}");
    // Nothing was left open or half-built: the scopes are back at the root.
    assert_eq!(cx.current_name_scope(), "");
    let _ = VarScope::new("x");
}

#[test]
fn two_lookups_of_one_table_are_one_sparse_gradient_and_untouched_rows_stay() {
    for adagrad in [false, true] {
        let graph = Graph::new();
        let mut cx = graph.scope();
        let table = cx.get_variable("table", VarSpec::new().shape([3, 2]).init(Init::constant(1.0))).unwrap();
        let first = cx.gather(&table, &cx.constant(Value::from(vec![0i32])).unwrap(), 0).unwrap();
        let second = cx.gather(&table, &cx.constant(Value::from(vec![0i32, 2])).unwrap(), 0).unwrap();
        let loss = cx
            .add(&cx.reduce_sum(&first, Axes::All, false).unwrap(), &cx.reduce_sum(&second, Axes::All, false).unwrap())
            .unwrap();
        let train = if adagrad {
            // Row 1 keeps a zero accumulator: a dense update would make it NaN (0 / sqrt(0)).
            let mut opt = AdagradOptimizer::new(0.5).initial_accumulator_value(0.0);
            let grads = opt.compute_gradients(&cx, &loss, None).unwrap();
            assert!(
                matches!(&grads[0].0, Some(Gradient::Sparse { indices, .. }) if indices.value().to_f64_vec() == vec![0.0, 0.0, 2.0])
            );
            opt.apply_gradients(&mut cx, &grads, None, None).unwrap()
        } else {
            GradientDescentOptimizer::new(0.5).minimize(&mut cx, &loss, Minimize::new()).unwrap()
        };
        Session::new(&graph).run(&[&train], &[]).unwrap();
        // Row 0 has gradient 2 (two lookups), row 2 gradient 1, row 1 none.
        let want = if adagrad { vec![0.5, 0.5, 1.0, 1.0, 0.5, 0.5] } else { vec![0.0, 0.0, 1.0, 1.0, 0.5, 0.5] };
        assert_eq!(table.value().to_f64_vec(), want, "adagrad: {adagrad}");
    }
}
