//! Kernels against naive reference implementations and central finite differences (f64).

use ndarray::{Array1, Array2, Array3, Array4, ArrayD, IxDyn};

use super::*;

/// A tiny deterministic generator (splitmix64) so the tests need no RNG API.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
    fn array4(&mut self, s: [usize; 4]) -> Array4<f64> {
        Array4::from_shape_simple_fn(s, || self.next())
    }
    fn array2(&mut self, s: (usize, usize)) -> Array2<f64> {
        Array2::from_shape_simple_fn(s, || self.next())
    }
    fn arrayd(&mut self, s: &[usize]) -> ArrayD<f64> {
        ArrayD::from_shape_simple_fn(IxDyn(s), || self.next())
    }
}

fn assert_close<D: ndarray::Dimension>(got: &ndarray::Array<f64, D>, want: &ndarray::Array<f64, D>, tol: f64) {
    assert_eq!(got.shape(), want.shape());
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "element {i}: got {g}, want {w}");
    }
}

/// TF's output size and padding, restated independently of `Window`.
fn tf_pads(input: usize, k: usize, s: usize, same: bool) -> (usize, usize) {
    if same {
        let out = input.div_ceil(s);
        let total = ((out - 1) * s + k).saturating_sub(input);
        (out, total / 2)
    } else {
        ((input - k) / s + 1, 0)
    }
}

fn naive_conv(x: &Array4<f64>, f: &Array4<f64>, s: [usize; 2], same: bool) -> Array4<f64> {
    let (n, h, w, c) = x.dim();
    let (kh, kw, _, o) = f.dim();
    let (oh, pt) = tf_pads(h, kh, s[0], same);
    let (ow, pl) = tf_pads(w, kw, s[1], same);
    let mut y = Array4::zeros((n, oh, ow, o));
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for oc in 0..o {
                    let mut acc = 0.0;
                    for i in 0..kh {
                        for j in 0..kw {
                            let (yy, xx) =
                                ((oy * s[0] + i) as isize - pt as isize, (ox * s[1] + j) as isize - pl as isize);
                            if yy < 0 || xx < 0 || yy >= h as isize || xx >= w as isize {
                                continue;
                            }
                            for ic in 0..c {
                                acc += x[[b, yy as usize, xx as usize, ic]] * f[[i, j, ic, oc]];
                            }
                        }
                    }
                    y[[b, oy, ox, oc]] = acc;
                }
            }
        }
    }
    y
}

const PAD: [Padding; 2] = [Padding::Same, Padding::Valid];

/// (input NHWC, filter HWIO, strides, padding): odd sizes, even kernels, stride 2 and (2, 3).
type ConvCase = ([usize; 4], [usize; 4], [usize; 2], Padding);

fn conv_cases() -> Vec<ConvCase> {
    vec![
        ([2, 7, 5, 3], [3, 3, 3, 4], [1, 1], Padding::Same),
        ([3, 6, 6, 2], [2, 2, 2, 3], [1, 1], Padding::Same),
        ([1, 5, 7, 3], [4, 3, 3, 2], [1, 1], Padding::Same),
        ([2, 7, 5, 3], [3, 3, 3, 4], [2, 2], Padding::Same),
        ([2, 8, 9, 2], [2, 4, 2, 3], [2, 3], Padding::Same),
        ([1, 7, 7, 2], [5, 5, 2, 2], [2, 2], Padding::Same),
        ([2, 7, 5, 3], [3, 2, 3, 4], [1, 1], Padding::Valid),
        ([2, 9, 8, 2], [3, 3, 2, 5], [2, 2], Padding::Valid),
        ([1, 3, 3, 1], [3, 3, 1, 1], [1, 1], Padding::Valid),
        ([4, 6, 6, 8], [5, 5, 8, 8], [1, 1], Padding::Same),
    ]
}

#[test]
fn tf_same_padding_puts_the_odd_element_at_the_end() -> KResult<()> {
    let w = Window::new("t", "height", 6, 4, 2, Padding::Same)?;
    assert_eq!((w.output, w.pad_before, w.pad_after), (3, 1, 1));
    let w = Window::new("t", "height", 7, 2, 1, Padding::Same)?;
    assert_eq!((w.output, w.pad_before, w.pad_after), (7, 0, 1));
    let w = Window::new("t", "height", 5, 3, 2, Padding::Same)?;
    assert_eq!((w.output, w.pad_before, w.pad_after), (3, 1, 1));
    let w = Window::new("t", "height", 8, 3, 3, Padding::Valid)?;
    assert_eq!((w.output, w.pad_before, w.pad_after), (2, 0, 0));
    Ok(())
}

