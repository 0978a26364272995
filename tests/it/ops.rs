//! Op values on small hand-checked inputs, recorded names and types, and
//! typed errors for bad inputs.

use varscope::ndarray::{ArrayD, IxDyn};
use varscope::ops::{Axes, Padding};
use varscope::{DType, Error, ErrorKind, Graph, Scope, Tensor, Value};

type R = varscope::Result<()>;

fn arr(shape: &[usize], data: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), data.to_vec()).expect("test data matches its shape")
}

fn c(cx: &mut Scope, shape: &[usize], data: &[f32]) -> varscope::Result<Tensor> {
    cx.constant(arr(shape, data))
}

fn seq(shape: &[usize]) -> Vec<f32> {
    (1..=shape.iter().product::<usize>()).map(|i| i as f32).collect()
}

#[track_caller]
fn close(t: &Tensor, shape: &[usize], want: &[f64]) {
    assert_eq!(t.shape(), shape, "shape of `{}`", t.name());
    let got = t.value().to_f64_vec();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "`{}`[{i}]: got {g}, want {w}", t.name());
    }
}

#[test]
fn elementwise_values_and_broadcasting() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let a = c(&mut cx, &[2, 1], &[1.0, 4.0])?;
    let b = c(&mut cx, &[3], &[1.0, 2.0, 4.0])?;
    close(&cx.add(&a, &b)?, &[2, 3], &[2.0, 3.0, 5.0, 5.0, 6.0, 8.0]);
    close(&cx.sub(&a, &b)?, &[2, 3], &[0.0, -1.0, -3.0, 3.0, 2.0, 0.0]);
    close(&cx.mul(&a, &b)?, &[2, 3], &[1.0, 2.0, 4.0, 4.0, 8.0, 16.0]);
    close(&cx.div(&a, &b)?, &[2, 3], &[1.0, 0.5, 0.25, 4.0, 2.0, 1.0]);
    close(&cx.pow(&a, &b)?, &[2, 3], &[1.0, 1.0, 1.0, 4.0, 16.0, 256.0]);
    close(&cx.neg(&b)?, &[3], &[-1.0, -2.0, -4.0]);
    close(&cx.identity(&a)?, &[2, 1], &[1.0, 4.0]);
    close(&cx.exp(&b)?, &[3], &[1f64.exp(), 2f64.exp(), 4f64.exp()]);
    close(&cx.log(&b)?, &[3], &[0.0, 2f64.ln(), 4f64.ln()]);
    close(&cx.sqrt(&b)?, &[3], &[1.0, 2f64.sqrt(), 2.0]);
    let x = c(&mut cx, &[4], &[-2.0, 0.0, 0.5, 3.0])?;
    close(&cx.relu(&x)?, &[4], &[0.0, 0.0, 0.5, 3.0]);
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    close(&cx.sigmoid(&x)?, &[4], &[sig(-2.0), 0.5, sig(0.5), sig(3.0)]);
    close(&cx.tanh(&x)?, &[4], &[(-2f64).tanh(), 0.0, 0.5f64.tanh(), 3f64.tanh()]);
    let types: Vec<String> = g.nodes().into_iter().map(|n| n.op_type).collect();
    for t in ["AddV2", "Sub", "Mul", "RealDiv", "Pow", "Neg", "Exp", "Log", "Sqrt", "Relu", "Sigmoid", "Tanh"] {
        assert!(types.iter().any(|x| x == t), "no {t} node in {types:?}");
    }
    Ok(())
}

#[test]
fn default_names_follow_tf() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let a = c(&mut cx, &[2, 2], &[1.0, 2.0, 3.0, 4.0])?;
    let s = cx.name_scope("layer")?;
    let names = [
        s.sub(&a, &a)?.name().to_string(),
        s.div(&a, &a)?.name().to_string(),
        s.pow(&a, &a)?.name().to_string(),
        s.transpose(&a, &[1, 0])?.name().to_string(),
        s.reduce_sum(&a, Axes::All, false)?.name().to_string(),
        s.concat(&[&a, &a], 0)?.name().to_string(),
        s.batch_matmul(&a, &a, false, false)?.name().to_string(),
        s.named("out").relu(&a)?.name().to_string(),
    ];
    assert_eq!(
        names,
        [
            "layer/sub:0",
            "layer/truediv:0",
            "layer/pow:0",
            "layer/transpose:0",
            "layer/Sum:0",
            "layer/concat:0",
            "layer/MatMul:0",
            "layer/out:0"
        ]
    );
    let bmm = g.nodes().into_iter().find(|n| n.name == "layer/MatMul").expect("recorded");
    assert_eq!(bmm.op_type, "BatchMatMulV2");
    assert_eq!(bmm.inputs, ["Const:0", "Const:0"]);
    Ok(())
}

