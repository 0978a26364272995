//! Gradients: every op against central finite differences on random shapes
//! (f64), shared weights, gradient descent and clearing the record.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use varscope::ndarray::{ArrayD, Dimension, IxDyn};
use varscope::ops::{Axes, Padding};
use varscope::{Graph, Init, Reuse, Scope, Tensor, Value, VarScope, VarSpec};

type Build<'a> = &'a dyn Fn(&mut Scope, &[Tensor]) -> varscope::Result<Tensor>;

const EPS: f64 = 1e-6;

/// Deterministic values in `[-1, 1)` from a seed (xorshift).
fn fill(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
}

/// Values at least 0.2 away from zero (clear of kinks such as relu's).
fn away(a: ArrayD<f64>) -> ArrayD<f64> {
    a.mapv(|v| v + 0.2 * v.signum())
}

/// Values in `[0.5, 1.5)`.
fn positive(a: ArrayD<f64>) -> ArrayD<f64> {
    a.mapv(|v| v.abs() + 0.5)
}

/// `sum(y * w)` for fixed, uneven weights `w`, so every output element
/// contributes differently.
fn weighted_loss(cx: &mut Scope, y: &Tensor) -> varscope::Result<Tensor> {
    let w = ArrayD::from_shape_fn(IxDyn(y.shape()), |ix| {
        let k: usize = ix.slice().iter().enumerate().map(|(i, &v)| (i + 2) * v).sum();
        1.0 + 0.37 * (k % 7) as f64
    });
    let w = cx.constant(w)?;
    let wy = cx.mul(y, &w)?;
    cx.reduce_sum(&wy, Axes::All, false)
}

fn loss_at(inputs: &[ArrayD<f64>], f: Build<'_>) -> varscope::Result<f64> {
    let g = Graph::new();
    let mut cx = g.scope();
    let ts = inputs.iter().map(|a| cx.constant(a.clone())).collect::<varscope::Result<Vec<_>>>()?;
    let y = f(&mut cx, &ts)?;
    Ok(weighted_loss(&mut cx, &y)?.value().to_f64_vec()[0])
}

fn fail(e: varscope::Error) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Checks the gradients of `f` with respect to each input against central
/// finite differences.
fn check(inputs: Vec<ArrayD<f64>>, f: Build<'_>) -> Result<(), TestCaseError> {
    let g = Graph::new();
    let mut cx = g.scope();
    let ts = inputs.iter().map(|a| cx.constant(a.clone())).collect::<varscope::Result<Vec<_>>>().map_err(fail)?;
    let y = f(&mut cx, &ts).map_err(fail)?;
    let loss = weighted_loss(&mut cx, &y).map_err(fail)?;
    let refs: Vec<&Tensor> = ts.iter().collect();
    let grads = g.gradients(&loss, &refs).map_err(fail)?;
    for (k, a) in inputs.iter().enumerate() {
        let analytic = grads[k].to_f64_vec();
        prop_assert_eq!(grads[k].shape(), a.shape());
        for (j, &want) in analytic.iter().enumerate() {
            let mut plus = inputs.clone();
            let mut minus = inputs.clone();
            if let Some(v) = plus[k].iter_mut().nth(j) {
                *v += EPS;
            }
            if let Some(v) = minus[k].iter_mut().nth(j) {
                *v -= EPS;
            }
            let numeric = (loss_at(&plus, f).map_err(fail)? - loss_at(&minus, f).map_err(fail)?) / (2.0 * EPS);
            let tol = 1e-5 * (1.0 + numeric.abs());
            prop_assert!(
                (numeric - want).abs() <= tol,
                "input {} element {}: analytic {} vs numeric {}",
                k,
                j,
                want,
                numeric
            );
        }
    }
    Ok(())
}

/// `base` with the dims whose bit is set in `mask` turned to 1 and the
/// first `drop` dims dropped: a shape that broadcasts against `base`.
fn broadcastable(base: &[usize], mask: u8, drop: usize) -> Vec<usize> {
    base.iter().enumerate().skip(drop.min(base.len())).map(|(i, &d)| if mask >> i & 1 == 1 { 1 } else { d }).collect()
}