#[test]
fn conv2d_matches_naive_reference() -> KResult<()> {
    let mut rng = Rng(1);
    for (xs, fs, s, p) in conv_cases() {
        let x = rng.array4(xs);
        let f = rng.array4(fs);
        let got = conv2d(x.view(), f.view(), s, p)?;
        assert_close(&got, &naive_conv(&x, &f, s, p == Padding::Same), 1e-12);
        // f32 through the same kernels.
        let got32 = conv2d(x.mapv(|v| v as f32).view(), f.mapv(|v| v as f32).view(), s, p)?;
        assert_close(&got32.mapv(f64::from), &got, 1e-4);
    }
    Ok(())
}

#[test]
fn conv2d_fused_bias_relu_matches_unfused() -> KResult<()> {
    let mut rng = Rng(2);
    let mut scratch = Conv2dScratch::new();
    for (xs, fs, s, p) in conv_cases() {
        let x = rng.array4(xs);
        let f = rng.array4(fs);
        let b = Array1::from_shape_simple_fn(fs[3], || rng.next());
        let plain = conv2d(x.view(), f.view(), s, p)?;
        let want = relu(bias_add(plain.view().into_dyn(), b.view())?.view());
        // Stale scratch from the previous case and a NaN-filled output must not leak through.
        let mut out = Array4::from_elem(plain.raw_dim(), f64::NAN);
        conv2d_into(x.view(), f.view(), s, p, Epilogue::BiasRelu(b.view()), &mut scratch, out.view_mut())?;
        assert_close(&out.into_dyn(), &want, 1e-12);
    }
    Ok(())
}

/// Stride-1 f32 shapes with 16k output (or input) channels, which take the direct AVX-512
/// kernels when the CPU has them: odd sizes, VALID, batch 1 and batches smaller or larger than
/// the thread count (rows split across threads vs one task per sample), one- and two-vector
/// channel blocks, input-channel counts with every remainder block.
fn direct_cases() -> Vec<([usize; 4], [usize; 4], Padding)> {
    vec![
        ([1, 9, 11, 16], [3, 3, 16, 32], Padding::Same),
        ([3, 7, 13, 5], [5, 5, 5, 16], Padding::Same),
        ([2, 8, 8, 32], [5, 5, 32, 32], Padding::Same),
        ([5, 6, 9, 32], [2, 4, 32, 48], Padding::Same),
        ([2, 10, 7, 15], [3, 2, 15, 16], Padding::Valid),
        ([1, 5, 5, 16], [5, 5, 16, 16], Padding::Valid),
        ([1, 1, 1, 3], [1, 1, 3, 16], Padding::Same),
    ]
}

/// The f32 direct kernels (forward with and without the fused epilogue, both gradients) agree
/// with the f64 GEMM path, which the tests above pin to the naive reference.
#[test]
fn conv2d_direct_f32_kernels_match_the_f64_path() -> KResult<()> {
    let mut rng = Rng(7);
    let mut scratch = Conv2dScratch::<f32>::new();
    let s = [1, 1];
    let close = |got: &Array4<f32>, want: &Array4<f64>| {
        assert_close(&got.mapv(f64::from), want, 1e-4);
    };
    for (xs, fs, p) in direct_cases() {
        let (x, f) = (rng.array4(xs), rng.array4(fs));
        let b = Array1::from_shape_simple_fn(fs[3], || rng.next());
        let (x32, f32_, b32) = (x.mapv(|v| v as f32), f.mapv(|v| v as f32), b.mapv(|v| v as f32));
        let y = conv2d(x.view(), f.view(), s, p)?;
        assert_close(&y, &naive_conv(&x, &f, s, p == Padding::Same), 1e-12);
        close(&conv2d(x32.view(), f32_.view(), s, p)?, &y);
        let want = relu(bias_add(y.view().into_dyn(), b.view())?.view())
            .into_dimensionality()
            .map_err(|e| KernelError::ShapeMismatch { kernel: "test", message: e.to_string() })?;
        let mut out = Array4::from_elem(y.raw_dim(), f32::NAN);
        conv2d_into(x32.view(), f32_.view(), s, p, Epilogue::BiasRelu(b32.view()), &mut scratch, out.view_mut())?;
        close(&out, &want);
        let dy = rng.array4([y.shape()[0], y.shape()[1], y.shape()[2], y.shape()[3]]);
        let dy32 = dy.mapv(|v| v as f32);
        let dx = conv2d_backward_input(dy.view(), f.view(), xs, s, p)?;
        close(&conv2d_backward_input(dy32.view(), f32_.view(), xs, s, p)?, &dx);
        // The preallocated form overwrites every element (NaN must not survive).
        let mut dx32 = Array4::from_elem(xs, f32::NAN);
        conv2d_backward_input_into(dy32.view(), f32_.view(), s, p, &mut scratch, dx32.view_mut())?;
        close(&dx32, &dx);
        close(
            &conv2d_backward_filter(x32.view(), dy32.view(), fs, s, p)?,
            &conv2d_backward_filter(x.view(), dy.view(), fs, s, p)?,
        );
    }
    Ok(())
}