#[test]
fn shape_errors_are_typed_and_name_the_node() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let a = c(&mut cx, &[2], &[1.0, 2.0])?;
    let b = c(&mut cx, &[3], &[1.0, 2.0, 3.0])?;
    let mut s = cx.name_scope("tower")?;
    let err = s.sub(&a, &b).unwrap_err();
    match &err {
        Error::IncompatibleShapes { op, node, lhs, rhs, .. } => {
            assert_eq!((*op, node.as_str(), lhs.as_slice(), rhs.as_slice()), ("Sub", "tower/sub", &[2][..], &[3][..]));
        }
        other => panic!("expected IncompatibleShapes, got {other:?}"),
    }
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("op `tower/sub` (Sub): incompatible shapes (2,) and (3,)"), "{err}");
    let m = c(&mut s, &[2, 3], &[0.0; 6])?;
    let err = s.matmul_t(&m, &m, false, false).unwrap_err();
    assert!(matches!(err, Error::IncompatibleShapes { op: "MatMul", .. }), "{err}");
    assert!(s.matmul_t(&m, &m, false, true).is_ok());
    let i = s.constant(ArrayD::<i32>::zeros(IxDyn(&[2])))?;
    let err = s.exp(&i).unwrap_err();
    assert!(matches!(err, Error::UnsupportedDType { op: "Exp", dtype: DType::I32, .. }), "{err}");
    let err = s.add(&a, &i).unwrap_err();
    assert!(matches!(err, Error::IncompatibleDTypes { op: "AddV2", .. }), "{err}");
    Ok(())
}

#[test]
fn no_bad_input_panics() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let x = c(&mut cx, &[1, 3, 3, 2], &[0.5; 18])?;
    let f = c(&mut cx, &[5, 5, 2, 1], &[0.1; 50])?;
    let f_bad_depth = c(&mut cx, &[2, 2, 3, 1], &[0.1; 12])?;
    let v = c(&mut cx, &[3], &[1.0, 2.0, 3.0])?;
    let s = cx.constant(1.0f32)?;
    let idx = cx.constant(ArrayD::from_shape_vec(IxDyn(&[2]), vec![0, 7]).expect("shape"))?;
    let neg_idx = cx.constant(ArrayD::from_shape_vec(IxDyn(&[1]), vec![-1]).expect("shape"))?;
    let errs: Vec<varscope::Result<Tensor>> = vec![
        cx.conv2d(&x, &f, [1, 1], Padding::Valid),
        cx.conv2d(&x, &f_bad_depth, [1, 1], Padding::Same),
        cx.conv2d(&x, &f, [0, 1], Padding::Same),
        cx.conv2d(&v, &f, [1, 1], Padding::Same),
        cx.max_pool(&x, [4, 4], [1, 1], Padding::Valid),
        cx.max_pool(&x, [usize::MAX, 1], [1, 1], Padding::Same),
        cx.avg_pool(&v, [1, 1], [1, 1], Padding::Same),
        cx.bias_add(&x, &v),
        cx.bias_add(&v, &v),
        cx.matmul(&v, &v),
        cx.batch_matmul(&v, &v, false, false),
        cx.softmax(&s),
        cx.reduce_sum(&v, 1, false),
        cx.reduce_max(&v, [0, -1], false),
        cx.reshape(&v, &[2, -1]),
        cx.reshape(&v, &[-1, -1]),
        cx.reshape(&v, &[isize::MAX, isize::MAX, 3]),
        cx.reshape(&v, &[isize::MAX, -1]),
        cx.transpose(&x, &[0, 1, 1, 3]),
        cx.concat(&[&v, &x], 0),
        cx.concat(&[], 0),
        cx.slice(&v, &[2], &[2]),
        cx.slice(&v, &[4], &[-1]),
        cx.gather(&v, &idx, 0),
        cx.gather(&v, &neg_idx, 0),
        cx.gather(&v, &v, 0),
        cx.softmax_cross_entropy_with_logits(&v, &x),
        cx.sigmoid_cross_entropy_with_logits(&s, &v),
    ];
    for (i, r) in errs.into_iter().enumerate() {
        let err = r.expect_err(&format!("case {i} should be refused"));
        assert!(!err.to_string().is_empty());
    }
    // A huge SAME window that still fits without overflow covers the whole input, as in TF.
    let whole = cx.avg_pool(&x, [usize::MAX / 4, 1], [usize::MAX, 1], Padding::Same)?;
    assert_eq!(whole.shape(), &[1, 1, 3, 2]);
    assert!(cx.split(&v, 2, 0).is_err());
    assert!(cx.split(&v, 0, 0).is_err());
    assert!(cx.split(&v, 3, 5).is_err());
    Ok(())
}