fn small_shape(max_rank: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..4, 0..=max_rank)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn binary_ops_with_broadcasting(
        base in prop::collection::vec(1usize..4, 1..4),
        (ma, mb) in (any::<u8>(), any::<u8>()),
        (da, db) in (0usize..3, 0usize..3),
        op in 0usize..5,
        seed in any::<u64>(),
    ) {
        let (sa, sb) = (broadcastable(&base, ma, da), broadcastable(&base, mb, db));
        let (mut a, mut b) = (fill(&sa, seed), fill(&sb, seed ^ 1));
        if op == 3 { b = away(b); }
        if op == 4 { a = positive(a); }
        let f = move |cx: &mut Scope, t: &[Tensor]| match op {
            0 => cx.add(&t[0], &t[1]),
            1 => cx.sub(&t[0], &t[1]),
            2 => cx.mul(&t[0], &t[1]),
            3 => cx.div(&t[0], &t[1]),
            _ => cx.pow(&t[0], &t[1]),
        };
        check(vec![a, b], &f)?;
    }

    #[test]
    fn unary_ops(shape in small_shape(3), op in 0usize..8, seed in any::<u64>()) {
        let x = if matches!(op, 2 | 3) { positive(fill(&shape, seed)) } else { away(fill(&shape, seed)) };
        let f = move |cx: &mut Scope, t: &[Tensor]| match op {
            0 => cx.neg(&t[0]),
            1 => cx.exp(&t[0]),
            2 => cx.log(&t[0]),
            3 => cx.sqrt(&t[0]),
            4 => cx.relu(&t[0]),
            5 => cx.sigmoid(&t[0]),
            6 => cx.tanh(&t[0]),
            _ => cx.identity(&t[0]),
        };
        check(vec![x], &f)?;
    }

    #[test]
    fn matmul_with_transposes(m in 1usize..4, k in 1usize..4, n in 1usize..4, ta: bool, tb: bool, seed in any::<u64>()) {
        let sa = if ta { [k, m] } else { [m, k] };
        let sb = if tb { [n, k] } else { [k, n] };
        let f = move |cx: &mut Scope, t: &[Tensor]| cx.matmul_t(&t[0], &t[1], ta, tb);
        check(vec![fill(&sa, seed), fill(&sb, seed ^ 7)], &f)?;
    }

    #[test]
    fn batch_matmul_broadcasts_batches(
        batch in prop::collection::vec(1usize..3, 0..3),
        (ma, mb) in (any::<u8>(), any::<u8>()),
        (m, k, n) in (1usize..3, 1usize..4, 1usize..3),
        adj_x: bool,
        adj_y: bool,
        seed in any::<u64>(),
    ) {
        let mut sa = broadcastable(&batch, ma, 0);
        sa.extend(if adj_x { [k, m] } else { [m, k] });
        let mut sb = broadcastable(&batch, mb, 0);
        sb.extend(if adj_y { [n, k] } else { [k, n] });
        let f = move |cx: &mut Scope, t: &[Tensor]| cx.batch_matmul(&t[0], &t[1], adj_x, adj_y);
        check(vec![fill(&sa, seed), fill(&sb, seed ^ 3)], &f)?;
    }

    #[test]
    fn conv2d_same_and_valid(
        (n, h, w) in (1usize..3, 1usize..7, 1usize..7),
        (cin, cout) in (1usize..3, 1usize..3),
        (kh, kw) in (1usize..4, 1usize..4),
        (sh, sw) in (1usize..3, 1usize..3),
        same: bool,
        seed in any::<u64>(),
    ) {
        prop_assume!(same || (kh <= h && kw <= w));
        let padding = if same { Padding::Same } else { Padding::Valid };
        let f = move |cx: &mut Scope, t: &[Tensor]| cx.conv2d(&t[0], &t[1], [sh, sw], padding);
        check(vec![fill(&[n, h, w, cin], seed), fill(&[kh, kw, cin, cout], seed ^ 5)], &f)?;
    }

    #[test]
    fn pooling(
        (n, h, w, c) in (1usize..3, 1usize..7, 1usize..7, 1usize..3),
        (kh, kw) in (1usize..4, 1usize..4),
        (sh, sw) in (1usize..3, 1usize..3),
        same: bool,
        max: bool,
        seed in any::<u64>(),
    ) {
        prop_assume!(same || (kh <= h && kw <= w));
        let padding = if same { Padding::Same } else { Padding::Valid };
        let f = move |cx: &mut Scope, t: &[Tensor]| {
            if max { cx.max_pool(&t[0], [kh, kw], [sh, sw], padding) } else { cx.avg_pool(&t[0], [kh, kw], [sh, sw], padding) }
        };
        check(vec![fill(&[n, h, w, c], seed)], &f)?;
    }

    #[test]
    fn bias_softmax_and_cross_entropy(
        shape in prop::collection::vec(1usize..4, 1..4),
        op in 0usize..5,
        seed in any::<u64>(),
    ) {
        let x = fill(&shape, seed).mapv(|v| 3.0 * v);
        let last = shape[shape.len() - 1];
        let labels = positive(fill(&shape, seed ^ 9));
        match op {
            0 => {
                prop_assume!(shape.len() >= 2);
                let f = |cx: &mut Scope, t: &[Tensor]| cx.bias_add(&t[0], &t[1]);
                check(vec![x, fill(&[last], seed ^ 2)], &f)?;
            }
            1 => check(vec![x], &|cx: &mut Scope, t: &[Tensor]| cx.softmax(&t[0]))?,
            2 => check(vec![x], &|cx: &mut Scope, t: &[Tensor]| cx.log_softmax(&t[0]))?,
            3 => check(vec![labels.mapv(|v| v - 0.5), x], &|cx: &mut Scope, t: &[Tensor]| {
                cx.sigmoid_cross_entropy_with_logits(&t[0], &t[1])
            })?,
            _ => check(vec![labels, x], &|cx: &mut Scope, t: &[Tensor]| {
                cx.softmax_cross_entropy_with_logits(&t[0], &t[1])
            })?,
        }
    }

    #[test]
    fn reductions(
        shape in prop::collection::vec(1usize..4, 1..4),
        mask in any::<u8>(),
        all: bool,
        negative: bool,
        keepdims: bool,
        op in 0usize..3,
        seed in any::<u64>(),
    ) {
        let rank = shape.len() as isize;
        let axes = if all {
            Axes::All
        } else {
            Axes::List((0..rank).filter(|i| mask >> i & 1 == 1).map(|i| if negative { i - rank } else { i }).collect())
        };
        let f = move |cx: &mut Scope, t: &[Tensor]| match op {
            0 => cx.reduce_sum(&t[0], axes.clone(), keepdims),
            1 => cx.reduce_mean(&t[0], axes.clone(), keepdims),
            _ => cx.reduce_max(&t[0], axes.clone(), keepdims),
        };
        check(vec![fill(&shape, seed)], &f)?;
    }

    #[test]
    fn reshape_transpose_slice(
        shape in prop::collection::vec(1usize..4, 1..4),
        perm in Just(vec![0usize, 1, 2]).prop_shuffle(),
        begin_seed in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let x = fill(&shape, seed);
        let total = x.len() as isize;
        check(vec![x.clone()], &|cx: &mut Scope, t: &[Tensor]| cx.reshape(&t[0], &[-1, total]))?;
        let perm: Vec<usize> = perm.into_iter().filter(|&p| p < shape.len()).collect();
        check(vec![x.clone()], &|cx: &mut Scope, t: &[Tensor]| cx.transpose(&t[0], &perm))?;
        let begin: Vec<usize> = shape.iter().enumerate().map(|(i, &d)| (begin_seed >> (4 * i)) as usize % d).collect();
        let size: Vec<isize> =
            shape.iter().zip(&begin).enumerate().map(|(i, (&d, &b))| if i == 0 { -1 } else { (d - b) as isize }).collect();
        check(vec![x], &|cx: &mut Scope, t: &[Tensor]| cx.slice(&t[0], &begin, &size))?;
    }

    #[test]
    fn concat_and_split(
        shape in prop::collection::vec(1usize..4, 1..4),
        extra in 1usize..3,
        axis_pick in any::<u8>(),
        seed in any::<u64>(),
    ) {
        let axis = axis_pick as usize % shape.len();
        let mut other = shape.clone();
        other[axis] += extra;
        let f = move |cx: &mut Scope, t: &[Tensor]| cx.concat(&[&t[0], &t[1]], axis as isize);
        check(vec![fill(&shape, seed), fill(&other, seed ^ 4)], &f)?;
        let mut whole = shape.clone();
        whole[axis] *= 2;
        // Only the second part reaches the loss: the first gets zeros.
        let f = move |cx: &mut Scope, t: &[Tensor]| {
            let parts = cx.split(&t[0], 2, axis as isize)?;
            let twice = cx.add(&parts[1], &parts[1])?;
            cx.identity(&twice)
        };
        check(vec![fill(&whole, seed)], &f)?;
    }

    #[test]
    fn gather_sums_repeated_indices(
        (rows, cols) in (1usize..5, 1usize..4),
        picks in prop::collection::vec(any::<u16>(), 1..6),
        axis1: bool,
        seed in any::<u64>(),
    ) {
        let dim = if axis1 { cols } else { rows };
        let ids: Vec<i32> = picks.iter().map(|&p| (p as usize % dim) as i32).collect();
        let f = move |cx: &mut Scope, t: &[Tensor]| {
            let idx = cx.constant(ArrayD::from_shape_vec(IxDyn(&[ids.len()]), ids.clone()).map_err(|e| {
                varscope::Error::InvalidArgument { message: e.to_string() }
            })?)?;
            cx.gather(&t[0], &idx, if axis1 { 1 } else { 0 })
        };
        check(vec![fill(&[rows, cols], seed)], &f)?;
    }

    /// The layer ops: Abs, Square, LeakyRelu, Elu, Softplus, Squeeze, ExpandDims.
    #[test]
    fn layer_ops(shape in small_shape(3), op in 0usize..7, seed in any::<u64>()) {
        let x = away(fill(&shape, seed));
        let rank = shape.len() as isize;
        let f = move |cx: &mut Scope, t: &[Tensor]| match op {
            0 => cx.abs(&t[0]),
            1 => cx.square(&t[0]),
            2 => cx.leaky_relu(&t[0], 0.2),
            3 => cx.elu(&t[0]),
            4 => cx.softplus(&t[0]),
            5 => {
                let e = cx.expand_dims(&t[0], -1)?;
                cx.squeeze(&e, &[rank])
            }
            _ => {
                let e = cx.expand_dims(&t[0], 0)?;
                cx.squeeze(&e, &[])
            }
        };
        check(vec![x], &f)?;
    }

    /// The ops of cifar10.py: LRN, L2Loss, AddN and sparse softmax cross entropy.
    #[test]
    fn cifar10_ops(
        (n, h, c) in (1usize..3, 1usize..3, 1usize..7),
        radius in 0usize..4,
        (rows, classes) in (1usize..4, 1usize..5),
        picks in prop::collection::vec(any::<u16>(), 4),
        seed in any::<u64>(),
    ) {
        let lrn = move |cx: &mut Scope, t: &[Tensor]| cx.lrn(&t[0], radius, 1.0, 0.3, 0.75);
        check(vec![fill(&[n, h, 2, c], seed)], &lrn)?;
        let l2 = |cx: &mut Scope, t: &[Tensor]| {
            let a = cx.l2_loss(&t[0])?;
            let b = cx.l2_loss(&t[1])?;
            cx.add_n(&[&a, &b, &a])
        };
        check(vec![fill(&[n, c], seed), fill(&[h], seed ^ 3)], &l2)?;
        let ids: Vec<i32> = picks[..rows].iter().map(|&p| (p as usize % classes) as i32).collect();
        let xent = move |cx: &mut Scope, t: &[Tensor]| {
            let labels = cx.constant(ArrayD::from_shape_vec(IxDyn(&[rows]), ids.clone()).map_err(|e| {
                varscope::Error::InvalidArgument { message: e.to_string() }
            })?)?;
            cx.sparse_softmax_cross_entropy_with_logits(&labels, &t[0])
        };
        check(vec![fill(&[rows, classes], seed)], &xent)?;
    }

    /// An input used at several places (an unrolled RNN's weights) gets the
    /// sum of its gradients.
    #[test]
    fn unrolled_rnn_shares_weights(steps in 1usize..4, (b, d) in (1usize..3, 1usize..4), seed in any::<u64>()) {
        let f = move |cx: &mut Scope, t: &[Tensor]| {
            let mut h = t[1].clone();
            for _ in 0..steps {
                let hw = cx.matmul(&h, &t[0])?;
                let pre = cx.add(&hw, &t[1])?;
                h = cx.tanh(&pre)?;
            }
            Ok(h)
        };
        check(vec![fill(&[d, d], seed), fill(&[b, d], seed ^ 11)], &f)?;
    }
}