/// `conv2d_backward_input_into` equals the allocating form on every case (strided ones
/// included), into NaN-filled and into non-contiguous (transposed-view) outputs.
#[test]
fn conv2d_backward_input_into_matches_the_allocating_form() -> KResult<()> {
    let mut rng = Rng(9);
    let mut scratch = Conv2dScratch::new();
    for (xs, fs, s, p) in conv_cases() {
        let f = rng.array4(fs);
        let y = conv2d(rng.array4(xs).view(), f.view(), s, p)?;
        let dy = rng.array4([y.shape()[0], y.shape()[1], y.shape()[2], y.shape()[3]]);
        let want = conv2d_backward_input(dy.view(), f.view(), xs, s, p)?;
        let mut dx = Array4::from_elem(xs, f64::NAN);
        conv2d_backward_input_into(dy.view(), f.view(), s, p, &mut scratch, dx.view_mut())?;
        assert_close(&dx, &want, 1e-12);
        let mut t = Array4::from_elem([xs[0], xs[2], xs[1], xs[3]], f64::NAN);
        conv2d_backward_input_into(dy.view(), f.view(), s, p, &mut scratch, t.view_mut().permuted_axes([0, 2, 1, 3]))?;
        assert_close(&t.view().permuted_axes([0, 2, 1, 3]).to_owned(), &want, 1e-12);
    }
    let mut bad = Array4::<f64>::zeros((1, 4, 4, 2));
    let dy = Array4::<f64>::zeros((1, 4, 4, 3));
    let f = Array4::<f64>::zeros((3, 3, 3, 3));
    assert!(
        conv2d_backward_input_into(dy.view(), f.view(), [1, 1], Padding::Same, &mut scratch, bad.view_mut()).is_err()
    );
    Ok(())
}

/// `<conv(x, f), dy>` is bilinear, so its exact gradients are the adjoints; check them by
/// central differences of the scalar `sum(conv(x, f) * dy)`.
#[test]
fn conv2d_gradients_match_finite_differences() -> KResult<()> {
    let mut rng = Rng(3);
    // The largest case only adds run time here; the others cover every code path.
    for (xs, fs, s, p) in conv_cases().into_iter().filter(|c| c.0.iter().product::<usize>() < 500) {
        let x = rng.array4(xs);
        let f = rng.array4(fs);
        let y = conv2d(x.view(), f.view(), s, p)?;
        let dy = rng.array4([y.shape()[0], y.shape()[1], y.shape()[2], y.shape()[3]]);
        let loss =
            |x: &Array4<f64>, f: &Array4<f64>| -> KResult<f64> { Ok((conv2d(x.view(), f.view(), s, p)? * &dy).sum()) };
        let dx = conv2d_backward_input(dy.view(), f.view(), xs, s, p)?;
        let dw = conv2d_backward_filter(x.view(), dy.view(), fs, s, p)?;
        let eps = 1e-5;
        let mut num_dx = Array4::zeros(x.raw_dim());
        for idx in ndarray::indices(x.raw_dim()) {
            let (mut a, mut b) = (x.clone(), x.clone());
            a[idx] += eps;
            b[idx] -= eps;
            num_dx[idx] = (loss(&a, &f)? - loss(&b, &f)?) / (2.0 * eps);
        }
        let mut num_dw = Array4::zeros(f.raw_dim());
        for idx in ndarray::indices(f.raw_dim()) {
            let (mut a, mut b) = (f.clone(), f.clone());
            a[idx] += eps;
            b[idx] -= eps;
            num_dw[idx] = (loss(&x, &a)? - loss(&x, &b)?) / (2.0 * eps);
        }
        assert_close(&dx, &num_dx, 1e-6);
        assert_close(&dw, &num_dw, 1e-6);
    }
    Ok(())
}