#[test]
fn matmul_transposes_and_batches() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let a = c(&mut cx, &[2, 3], &seq(&[2, 3]))?; // [[1,2,3],[4,5,6]]
    let b = c(&mut cx, &[3, 2], &seq(&[3, 2]))?; // [[1,2],[3,4],[5,6]]
    close(&cx.matmul(&a, &b)?, &[2, 2], &[22.0, 28.0, 49.0, 64.0]);
    close(&cx.matmul_t(&a, &a, false, true)?, &[2, 2], &[14.0, 32.0, 32.0, 77.0]);
    close(&cx.matmul_t(&a, &a, true, false)?, &[3, 3], &[17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
    close(&cx.matmul_t(&b, &a, true, true)?, &[2, 2], &[22.0, 49.0, 28.0, 64.0]);
    // A batch of two against one broadcast matrix.
    let mut two = seq(&[2, 3]);
    two.extend(seq(&[2, 3]).iter().map(|v| -v));
    let batch = c(&mut cx, &[2, 2, 3], &two)?;
    let bb = c(&mut cx, &[1, 3, 2], &seq(&[3, 2]))?;
    close(
        &cx.batch_matmul(&batch, &bb, false, false)?,
        &[2, 2, 2],
        &[22.0, 28.0, 49.0, 64.0, -22.0, -28.0, -49.0, -64.0],
    );
    let adj = cx.batch_matmul(&batch, &batch, false, true)?;
    close(&adj, &[2, 2, 2], &[14.0, 32.0, 32.0, 77.0, 14.0, 32.0, 32.0, 77.0]);
    let i = cx.constant(ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![2, 3]).expect("shape"))?;
    let j = cx.constant(ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![4, 5]).expect("shape"))?;
    assert_eq!(
        cx.matmul(&i, &j)?.value(),
        Value::from(ArrayD::from_shape_vec(IxDyn(&[1, 1]), vec![23]).expect("shape"))
    );
    Ok(())
}

#[test]
fn conv2d_pads_like_tensorflow() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let x = c(&mut cx, &[1, 3, 3, 1], &seq(&[9]))?;
    let ones = c(&mut cx, &[2, 2, 1, 1], &[1.0; 4])?;
    // k = 2, SAME: one padded row/column, all at the end (bottom/right).
    let same = cx.conv2d(&x, &ones, [1, 1], Padding::Same)?;
    close(&same, &[1, 3, 3, 1], &[12.0, 16.0, 9.0, 24.0, 28.0, 15.0, 15.0, 17.0, 9.0]);
    let valid = cx.conv2d(&x, &ones, [1, 1], Padding::Valid)?;
    close(&valid, &[1, 2, 2, 1], &[12.0, 16.0, 24.0, 28.0]);
    // 5x5 input, 3x3 filter, stride 2, SAME: 3x3 output, one padded cell on each side.
    let x5 = c(&mut cx, &[1, 5, 5, 1], &seq(&[25]))?;
    let k3 = c(&mut cx, &[3, 3, 1, 1], &[1.0; 9])?;
    let s2 = cx.conv2d(&x5, &k3, [2, 2], Padding::Same)?;
    close(&s2, &[1, 3, 3, 1], &[16.0, 33.0, 28.0, 69.0, 117.0, 87.0, 76.0, 123.0, 88.0]);
    // 4x4 input, 3x3 filter, stride 2, SAME: 2x2 output, pad 0 before and 1 after.
    let x4 = c(&mut cx, &[1, 4, 4, 1], &seq(&[16]))?;
    let s4 = cx.conv2d(&x4, &k3, [2, 2], Padding::Same)?;
    close(&s4, &[1, 2, 2, 1], &[54.0, 45.0, 72.0, 54.0]);
    // Channels: two input channels, two filters.
    let xc = c(&mut cx, &[1, 1, 1, 2], &[1.0, 2.0])?;
    let fc = c(&mut cx, &[1, 1, 2, 2], &[1.0, 10.0, 100.0, 1000.0])?;
    close(&cx.conv2d(&xc, &fc, [1, 1], Padding::Valid)?, &[1, 1, 1, 2], &[201.0, 2010.0]);
    let b = c(&mut cx, &[2], &[0.5, -0.5])?;
    let conv = cx.conv2d(&xc, &fc, [1, 1], Padding::Valid)?;
    close(&cx.bias_add(&conv, &b)?, &[1, 1, 1, 2], &[201.5, 2009.5]);
    Ok(())
}