/// SAME padding with odd sizes and stride 2, explicitly (the proptest above
/// covers it among others).
#[test]
fn conv2d_same_odd_sizes_stride_two() -> Result<(), TestCaseError> {
    for (h, w, k) in [(7, 5, 3), (5, 7, 4), (3, 3, 2), (1, 5, 3)] {
        let f = move |cx: &mut Scope, t: &[Tensor]| {
            let y = cx.conv2d(&t[0], &t[1], [2, 2], Padding::Same)?;
            cx.max_pool(&y, [3, 3], [2, 2], Padding::Same)
        };
        check(vec![fill(&[2, h, w, 2], h as u64), fill(&[k, k, 2, 3], w as u64)], &f)?;
    }
    Ok(())
}

/// Gradients of `mean(relu(conv2d(x, f)))` with respect to `x` and `f`, or
/// to `f` only.
fn conv_relu_mean_grads(x: Value, f: Value, filter_only: bool) -> varscope::Result<Vec<Value>> {
    let g = Graph::new();
    let cx = g.scope();
    let x = cx.constant(x)?;
    let f = cx.constant(f)?;
    let y = cx.conv2d(&x, &f, [2, 2], Padding::Same)?;
    let r = cx.relu(&y)?;
    let loss = cx.reduce_mean(&r, Axes::All, false)?;
    if filter_only { g.gradients(&loss, &[&f]) } else { g.gradients(&loss, &[&x, &f]) }
}