#[test]
fn conv2d_refuses_bad_shapes_with_errors() {
    let x = Array4::<f32>::zeros((1, 4, 4, 3));
    let f = Array4::<f32>::zeros((3, 3, 2, 4));
    let e = conv2d(x.view(), f.view(), [1, 1], Padding::Same);
    assert!(matches!(e, Err(KernelError::ShapeMismatch { kernel: "conv2d", .. })), "{e:?}");
    let f = Array4::<f32>::zeros((5, 5, 3, 4));
    assert!(conv2d(x.view(), f.view(), [1, 1], Padding::Valid).is_err());
    assert!(matches!(conv2d(x.view(), f.view(), [0, 1], Padding::Same), Err(KernelError::InvalidArgument { .. })));
    let f = Array4::<f32>::zeros((3, 3, 3, 4));
    let dy = Array4::<f32>::zeros((1, 3, 4, 4));
    assert!(conv2d_backward_input(dy.view(), f.view(), [1, 4, 4, 3], [1, 1], Padding::Same).is_err());
    assert!(conv2d_backward_filter(x.view(), dy.view(), [3, 3, 3, 4], [1, 1], Padding::Same).is_err());
    let mut out = Array4::<f32>::zeros((1, 4, 4, 5));
    let r = conv2d_into(
        x.view(),
        f.view(),
        [1, 1],
        Padding::Same,
        Epilogue::None,
        &mut Conv2dScratch::new(),
        out.view_mut(),
    );
    assert!(r.is_err());
    let b = Array1::<f32>::zeros(3);
    let mut out = Array4::<f32>::zeros((1, 4, 4, 4));
    let r = conv2d_into(
        x.view(),
        f.view(),
        [1, 1],
        Padding::Same,
        Epilogue::Bias(b.view()),
        &mut Conv2dScratch::new(),
        out.view_mut(),
    );
    assert!(r.is_err());
}

fn naive_matmul(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.dim().1;
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum())
}

#[test]
fn matmul_matches_naive_with_transposes_and_strided_views() -> KResult<()> {
    let mut rng = Rng(4);
    // The last size is above the threading threshold.
    for &(m, k, n) in &[(1, 1, 1), (3, 5, 2), (17, 9, 33), (64, 64, 64), (300, 200, 150)] {
        let a = rng.array2((m, k));
        let b = rng.array2((k, n));
        let want = naive_matmul(&a, &b);
        assert_close(&matmul(a.view(), b.view(), false, false)?, &want, 1e-12);
        let (at, bt) = (a.t().to_owned(), b.t().to_owned());
        assert_close(&matmul(at.view(), bt.view(), true, true)?, &want, 1e-12);
        assert_close(&matmul(a.view(), bt.view(), false, true)?, &want, 1e-12);
        // Transposed (column-major) views and a strided slice are accepted too.
        assert_close(&matmul(at.t(), b.view(), false, false)?, &want, 1e-12);
        let wide = rng.array2((m, 2 * k));
        let strided = wide.slice_axis(ndarray::Axis(1), ndarray::Slice::new(0, None, 2));
        assert_close(&matmul(strided, b.view(), false, false)?, &naive_matmul(&strided.to_owned(), &b), 1e-12);
        // Accumulate into a preallocated, transposed output.
        let mut out = Array2::<f64>::ones((n, m));
        matmul_into(a.view(), b.view(), false, false, 2.0, out.view_mut().reversed_axes())?;
        assert_close(&out.t().to_owned(), &(&want + 2.0), 1e-12);
    }
    assert!(matmul(Array2::<f32>::zeros((2, 3)).view(), Array2::<f32>::zeros((2, 3)).view(), false, false).is_err());
    let mut bad = Array2::<f32>::zeros((3, 3));
    assert!(
        matmul_into(
            Array2::<f32>::zeros((2, 3)).view(),
            Array2::<f32>::zeros((3, 3)).view(),
            false,
            false,
            0.0,
            bad.view_mut()
        )
        .is_err()
    );
    Ok(())
}