#[test]
fn pooling() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let x = c(&mut cx, &[1, 4, 4, 1], &seq(&[16]))?;
    close(&cx.max_pool(&x, [2, 2], [2, 2], Padding::Valid)?, &[1, 2, 2, 1], &[6.0, 8.0, 14.0, 16.0]);
    close(&cx.avg_pool(&x, [2, 2], [2, 2], Padding::Valid)?, &[1, 2, 2, 1], &[3.5, 5.5, 11.5, 13.5]);
    // SAME average pooling divides by the cells inside the input only.
    let y = c(&mut cx, &[1, 2, 2, 1], &[1.0, 2.0, 3.0, 4.0])?;
    close(&cx.avg_pool(&y, [3, 3], [1, 1], Padding::Same)?, &[1, 2, 2, 1], &[2.5; 4]);
    let neg = c(&mut cx, &[1, 2, 2, 1], &[-1.0, -2.0, -3.0, -4.0])?;
    // Padding never wins a max, even over negative values.
    close(&cx.max_pool(&neg, [3, 3], [1, 1], Padding::Same)?, &[1, 2, 2, 1], &[-1.0; 4]);
    close(&cx.max_pool(&x, [3, 3], [2, 2], Padding::Same)?, &[1, 2, 2, 1], &[11.0, 12.0, 15.0, 16.0]);
    Ok(())
}

#[test]
fn softmax_and_cross_entropy() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let x = c(&mut cx, &[2, 3], &[1.0, 2.0, 3.0, 1000.0, 1000.0, 1000.0])?;
    let e = [1f64.exp(), 2f64.exp(), 3f64.exp()];
    let s: f64 = e.iter().sum();
    let third = 1.0 / 3.0;
    close(&cx.softmax(&x)?, &[2, 3], &[e[0] / s, e[1] / s, e[2] / s, third, third, third]);
    let l3 = -(3f64.ln());
    close(&cx.log_softmax(&x)?, &[2, 3], &[1.0 - s.ln(), 2.0 - s.ln(), 3.0 - s.ln(), l3, l3, l3]);
    let labels = c(&mut cx, &[2, 3], &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0])?;
    close(&cx.softmax_cross_entropy_with_logits(&labels, &x)?, &[2], &[s.ln() - 3.0, 3f64.ln()]);
    let logits = c(&mut cx, &[3], &[0.0, 2.0, -3.0])?;
    let z = c(&mut cx, &[3], &[1.0, 0.0, 0.5])?;
    let want: Vec<f64> = [(0.0, 1.0), (2.0, 0.0), (-3.0, 0.5)]
        .iter()
        .map(|&(x, z): &(f64, f64)| {
            let p = 1.0 / (1.0 + (-x).exp());
            -(z * p.ln() + (1.0 - z) * (1.0 - p).ln())
        })
        .collect();
    let loss = cx.sigmoid_cross_entropy_with_logits(&z, &logits)?;
    close(&loss, &[3], &want);
    assert_eq!(loss.name(), "logistic_loss:0");
    Ok(())
}

#[test]
fn reductions() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let x = c(&mut cx, &[2, 3], &[1.0, 5.0, 3.0, 4.0, 2.0, 6.0])?;
    close(&cx.reduce_sum(&x, Axes::All, false)?, &[], &[21.0]);
    close(&cx.reduce_sum(&x, 0, false)?, &[3], &[5.0, 7.0, 9.0]);
    close(&cx.reduce_sum(&x, -1, true)?, &[2, 1], &[9.0, 12.0]);
    close(&cx.reduce_mean(&x, [0, 1], true)?, &[1, 1], &[3.5]);
    close(&cx.reduce_mean(&x, 1, false)?, &[2], &[3.0, 4.0]);
    close(&cx.reduce_max(&x, 1, false)?, &[2], &[5.0, 6.0]);
    close(&cx.reduce_max(&x, Axes::List(vec![]), false)?, &[2, 3], &[1.0, 5.0, 3.0, 4.0, 2.0, 6.0]);
    let i = cx.constant(ArrayD::from_shape_vec(IxDyn(&[3]), vec![3, -7, 2]).expect("shape"))?;
    assert_eq!(cx.reduce_max(&i, 0, false)?.value(), Value::from(3));
    assert_eq!(cx.reduce_sum(&i, 0, false)?.value(), Value::from(-2));
    assert!(cx.reduce_mean(&i, 0, false).is_err());
    Ok(())
}