/// f32 gradients agree with f64 ones.
#[test]
fn f32_gradients_match_f64() -> varscope::Result<()> {
    let x64 = fill(&[2, 5, 5, 3], 1);
    let f64s = fill(&[3, 3, 3, 4], 2);
    let run32 = conv_relu_mean_grads(x64.mapv(|v| v as f32).into(), f64s.mapv(|v| v as f32).into(), false)?;
    let run64 = conv_relu_mean_grads(x64.clone().into(), f64s.clone().into(), false)?;
    // Asking for the filter only skips the input's gradient, not the filter's.
    let filter_only = conv_relu_mean_grads(x64.into(), f64s.into(), true)?;
    assert_eq!(filter_only[0], run64[1]);
    for (a, b) in run32.iter().zip(&run64) {
        assert_eq!(a.dtype(), varscope::DType::F32);
        for (x, y) in a.to_f64_vec().iter().zip(b.to_f64_vec()) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }
    Ok(())
}

fn tower(cx: &mut Scope, x: &Tensor) -> varscope::Result<Tensor> {
    let s = cx.variable_scope(VarScope::new("tower").reuse(Reuse::Auto))?;
    let w = s.get_variable("w", VarSpec::new().shape([3, 2]).init(Init::RandomNormal { mean: 0.0, stddev: 1.0 }))?;
    let y = s.matmul(x, &w)?;
    let y = s.tanh(&y)?;
    s.reduce_sum(&y, Axes::All, false)
}