#[test]
fn batch_matmul_matches_per_sample_products_and_broadcasts() -> KResult<()> {
    let mut rng = Rng(5);
    let a = Array3::from_shape_simple_fn((4, 3, 5), || rng.next());
    let b = Array3::from_shape_simple_fn((4, 5, 2), || rng.next());
    let b1 = Array3::from_shape_simple_fn((1, 5, 2), || rng.next());
    let c = batch_matmul(a.view(), b.view(), false, false)?;
    let c1 = batch_matmul(a.view(), b1.view(), false, false)?;
    for i in 0..4 {
        let ai = a.index_axis(ndarray::Axis(0), i).to_owned();
        assert_close(
            &c.index_axis(ndarray::Axis(0), i).to_owned(),
            &naive_matmul(&ai, &b.index_axis(ndarray::Axis(0), i).to_owned()),
            1e-12,
        );
        assert_close(
            &c1.index_axis(ndarray::Axis(0), i).to_owned(),
            &naive_matmul(&ai, &b1.index_axis(ndarray::Axis(0), 0).to_owned()),
            1e-12,
        );
    }
    let bad = Array3::<f64>::zeros((3, 5, 2));
    assert!(batch_matmul(a.view(), bad.view(), false, false).is_err());
    Ok(())
}

fn naive_pool(x: &Array4<f64>, k: [usize; 2], s: [usize; 2], same: bool, max: bool) -> Array4<f64> {
    let (n, h, w, c) = x.dim();
    let (oh, pt) = tf_pads(h, k[0], s[0], same);
    let (ow, pl) = tf_pads(w, k[1], s[1], same);
    Array4::from_shape_fn((n, oh, ow, c), |(b, oy, ox, ch)| {
        let mut vals = vec![];
        for i in 0..k[0] {
            for j in 0..k[1] {
                let (yy, xx) = ((oy * s[0] + i) as isize - pt as isize, (ox * s[1] + j) as isize - pl as isize);
                if yy >= 0 && xx >= 0 && yy < h as isize && xx < w as isize {
                    vals.push(x[[b, yy as usize, xx as usize, ch]]);
                }
            }
        }
        if max {
            vals.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        } else {
            vals.iter().sum::<f64>() / vals.len() as f64
        }
    })
}

#[test]
fn pooling_matches_naive_and_finite_differences() -> KResult<()> {
    let mut rng = Rng(6);
    let cases = [([2, 7, 5, 3], [3, 3], [2, 2]), ([1, 6, 6, 2], [2, 2], [2, 2]), ([2, 5, 8, 2], [3, 2], [1, 3])];
    for (xs, k, s) in cases {
        for p in PAD {
            let x = rng.array4(xs);
            let same = p == Padding::Same;
            let mx = max_pool2d(x.view(), k, s, p)?;
            let av = avg_pool2d(x.view(), k, s, p)?;
            assert_close(&mx, &naive_pool(&x, k, s, same, true), 1e-12);
            assert_close(&av, &naive_pool(&x, k, s, same, false), 1e-12);
            let dy = rng.array4([mx.shape()[0], mx.shape()[1], mx.shape()[2], mx.shape()[3]]);
            let dmx = max_pool2d_backward(x.view(), dy.view(), k, s, p)?;
            let dav = avg_pool2d_backward(dy.view(), xs, k, s, p)?;
            let eps = 1e-6;
            for idx in ndarray::indices(x.raw_dim()) {
                let (mut a, mut b) = (x.clone(), x.clone());
                a[idx] += eps;
                b[idx] -= eps;
                let fd = |f: &dyn Fn(&Array4<f64>) -> KResult<Array4<f64>>| -> KResult<f64> {
                    Ok(((f(&a)? - f(&b)?) * &dy).sum() / (2.0 * eps))
                };
                let num_max = fd(&|v| max_pool2d(v.view(), k, s, p))?;
                let num_avg = fd(&|v| avg_pool2d(v.view(), k, s, p))?;
                assert!((dmx[idx] - num_max).abs() < 1e-6, "max pool grad at {idx:?}: {} vs {num_max}", dmx[idx]);
                assert!((dav[idx] - num_avg).abs() < 1e-6, "avg pool grad at {idx:?}: {} vs {num_avg}", dav[idx]);
            }
        }
    }
    let x = Array4::<f32>::zeros((1, 2, 2, 1));
    assert!(max_pool2d(x.view(), [3, 3], [1, 1], Padding::Valid).is_err());
    assert!(avg_pool2d(x.view(), [1, 1], [1, 0], Padding::Same).is_err());
    let dy = Array4::<f32>::zeros((1, 1, 1, 1));
    assert!(max_pool2d_backward(x.view(), dy.view(), [1, 1], [1, 1], Padding::Same).is_err());
    Ok(())
}