#[test]
fn shape_ops() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let x = c(&mut cx, &[2, 3], &seq(&[2, 3]))?;
    close(&cx.reshape(&x, &[3, -1])?, &[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    close(&cx.transpose(&x, &[1, 0])?, &[3, 2], &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    close(&cx.concat(&[&x, &x], 1)?, &[2, 6], &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 4.0, 5.0, 6.0]);
    close(&cx.concat(&[&x, &x], -2)?, &[4, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let parts = cx.split(&x, 3, 1)?;
    assert_eq!(parts.iter().map(|t| t.name()).collect::<Vec<_>>(), ["split:0", "split:1", "split:2"]);
    close(&parts[1], &[2, 1], &[2.0, 5.0]);
    assert_eq!(g.nodes().iter().filter(|n| n.op_type == "Split").count(), 1);
    let after = cx.add(&parts[2], &parts[0])?;
    let node = g.nodes().into_iter().find(|n| n.name == after.op_name()).expect("recorded");
    assert_eq!(node.inputs, ["split:2", "split:0"]);
    close(&cx.slice(&x, &[0, 1], &[-1, 2])?, &[2, 2], &[2.0, 3.0, 5.0, 6.0]);
    let emb = c(&mut cx, &[4, 2], &seq(&[4, 2]))?;
    let ids = cx.constant(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![3, 0, 3, 1]).expect("shape"))?;
    let looked = cx.gather(&emb, &ids, 0)?;
    close(&looked, &[2, 2, 2], &[7.0, 8.0, 1.0, 2.0, 7.0, 8.0, 3.0, 4.0]);
    let cols = cx.constant(ArrayD::from_shape_vec(IxDyn(&[1]), vec![1]).expect("shape"))?;
    close(&cx.gather(&emb, &cols, 1)?, &[4, 1], &[2.0, 4.0, 6.0, 8.0]);
    Ok(())
}

#[test]
fn f64_and_i32_where_tf_allows() -> R {
    let g = Graph::new();
    let cx = g.scope();
    let x = cx.constant(ArrayD::from_shape_vec(IxDyn(&[2]), vec![0.25f64, 4.0]).expect("shape"))?;
    let y = cx.sqrt(&x)?;
    assert_eq!(y.dtype(), DType::F64);
    assert_eq!(y.value().to_f64_vec(), vec![0.5, 2.0]);
    let i = cx.constant(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1, -2, 3]).expect("shape"))?;
    assert_eq!(cx.sub(&i, &i)?.value().to_f64_vec(), vec![0.0; 3]);
    assert_eq!(cx.neg(&i)?.value().to_f64_vec(), vec![-1.0, 2.0, -3.0]);
    assert_eq!(cx.relu(&i)?.value().to_f64_vec(), vec![1.0, 0.0, 3.0]);
    assert_eq!(cx.reshape(&i, &[3, 1])?.dtype(), DType::I32);
    assert!(cx.div(&i, &i).is_err());
    Ok(())
}