/// Two towers sharing one variable: its gradient is the sum of the two.
#[test]
fn shared_variable_gets_the_sum() -> varscope::Result<()> {
    let g = Graph::with_seed(3);
    let mut cx = g.scope();
    let x1 = cx.constant(fill(&[2, 3], 1).mapv(|v| v as f32))?;
    let x2 = cx.constant(fill(&[4, 3], 2).mapv(|v| v as f32))?;
    let l1 = tower(&mut cx, &x1)?;
    let l2 = tower(&mut cx, &x2)?;
    let loss = cx.add(&l1, &l2)?;
    let w = g.get_variable_by_name("tower/w").expect("created by the first tower");
    assert_eq!(g.trainable_variables().len(), 1);
    let total = g.gradients(&loss, &[&w])?[0].to_f64_vec();
    let one = g.gradients(&l1, &[&w])?[0].to_f64_vec();
    let two = g.gradients(&l2, &[&w])?[0].to_f64_vec();
    for ((t, a), b) in total.iter().zip(&one).zip(&two) {
        assert!((t - a - b).abs() < 1e-5);
        assert!(*a != 0.0 && *b != 0.0);
    }
    Ok(())
}

#[test]
fn gradients_refuse_bad_requests() -> varscope::Result<()> {
    let g = Graph::new();
    let cx = g.scope();
    let x = cx.constant(fill(&[3], 1))?;
    let err = g.gradients(&x, &[&x]).unwrap_err();
    assert!(err.to_string().contains("must be a float scalar"), "{err}");
    let i = cx.constant(3)?;
    let s = cx.reduce_sum(&x, Axes::All, false)?;
    assert!(g.gradients(&s, &[&i]).is_err());
    let other = Graph::new();
    let y = other.scope().constant(1.0f64)?;
    assert!(g.gradients(&s, &[&y]).is_err());
    // A tensor the loss does not depend on gets zeros.
    let unrelated = cx.constant(fill(&[2], 5))?;
    assert_eq!(g.gradients(&s, &[&unrelated])?[0].to_f64_vec(), vec![0.0, 0.0]);
    // A variable's value at the time of the op is used, not a later assignment.
    let v = cx.get_variable("v", VarSpec::new().shape([]).init(Init::constant(2.0)))?;
    let sq = cx.mul(&v, &v)?;
    v.assign(10.0f32)?;
    assert_eq!(g.gradients(&sq, &[&v])?[0].to_f64_vec(), vec![4.0]);
    Ok(())
}