/// Central-difference gradient of `sum(f(x) * dy)`.
fn numeric_grad(x: &ArrayD<f64>, dy: &ArrayD<f64>, f: impl Fn(&ArrayD<f64>) -> ArrayD<f64>) -> ArrayD<f64> {
    let eps = 1e-6;
    let mut g = ArrayD::zeros(x.raw_dim());
    for (i, gv) in g.iter_mut().enumerate() {
        let (mut a, mut b) = (x.clone(), x.clone());
        if let (Some(av), Some(bv)) = (a.iter_mut().nth(i), b.iter_mut().nth(i)) {
            *av += eps;
            *bv -= eps;
        }
        *gv = ((f(&a) - f(&b)) * dy).sum() / (2.0 * eps);
    }
    g
}

#[test]
fn softmax_and_log_softmax_are_stable_and_have_correct_gradients() -> KResult<()> {
    let mut rng = Rng(7);
    let x = rng.arrayd(&[3, 2, 5]).mapv(|v| v * 4.0);
    let y = softmax(x.view())?;
    for lane in y.lanes(ndarray::Axis(2)) {
        assert!((lane.sum() - 1.0).abs() < 1e-12);
    }
    let ly = log_softmax(x.view())?;
    assert_close(&ly.mapv(f64::exp), &y, 1e-12);
    let dy = rng.arrayd(&[3, 2, 5]);
    let zero = || ArrayD::zeros(IxDyn(&[0]));
    assert_close(
        &softmax_grad(y.view(), dy.view())?,
        &numeric_grad(&x, &dy, |v| softmax(v.view()).unwrap_or_else(|_| zero())),
        1e-7,
    );
    assert_close(
        &log_softmax_grad(ly.view(), dy.view())?,
        &numeric_grad(&x, &dy, |v| log_softmax(v.view()).unwrap_or_else(|_| zero())),
        1e-7,
    );
    // Huge logits neither overflow nor produce NaN.
    let big = ndarray::array![[1000.0f32, -1000.0, 999.0]].into_dyn();
    let s = softmax(big.view())?;
    assert!(s.iter().all(|v| v.is_finite()));
    assert!(log_softmax(big.view())?.iter().all(|v| v.is_finite()));
    assert!(softmax(ndarray::arr0(1.0f32).into_dyn().view()).is_err());
    assert!(softmax_grad(y.view(), rng.arrayd(&[3, 5]).view()).is_err());
    Ok(())
}

#[test]
fn activations_have_correct_gradients() -> KResult<()> {
    let mut rng = Rng(8);
    let x = rng.arrayd(&[4, 3]).mapv(|v| v * 3.0);
    let dy = rng.arrayd(&[4, 3]);
    let s = sigmoid(x.view());
    assert_close(&sigmoid_grad(s.view(), dy.view())?, &numeric_grad(&x, &dy, |v| sigmoid(v.view())), 1e-7);
    let t = tanh(x.view());
    assert_close(&tanh_grad(t.view(), dy.view())?, &numeric_grad(&x, &dy, |v| tanh(v.view())), 1e-7);
    let r = relu(x.view());
    assert_close(&relu_grad(x.view(), dy.view())?, &numeric_grad(&x, &dy, |v| relu(v.view())), 1e-7);
    assert_close(&relu_grad(r.view(), dy.view())?, &relu_grad(x.view(), dy.view())?, 0.0);
    let extreme = ndarray::array![-1000.0f32, 1000.0, 0.0];
    assert_eq!(sigmoid(extreme.view()), ndarray::array![0.0, 1.0, 0.5]);
    assert!(relu_grad(x.view(), rng.arrayd(&[3, 4]).view()).is_err());
    Ok(())
}