#[test]
fn layer_ops_values_names_and_types() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let x = c(&mut cx, &[4], &[-2.0, 0.0, 0.5, 3.0])?;
    close(&cx.abs(&x)?, &[4], &[2.0, 0.0, 0.5, 3.0]);
    close(&cx.square(&x)?, &[4], &[4.0, 0.0, 0.25, 9.0]);
    close(&cx.leaky_relu(&x, 0.2)?, &[4], &[-0.4, 0.0, 0.5, 3.0]);
    close(&cx.elu(&x)?, &[4], &[(-2f64).exp() - 1.0, 0.0, 0.5, 3.0]);
    let sp = |v: f64| (1.0 + v.exp()).ln();
    close(&cx.softplus(&x)?, &[4], &[sp(-2.0), sp(0.0), sp(0.5), sp(3.0)]);
    // Far out, softplus is x itself or e^x, never inf or 0 by overflow.
    let far = c(&mut cx, &[2], &[100.0, -100.0])?;
    let y = cx.softplus(&far)?.value().to_f64_vec();
    assert_eq!(y[0], 100.0);
    assert!(y[1] > 0.0 && y[1] < 1e-40, "{}", y[1]);
    // TF 2.21's float32 outputs on both sides of softplus's thresholds, to an ulp (TF's
    // Eigen `exp`/`log` round differently from the correctly rounded 0.97407698).
    let edge = c(&mut cx, &[4], &[-20.0, -15.0, 0.5, 14.0])?;
    let ulps = |got: &Tensor, want: [f64; 4]| {
        let got = got.value().to_f64_vec();
        got.iter().zip(want).map(|(&g, w)| ((g as f32).to_bits() as i64 - (w as f32).to_bits() as i64).abs()).max()
    };
    let tf_softplus = [2.06115369216775e-09f64, 3.0590231858695915e-07, 0.9740769267082214, 14.0];
    assert!(ulps(&cx.softplus(&edge)?, tf_softplus) <= Some(1));
    let tf_elu = [-1.0f64, -0.9999997019767761, 0.5, 14.0];
    assert!(ulps(&cx.elu(&edge)?, tf_elu) <= Some(1));
    close(&cx.stop_gradient(&x)?, &[4], &[-2.0, 0.0, 0.5, 3.0]);
    let ints = cx.constant(Value::from(vec![i32::MIN, -3, 4]))?;
    assert_eq!(cx.abs(&ints)?.value().to_f64_vec(), [f64::from(i32::MIN), 3.0, 4.0]);
    let m = c(&mut cx, &[2, 3], &[1.0, 5.0, 5.0, 7.0, 2.0, 7.0])?;
    let am = cx.argmax(&m, 1, DType::I64)?;
    assert_eq!((am.dtype(), am.shape(), am.value().to_f64_vec()), (DType::I64, &[2][..], vec![1.0, 0.0]));
    let an = cx.argmin(&m, 0, DType::I32)?;
    assert_eq!((an.dtype(), an.value().to_f64_vec()), (DType::I32, vec![0.0, 1.0, 0.0]));
    let b = c(&mut cx, &[3], &[1.0, 2.0, 5.0])?;
    close(&cx.equal(&m, &b)?, &[2, 3], &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    let labels = cx.constant(Value::from(vec![1i64, -1, 3]))?;
    let oh = cx.one_hot(&labels, 3, 5.0, -1.0, -1, DType::F32)?;
    close(&oh, &[3, 3], &[-1.0, 5.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]);
    let oh0 = cx.one_hot(&labels, 2, 1.0, 0.0, 0, DType::I32)?;
    assert_eq!((oh0.shape(), oh0.value().to_f64_vec()), (&[2, 3][..], vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0]));
    let col = cx.expand_dims(&x, 1)?;
    assert_eq!(col.shape(), &[4, 1]);
    assert_eq!(cx.squeeze(&col, &[])?.shape(), &[4]);
    let names: Vec<(String, String)> = g.nodes().into_iter().map(|n| (n.name, n.op_type)).collect();
    for (name, ty) in [
        ("Abs", "Abs"),
        ("Square", "Square"),
        ("LeakyRelu", "LeakyRelu"),
        ("Elu", "Elu"),
        ("Softplus", "Softplus"),
        ("StopGradient", "StopGradient"),
        ("ArgMax", "ArgMax"),
        ("ArgMin", "ArgMin"),
        ("Equal", "Equal"),
        ("one_hot", "OneHot"),
        ("one_hot_1", "OneHot"),
        ("ExpandDims", "ExpandDims"),
        ("Squeeze", "Squeeze"),
    ] {
        assert!(names.iter().any(|(n, t)| n == name && t == ty), "no node {name} ({ty}) in {names:?}");
    }
    Ok(())
}

#[test]
fn stop_gradient_cuts_the_gradient() -> R {
    let g = Graph::new();
    let cx = g.scope();
    let x = cx.constant(3.0f64)?;
    // d/dx (x * stop(x)) sees only the first factor: stop(x) = 3, not 2x = 6.
    let y = cx.mul(&x, &cx.stop_gradient(&x)?)?;
    assert_eq!(g.gradients(&y, &[&x])?[0].to_f64_vec(), [3.0]);
    // Through the stopped path alone there is no gradient at all: zeros.
    let z = cx.stop_gradient(&cx.square(&x)?)?;
    assert_eq!(g.gradients(&z, &[&x])?[0].to_f64_vec(), [0.0]);
    Ok(())
}

