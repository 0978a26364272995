//! Max and average pooling in NHWC with TF's SAME / VALID windows.
//!
//! Padded positions never take part: max pooling ignores them and average pooling divides by the
//! number of real elements in each window, as TensorFlow does.

use ndarray::{Array4, ArrayView4};
use rayon::prelude::*;

use super::{Float, KResult, KernelError, Padding, Window};

/// The shapes of one pooling: batch, channels and both spatial [`Window`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pool2dGeometry {
    /// Batch size.
    pub batch: usize,
    /// Channels (pooled independently).
    pub channels: usize,
    /// The height window.
    pub height: Window,
    /// The width window.
    pub width: Window,
}

impl Pool2dGeometry {
    /// Computes the output size and padding for an NHWC `input` shape, `ksize = [kh, kw]` and
    /// `strides = [sh, sw]` (TF's `ksize=[1, kh, kw, 1]`, `strides=[1, sh, sw, 1]`).
    pub fn new(
        kernel: &'static str,
        input: &[usize],
        ksize: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    ) -> KResult<Self> {
        let &[n, h, w, c] = input else {
            return Err(KernelError::shape(
                kernel,
                format!("input {input:?} must be rank 4 (NHWC); reshape it to [batch, height, width, channels]"),
            ));
        };
        let height = Window::new(kernel, "height", h, ksize[0], strides[0], padding)?;
        let width = Window::new(kernel, "width", w, ksize[1], strides[1], padding)?;
        Ok(Self { batch: n, channels: c, height, width })
    }

    /// `[n, out_h, out_w, c]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.height.output, self.width.output, self.channels]
    }

    /// The input rows (or columns) window `out` covers, clipped to the real input.
    fn span(w: &Window, out: usize) -> std::ops::Range<usize> {
        let start = out * w.stride;
        let lo = start.saturating_sub(w.pad_before);
        let hi = (start + w.kernel).saturating_sub(w.pad_before).min(w.input);
        lo..hi.max(lo)
    }
}

fn check_dy<T>(kernel: &'static str, g: &Pool2dGeometry, dy: &ArrayView4<'_, T>) -> KResult<()> {
    if dy.shape() != g.output_shape() {
        return Err(KernelError::shape(
            kernel,
            format!(
                "output gradient is {:?} but the pooling's output is {:?}; pass the gradient of that output",
                dy.shape(),
                g.output_shape()
            ),
        ));
    }
    Ok(())
}

fn std_slice<'a, T: Float>(kernel: &'static str, a: &'a ndarray::CowArray<'_, T, ndarray::Ix4>) -> KResult<&'a [T]> {
    a.as_slice().ok_or_else(|| KernelError::shape(kernel, "operand is not in standard layout"))
}

fn out_slice<'a, T>(kernel: &'static str, a: &'a mut Array4<T>) -> KResult<&'a mut [T]> {
    a.as_slice_mut().ok_or_else(|| KernelError::shape(kernel, "output is not in standard layout"))
}

/// `MaxPool` forward.
///
/// ```
/// use varscope::ndarray::Array4;
/// use varscope::kernels::{max_pool2d, Padding};
/// let x = Array4::from_shape_vec((1, 2, 2, 1), vec![1.0f32, 5.0, 3.0, 2.0]).unwrap();
/// let y = max_pool2d(x.view(), [2, 2], [2, 2], Padding::Valid)?;
/// assert_eq!(y[[0, 0, 0, 0]], 5.0);
/// # Ok::<(), varscope::kernels::KernelError>(())
/// ```
pub fn max_pool2d<T: Float>(
    input: ArrayView4<'_, T>,
    ksize: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
) -> KResult<Array4<T>> {
    const K: &str = "max_pool2d";
    let g = Pool2dGeometry::new(K, input.shape(), ksize, strides, padding)?;
    let mut out = Array4::from_elem(g.output_shape(), T::NEG_INFINITY);
    let x = input.as_standard_layout();
    pool_forward(&g, std_slice(K, &x)?, out_slice(K, &mut out)?, |acc, v| {
        if v > *acc {
            *acc = v
        }
    });
    Ok(out)
}

/// `AvgPool` forward (padding excluded from each window's count).
pub fn avg_pool2d<T: Float>(
    input: ArrayView4<'_, T>,
    ksize: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
) -> KResult<Array4<T>> {
    const K: &str = "avg_pool2d";
    let g = Pool2dGeometry::new(K, input.shape(), ksize, strides, padding)?;
    let mut out = Array4::zeros(g.output_shape());
    let x = input.as_standard_layout();
    pool_forward(&g, std_slice(K, &x)?, out_slice(K, &mut out)?, |acc, v| *acc += v);
    let (hw, ww) = (g.height, g.width);
    for ((_, oy, ox, _), v) in out.indexed_iter_mut() {
        let count = Pool2dGeometry::span(&hw, oy).len() * Pool2dGeometry::span(&ww, ox).len();
        *v /= T::from_usize(count.max(1));
    }
    Ok(out)
}