/// A training loop: SGD on a linear regression, clearing the record each
/// step so the graph does not grow and op names repeat.
#[test]
fn sgd_with_clear_ops_converges_and_stays_small() -> varscope::Result<()> {
    let g = Graph::with_seed(1);
    let mut cx = g.scope();
    let xs = fill(&[16, 1], 4).mapv(|v| v as f32);
    let ys = xs.mapv(|v| 2.0 * v + 1.0);
    let w = {
        let s = cx.variable_scope("linear")?;
        s.get_variable("w", VarSpec::new().shape([1, 1]).init(Init::Zeros))?
    };
    let b = {
        let s = cx.variable_scope("linear")?;
        s.get_variable("b", VarSpec::new().shape([1]).init(Init::Zeros))?
    };
    let mut losses = Vec::new();
    let mut node_counts = Vec::new();
    let mut names = Vec::new();
    for _ in 0..200 {
        let x = cx.constant(xs.clone())?;
        let y = cx.constant(ys.clone())?;
        let p = cx.matmul(&x, &w)?;
        let p = cx.bias_add(&p, &b)?;
        let d = cx.sub(&p, &y)?;
        let sq = cx.mul(&d, &d)?;
        let loss = cx.reduce_mean(&sq, Axes::All, false)?;
        names.push(loss.name().to_string());
        losses.push(loss.value().to_f64_vec()[0]);
        let grads = g.minimize(&loss, 0.3)?;
        assert_eq!(grads.len(), 2);
        node_counts.push(g.nodes().len());
        assert!(g.clear_ops() > 0);
        assert_eq!(g.nodes().len(), 2);
    }
    assert!(losses[199] < 1e-6 * losses[0].max(1.0), "loss went from {} to {}", losses[0], losses[199]);
    assert!(node_counts.iter().all(|&n| n == node_counts[0]));
    assert!(names.iter().all(|n| n == "Mean:0"), "{:?}", &names[..3]);
    let wv = w.value().to_f64_vec()[0];
    assert!((wv - 2.0).abs() < 1e-3, "w = {wv}");
    assert!(g.get_variable_by_name("linear/b").is_some());
    Ok(())
}

#[test]
fn cleared_loss_is_refused() -> varscope::Result<()> {
    let g = Graph::new();
    let cx = g.scope();
    let v = cx.get_variable("v", VarSpec::new().shape([]).init(Init::constant(1.0)))?;
    let loss = cx.mul(&v, &v)?;
    g.clear_ops();
    let err = g.gradients(&loss, &[&v]).unwrap_err();
    assert!(err.to_string().contains("clear_ops"), "{err}");
    // The variable name stays taken; a new variable `v` is still refused.
    assert!(cx.get_variable("v", [1]).is_err());
    Ok(())
}