#[test]
fn layer_ops_refuse_bad_arguments() -> R {
    let g = Graph::new();
    let mut cx = g.scope();
    let m = c(&mut cx, &[2, 0], &[])?;
    let e = cx.argmax(&m, 1, DType::I64).expect_err("an empty axis has no argmax");
    assert!(e.to_string().contains("empty"), "{e}");
    let x = c(&mut cx, &[2, 3], &seq(&[2, 3]))?;
    assert!(cx.argmax(&x, 2, DType::I64).is_err(), "axis out of range");
    assert!(cx.argmax(&x, 0, DType::F32).is_err(), "a float output type");
    let e = cx.squeeze(&x, &[1]).expect_err("a length-3 axis does not squeeze");
    assert!(e.to_string().contains("its length is 3"), "{e}");
    assert!(cx.expand_dims(&x, 3).is_err() && cx.expand_dims(&x, -4).is_err());
    assert_eq!(cx.expand_dims(&x, -3)?.shape(), &[1, 2, 3]);
    let floats = c(&mut cx, &[2], &[0.0, 1.0])?;
    let e = cx.one_hot(&floats, 3, 1.0, 0.0, -1, DType::F32).expect_err("float indices");
    assert!(matches!(e, Error::UnsupportedDType { .. }), "{e}");
    let ids = cx.constant(Value::from(vec![0i32]))?;
    assert!(cx.one_hot(&ids, 3, 0.5, 0.0, -1, DType::I32).is_err(), "0.5 is not an int32");
    let e = cx.one_hot(&ids, 1 << 62, 1.0, 0.0, -1, DType::F32).expect_err("a huge depth");
    assert!(e.to_string().contains("more than"), "{e}");
    assert!(cx.leaky_relu(&floats, f64::NAN).is_err());
    let i = cx.constant(Value::from(vec![1i32]))?;
    assert!(matches!(cx.elu(&i), Err(Error::UnsupportedDType { .. })));
    assert!(matches!(cx.equal(&i, &floats), Err(Error::IncompatibleDTypes { .. })));
    Ok(())
}