#[test]
fn bias_add_and_its_gradient() -> KResult<()> {
    let mut rng = Rng(9);
    let x = rng.arrayd(&[2, 3, 4]);
    let b = Array1::from_shape_simple_fn(4, || rng.next());
    let y = bias_add(x.view(), b.view())?;
    for (idx, v) in y.indexed_iter() {
        assert!((v - x[&idx] - b[idx[2]]).abs() < 1e-15);
    }
    let dy = rng.arrayd(&[2, 3, 4]);
    let db = bias_add_grad(dy.view())?;
    let want = dy.sum_axis(ndarray::Axis(0)).sum_axis(ndarray::Axis(0));
    assert_close(&db.into_dyn(), &want, 1e-12);
    assert!(bias_add(x.view(), Array1::zeros(3).view()).is_err());
    assert!(bias_add_grad(ndarray::arr0(1.0f64).into_dyn().view()).is_err());
    Ok(())
}

#[test]
fn broadcasting_shapes_and_gradient_reduction() -> KResult<()> {
    assert_eq!(broadcast_shape(&[2, 1, 4], &[3, 1])?, vec![2, 3, 4]);
    assert_eq!(broadcast_shape(&[], &[5])?, vec![5]);
    assert!(broadcast_shape(&[2, 3], &[3, 2]).is_err());
    let mut rng = Rng(10);
    let g = rng.arrayd(&[2, 3, 4]);
    let r = reduce_to_shape(g.view(), &[3, 1])?;
    let want = g.sum_axis(ndarray::Axis(0)).sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1));
    assert_close(&r, &want, 1e-12);
    let r = reduce_to_shape(g.view(), &[])?;
    assert!((r[IxDyn(&[])] - g.sum()).abs() < 1e-12);
    assert_close(&reduce_to_shape(g.view(), &[2, 3, 4])?, &g, 0.0);
    assert!(reduce_to_shape(g.view(), &[2, 4]).is_err());
    assert!(reduce_to_shape(g.view(), &[1, 2, 3, 4]).is_err());
    Ok(())
}

#[test]
fn kernel_errors_map_onto_runtime_errors_naming_the_node() {
    let x = Array4::<f32>::zeros((1, 4, 4, 3));
    let f = Array4::<f32>::zeros((3, 3, 2, 4));
    let Err(e) = conv2d(x.view(), f.view(), [1, 1], Padding::Same) else {
        unreachable!("mismatched channels must be refused")
    };
    let err = e.into_error("Conv2D", "conv1/Conv2D", x.shape(), f.shape());
    // TF raises ValueError for op shape errors, which the runtime classifies as invalid_argument.
    assert!(matches!(err, crate::Error::IncompatibleShapes { .. }));
    assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    let text = err.to_string();
    assert!(text.contains("`conv1/Conv2D`") && text.contains("(1, 4, 4, 3)") && text.contains("3 channels"), "{text}");
    let f = Array4::<f32>::zeros((3, 3, 3, 4));
    let Err(e) = conv2d(x.view(), f.view(), [0, 1], Padding::Same) else {
        unreachable!("a zero stride must be refused")
    };
    let err = e.into_error("Conv2D", "conv1/Conv2D", x.shape(), f.shape());
    assert!(matches!(err, crate::Error::InvalidArgument { .. }));
    assert!(err.to_string().contains("`conv1/Conv2D`"));
}