fn pool_forward<T: Float>(g: &Pool2dGeometry, x: &[T], out: &mut [T], combine: impl Fn(&mut T, T) + Sync) {
    let (hw, ww) = (g.height, g.width);
    let c = g.channels;
    let (in_sample, out_sample) = (hw.input * ww.input * c, hw.output * ww.output * c);
    if in_sample == 0 || out_sample == 0 {
        return;
    }
    out.par_chunks_mut(out_sample).zip(x.par_chunks(in_sample)).for_each(|(o, xi)| {
        for oy in 0..hw.output {
            for ox in 0..ww.output {
                let px = &mut o[(oy * ww.output + ox) * c..][..c];
                for y in Pool2dGeometry::span(&hw, oy) {
                    for xx in Pool2dGeometry::span(&ww, ox) {
                        for (acc, &v) in px.iter_mut().zip(&xi[(y * ww.input + xx) * c..][..c]) {
                            combine(acc, v);
                        }
                    }
                }
            }
        }
    });
}

/// Gradient of [`max_pool2d`]: each window's output gradient flows to the first maximal input
/// (row-major order within the window), summed where windows overlap.
pub fn max_pool2d_backward<T: Float>(
    input: ArrayView4<'_, T>,
    dy: ArrayView4<'_, T>,
    ksize: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
) -> KResult<Array4<T>> {
    const K: &str = "max_pool2d_backward";
    let g = Pool2dGeometry::new(K, input.shape(), ksize, strides, padding)?;
    check_dy(K, &g, &dy)?;
    let (hw, ww) = (g.height, g.width);
    let c = g.channels;
    let x = input.as_standard_layout();
    let dy = dy.as_standard_layout();
    let (xs, dys) = (std_slice(K, &x)?, std_slice(K, &dy)?);
    let mut dx = Array4::zeros(input.raw_dim());
    let (in_sample, out_sample) = (hw.input * ww.input * c, hw.output * ww.output * c);
    if in_sample == 0 || out_sample == 0 {
        return Ok(dx);
    }
    out_slice(K, &mut dx)?
        .par_chunks_mut(in_sample)
        .zip(xs.par_chunks(in_sample))
        .zip(dys.par_chunks(out_sample))
        .for_each(|((dxi, xi), dyi)| {
            for oy in 0..hw.output {
                for ox in 0..ww.output {
                    for ch in 0..c {
                        let mut best: Option<(T, usize)> = None;
                        for y in Pool2dGeometry::span(&hw, oy) {
                            for xx in Pool2dGeometry::span(&ww, ox) {
                                let at = (y * ww.input + xx) * c + ch;
                                if best.is_none_or(|(b, _)| xi[at] > b) {
                                    best = Some((xi[at], at));
                                }
                            }
                        }
                        if let Some((_, at)) = best {
                            dxi[at] += dyi[(oy * ww.output + ox) * c + ch];
                        }
                    }
                }
            }
        });
    Ok(dx)
}

/// Gradient of [`avg_pool2d`]: each window's output gradient is spread evenly over its real inputs.
pub fn avg_pool2d_backward<T: Float>(
    dy: ArrayView4<'_, T>,
    input_shape: [usize; 4],
    ksize: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
) -> KResult<Array4<T>> {
    const K: &str = "avg_pool2d_backward";
    let g = Pool2dGeometry::new(K, &input_shape, ksize, strides, padding)?;
    check_dy(K, &g, &dy)?;
    let (hw, ww) = (g.height, g.width);
    let c = g.channels;
    let dy = dy.as_standard_layout();
    let dys = std_slice(K, &dy)?;
    let mut dx = Array4::zeros(input_shape);
    let (in_sample, out_sample) = (hw.input * ww.input * c, hw.output * ww.output * c);
    if in_sample == 0 || out_sample == 0 {
        return Ok(dx);
    }
    out_slice(K, &mut dx)?.par_chunks_mut(in_sample).zip(dys.par_chunks(out_sample)).for_each(|(dxi, dyi)| {
        for oy in 0..hw.output {
            for ox in 0..ww.output {
                let (ys, xs) = (Pool2dGeometry::span(&hw, oy), Pool2dGeometry::span(&ww, ox));
                let count = T::from_usize((ys.len() * xs.len()).max(1));
                let g_px = &dyi[(oy * ww.output + ox) * c..][..c];
                for y in ys {
                    for xx in xs.clone() {
                        for (d, &gv) in dxi[(y * ww.input + xx) * c..][..c].iter_mut().zip(g_px) {
                            *d += gv / count;
                        }
                    }
                }
            }
        }
    });
    Ok(dx)
}