#[test]
fn layer_ops_run_again_in_a_session() -> R {
    let g = Graph::new();
    let cx = g.scope();
    let x = cx.placeholder("x", Value::from(vec![-1.0f32, 2.0, 0.5]))?;
    let ids = cx.placeholder("ids", Value::from(vec![0i32, 2]))?;
    let am = cx.argmax(&cx.expand_dims(&x, 0)?, -1, DType::I64)?;
    let oh = cx.one_hot(&ids, 3, 1.0, 0.0, -1, DType::F32)?;
    let act = cx.leaky_relu(&cx.abs(&x)?, 0.1)?;
    let session = varscope::Session::new(&g);
    let out = session
        .run(&[&am, &oh, &act], &[(&x, Value::from(vec![3.0f32, -4.0, 1.0])), (&ids, Value::from(vec![1i32, 1]))])?;
    assert_eq!(out[0].to_f64_vec(), [0.0]);
    assert_eq!(out[1].to_f64_vec(), [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
    assert_eq!(out[2].to_f64_vec(), [3.0, 4.0, 1.0]);
    Ok(())
}

mod fuzz {
    //! Random shapes (including empty dimensions) and attributes into every
    //! op: each call returns `Ok` or `Err`, never panics, and a success has
    //! the shape it reports.

    use proptest::prelude::*;
    use varscope::ndarray::{ArrayD, IxDyn};
    use varscope::ops::{Axes, Padding};
    use varscope::{Graph, Tensor};

    fn shape() -> impl Strategy<Value = Vec<usize>> {
        prop::collection::vec(0usize..4, 0..5)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn ops_never_panic(
            sa in shape(),
            sb in shape(),
            op in 0usize..36,
            ints in prop::collection::vec(-3isize..5, 0..5),
            (k, s) in ((0usize..4, 0usize..4), (0usize..3, 0usize..3)),
            flags in (any::<bool>(), any::<bool>()),
        ) {
            let g = Graph::new();
            let cx = g.scope();
            let a = cx.constant(ArrayD::<f32>::from_elem(IxDyn(&sa), 0.5)).expect("a constant");
            let b = cx.constant(ArrayD::<f32>::from_elem(IxDyn(&sb), -1.5)).expect("a constant");
            let idx: Vec<i32> = ints.iter().map(|&i| i as i32).collect();
            let i = cx.constant(ArrayD::from_shape_vec(IxDyn(&[idx.len()]), idx).expect("a vector")).expect("ints");
            let pad = if flags.0 { Padding::Same } else { Padding::Valid };
            let axes = if flags.1 { Axes::All } else { Axes::List(ints.clone()) };
            let perm: Vec<usize> = ints.iter().map(|&x| x.unsigned_abs()).collect();
            let begin: Vec<usize> = ints.iter().map(|&x| x.unsigned_abs()).collect();
            let ax = ints.first().copied().unwrap_or(0);
            let r: varscope::Result<Tensor> = match op {
                0 => cx.add(&a, &b),
                1 => cx.sub(&a, &b),
                2 => cx.mul(&a, &b),
                3 => cx.div(&a, &b),
                4 => cx.pow(&a, &b),
                5 => cx.neg(&a),
                6 => cx.exp(&a),
                7 => cx.log(&a),
                8 => cx.sqrt(&a),
                9 => cx.relu(&a),
                10 => cx.sigmoid(&a),
                11 => cx.tanh(&a),
                12 => cx.softmax(&a),
                13 => cx.log_softmax(&a),
                14 => cx.bias_add(&a, &b),
                15 => cx.matmul_t(&a, &b, flags.0, flags.1),
                16 => cx.batch_matmul(&a, &b, flags.0, flags.1),
                17 => cx.conv2d(&a, &b, [s.0, s.1], pad),
                18 => cx.max_pool(&a, [k.0, k.1], [s.0, s.1], pad),
                19 => cx.avg_pool(&a, [k.0, k.1], [s.0, s.1], pad),
                20 => cx.reduce_sum(&a, axes, flags.0),
                21 => cx.reduce_mean(&a, axes, flags.0),
                22 => cx.reduce_max(&a, axes, flags.0),
                23 => cx.reshape(&a, &ints),
                24 => cx.transpose(&a, &perm),
                25 => cx.concat(&[&a, &b], ax),
                26 => cx.split(&a, k.0, ax).map(|mut v| v.pop().unwrap_or(a.clone())),
                27 => cx.slice(&a, &begin, &ints),
                28 => cx.gather(&a, &i, ax),
                29 => cx.sigmoid_cross_entropy_with_logits(&a, &b),
                30 => cx.softmax_cross_entropy_with_logits(&a, &b),
                31 => cx.identity(&a),
                32 => cx.gather(&a, &b, ax),
                33 => cx.exp(&i),
                34 => cx.add(&a, &i),
                _ => cx.matmul(&a, &b),
            };
            if let Ok(t) = r {
                let v = t.value();
                prop_assert_eq!(v.shape(), t.shape());
                // Differentiating whatever came out never panics either.
                if let Ok(l) = cx.reduce_sum(&t, Axes::All, false) {
                    let _ = g.gradients(&l, &[&a, &b]);
                }
            }
        }
    }
}

/// cifar10.py's `norm1`, against TF 2.21 (`tf.nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9.0,
/// beta=0.75)` on `x = arange(256).reshape(2, 4, 4, 8) / 50 - 2.5`, the first pixel's channels),
/// and the names TF gives the cifar10 ops.
#[test]
fn cifar10_ops_match_tensorflow() -> R {
    let graph = Graph::new();
    let cx = graph.scope();
    let x = ArrayD::from_shape_fn(IxDyn(&[2, 4, 4, 8]), |i| {
        let flat = ((i[0] * 4 + i[1]) * 4 + i[2]) * 8 + i[3];
        flat as f32 / 50.0 - 2.5
    });
    let x = cx.placeholder("x", x)?;
    let norm = cx.named("norm1").lrn(&x, 4, 1.0, 0.001 / 9.0, 0.75)?;
    let tf = [
        -2.493713855743408,
        -2.472581386566162,
        -2.451488733291626,
        -2.4304351806640625,
        -2.4105136394500732,
        -2.391831398010254,
        -2.373110294342041,
        -2.354351043701172,
    ];
    let ours = norm.value().to_f64_vec();
    for (c, want) in tf.iter().enumerate() {
        assert!((ours[c] - want).abs() <= 2e-7 * want.abs(), "channel {c}: {} vs TF {want}", ours[c]);
    }
    assert_eq!(cx.lrn(&x, 5, 1.0, 1.0, 0.5)?.name(), "LRN:0");
    let logits = cx.constant(ArrayD::<f32>::zeros(IxDyn(&[2, 10])))?;
    let labels = cx.constant(ArrayD::from_shape_vec(IxDyn(&[2]), vec![3i32, 9]).unwrap())?;
    let named = cx.named("cross_entropy_per_example").sparse_softmax_cross_entropy_with_logits(&labels, &logits)?;
    assert_eq!(named.name(), "cross_entropy_per_example/cross_entropy_per_example:0");
    let default = cx.sparse_softmax_cross_entropy_with_logits(&labels, &logits)?;
    assert_eq!(default.name(), "SparseSoftmaxCrossEntropyWithLogits/SparseSoftmaxCrossEntropyWithLogits:0");
    let bad = cx.constant(ArrayD::from_shape_vec(IxDyn(&[2]), vec![3i32, 10]).unwrap())?;
    let e = cx.sparse_softmax_cross_entropy_with_logits(&bad, &logits).unwrap_err();
    assert!(e.to_string().contains("label 10 is outside the valid range [0, 10)"), "{e}");
    let l2 = cx.l2_loss(&logits)?;
    assert_eq!(l2.name(), "L2Loss:0");
    let total = cx.named("total_loss").add_n(&[&l2, &l2])?;
    assert_eq!(total.name(), "total_loss:0");
    Ok(())
}