#[test]
fn empty_dimensions_give_empty_results_not_panics() -> KResult<()> {
    for (xs, fs, s) in [
        ([0, 4, 4, 3], [3, 3, 3, 2], [1, 1]),
        ([2, 4, 4, 0], [3, 3, 0, 2], [1, 1]),
        ([2, 4, 4, 3], [3, 3, 3, 0], [1, 1]),
        ([2, 0, 4, 3], [3, 3, 3, 2], [1, 1]),
        ([0, 4, 4, 3], [3, 3, 3, 2], [2, 2]),
        ([2, 4, 4, 0], [3, 3, 0, 2], [2, 2]),
    ] {
        let x = Array4::<f32>::zeros(xs);
        let f = Array4::<f32>::zeros(fs);
        let y = conv2d(x.view(), f.view(), s, Padding::Same)?;
        let dy = Array4::<f32>::ones(y.raw_dim());
        assert_eq!(conv2d_backward_input(dy.view(), f.view(), xs, s, Padding::Same)?.shape(), &xs);
        assert_eq!(conv2d_backward_filter(x.view(), dy.view(), fs, s, Padding::Same)?.shape(), &fs);
        let p = max_pool2d(x.view(), [2, 2], s, Padding::Same)?;
        assert_eq!(max_pool2d_backward(x.view(), p.view(), [2, 2], s, Padding::Same)?.shape(), &xs);
        assert_eq!(
            avg_pool2d_backward(avg_pool2d(x.view(), [2, 2], s, Padding::Same)?.view(), xs, [2, 2], s, Padding::Same)?
                .shape(),
            &xs
        );
    }
    // No input channels: the output is the epilogue of an empty sum.
    let b = ndarray::array![-1.0f32, 2.0];
    let mut out = Array4::from_elem((2, 4, 4, 2), f32::NAN);
    let (x, f) = (Array4::<f32>::zeros((2, 4, 4, 0)), Array4::<f32>::zeros((3, 3, 0, 2)));
    conv2d_into(
        x.view(),
        f.view(),
        [1, 1],
        Padding::Same,
        Epilogue::BiasRelu(b.view()),
        &mut Conv2dScratch::new(),
        out.view_mut(),
    )?;
    assert!(
        out.outer_iter()
            .all(|s| s.iter().step_by(2).all(|&v| v == 0.0) && s.iter().skip(1).step_by(2).all(|&v| v == 2.0))
    );
    let e = Array2::<f32>::zeros((0, 3));
    assert_eq!(matmul(e.view(), Array2::zeros((3, 4)).view(), false, false)?.shape(), &[0, 4]);
    assert_eq!(
        matmul(Array2::<f32>::zeros((2, 0)).view(), Array2::zeros((0, 4)).view(), false, false)?,
        Array2::<f32>::zeros((2, 4))
    );
    assert_eq!(softmax(ArrayD::<f32>::zeros(IxDyn(&[2, 0])).view())?.shape(), &[2, 0]);
    assert_eq!(bias_add_grad(ArrayD::<f32>::zeros(IxDyn(&[2, 0])).view())?.len(), 0);
    Ok(())
}

/// Inputs past the parallel threshold (and odd sizes around it) take the multi-threaded paths
/// of the elementwise kernels; they must equal the elementwise definitions.
#[test]
fn large_elementwise_kernels_split_over_threads_match_the_definitions() -> KResult<()> {
    let mut rng = Rng(11);
    for shape in [[3, 97, 113, 7], [2, 64, 64, 16], [1, 1, 1, 65_537]] {
        let x = rng.array4(shape).into_dyn();
        let dy = rng.array4(shape).into_dyn();
        let r = relu(x.view());
        assert!(r.iter().zip(x.iter()).all(|(&r, &x)| r == x.max(0.0)));
        let g = relu_grad(x.view(), dy.view())?;
        assert!(g.iter().zip(x.iter().zip(dy.iter())).all(|(&g, (&x, &d))| g == if x > 0.0 { d } else { 0.0 }));
        let g = sigmoid_grad(x.view(), dy.view())?;
        assert!(g.iter().zip(x.iter().zip(dy.iter())).all(|(&g, (&y, &d))| g == d * y * (1.0 - y)));
        let g = tanh_grad(x.view(), dy.view())?;
        assert!(g.iter().zip(x.iter().zip(dy.iter())).all(|(&g, (&y, &d))| g == d * (1.0 - y * y)));
        let c = shape[3];
        let b = Array1::from_shape_simple_fn(c, || rng.next());
        let got = bias_add(x.view(), b.view())?;
        let want = &x + &b;
        assert_close(&got, &want, 0.0);
        let db = bias_add_grad(dy.view())?;
        let rows = dy.len() / c;
        let flat = dy.to_shape((rows, c)).map_err(|e| KernelError::shape("test", e.to_string()))?;
        assert_close(&db, &flat.sum_axis(ndarray::Axis(0)), 1e-12);
        // A transposed (non-standard) view takes the single-threaded path and agrees.
        let xt = x.view().reversed_axes();
        assert_close(&relu(xt).reversed_axes(), &r, 0.0);
    }
    Ok(())
}
