//! 2-D convolution in TensorFlow's layout: NHWC input, HWIO filter, SAME / VALID padding.
//!
//! Stride 1 (the common case) uses an "implicit im2col": the zero-padded image of one sample is a
//! `[hp * wp, c]` row-major matrix, and for filter row `i` the im2col matrix is the overlapping-row
//! view that starts at padded row `i` with row stride `c` and `kw * c` columns. Each output pixel
//! `(oh, ow)` is the "virtual" row `oh * wp + ow` of that view, so a convolution is `kh`
//! accumulated GEMMs per sample, `[(oh - 1) * wp + ow, kw * c] @ [kw * c, o]`, with no im2col copy.
//! Virtual rows with `ow >= out_w` are computed and dropped (about `(kw - 1) / wp` extra work).
//! The input gradient is the same kernel on the zero-padded output gradient with the filter
//! flipped spatially and its channel axes swapped; the filter gradient is `kh` GEMMs of the
//! transposed implicit view with the output gradient. Larger strides fall back to an explicit
//! per-sample im2col + GEMM (col2im for the input gradient). Samples are split across threads.
//!
//! For f32 on a CPU with AVX-512 and output channels in multiples of 16 (the seed model's 32),
//! stride 1 runs on `scope_gemm::conv`'s direct kernels instead of the GEMMs: the forward (and so
//! the input gradient) keeps 8 pixels x 32 channels in registers with the bias / relu applied
//! before the store, and the filter gradient reduces whole rows of each sample per tap with
//! 8 x 32 channels in registers, so it needs no spread of `dy` into virtual rows.

use std::any::Any;
use std::cell::RefCell;

use ndarray::{Array4, ArrayView1, ArrayView4, ArrayViewMut4};
use rayon::prelude::*;
use scope_gemm::conv::{self as conv_direct, ConvShape};
use scope_gemm::{MatMut, MatRef, Parallelism};

use super::matmul::parallelism_for;
use super::{Float, KResult, KernelError, Padding, Window};

const FWD: &str = "conv2d";
const BWD_IN: &str = "conv2d_backward_input";
const BWD_F: &str = "conv2d_backward_filter";

/// The shapes of one `Conv2D`: batch, channels and both spatial [`Window`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conv2dGeometry {
    /// Batch size `n`.
    pub batch: usize,
    /// Input channels `c` (the filter's `I`).
    pub in_channels: usize,
    /// Output channels `o` (the filter's `O`).
    pub out_channels: usize,
    /// The height window (input, kernel, stride, output, padding).
    pub height: Window,
    /// The width window.
    pub width: Window,
}

impl Conv2dGeometry {
    /// Checks an NHWC input shape against an HWIO filter shape and computes TF's output size and
    /// padding for `strides = [stride_h, stride_w]`.
    ///
    /// ```
    /// use varscope::kernels::{Conv2dGeometry, Padding};
    /// let g = Conv2dGeometry::new(&[8, 32, 32, 32], &[5, 5, 32, 32], [1, 1], Padding::Same)?;
    /// assert_eq!(g.output_shape(), [8, 32, 32, 32]);
    /// assert_eq!((g.height.pad_before, g.height.pad_after), (2, 2));
    /// # Ok::<(), varscope::kernels::KernelError>(())
    /// ```
    pub fn new(input: &[usize], filter: &[usize], strides: [usize; 2], padding: Padding) -> KResult<Self> {
        let (&[n, h, w, c], &[kh, kw, fc, o]) = (input, filter) else {
            return Err(KernelError::shape(
                FWD,
                format!(
                    "input {input:?} must be rank 4 (NHWC) and filter {filter:?} rank 4 (HWIO); \
                     reshape them to [batch, height, width, channels] and [kh, kw, in, out]"
                ),
            ));
        };
        if c != fc {
            return Err(KernelError::shape(
                FWD,
                format!(
                    "input {input:?} has {c} channels but filter {filter:?} expects {fc}; make the \
                     filter's third dimension equal the input's last"
                ),
            ));
        }
        let height = Window::new(FWD, "height", h, kh, strides[0], padding)?;
        let width = Window::new(FWD, "width", w, kw, strides[1], padding)?;
        Ok(Self { batch: n, in_channels: c, out_channels: o, height, width })
    }

    /// `[n, h, w, c]`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.height.input, self.width.input, self.in_channels]
    }

    /// `[kh, kw, c, o]`.
    pub fn filter_shape(&self) -> [usize; 4] {
        [self.height.kernel, self.width.kernel, self.in_channels, self.out_channels]
    }

    /// `[n, out_h, out_w, o]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.height.output, self.width.output, self.out_channels]
    }

    /// Floating-point operations of the forward pass (2 per multiply-add).
    pub fn flops(&self) -> usize {
        2 * self.batch
            * self.height.output
            * self.width.output
            * self.out_channels
            * self.height.kernel
            * self.width.kernel
            * self.in_channels
    }

    fn unit_stride(&self) -> bool {
        self.height.stride == 1 && self.width.stride == 1
    }
}

/// What to apply to each output element while it is written (fuses `BiasAdd` and `Relu`).
#[derive(Debug, Clone, Copy)]
pub enum Epilogue<'a, T> {
    /// The plain convolution.
    None,
    /// Adds `bias[o]` to output channel `o`.
    Bias(ArrayView1<'a, T>),
    /// Adds the bias, then `max(0, x)`.
    BiasRelu(ArrayView1<'a, T>),
}

impl<'a, T: Float> Epilogue<'a, T> {
    fn bias(&self, channels: usize) -> KResult<Option<(ndarray::CowArray<'a, T, ndarray::Ix1>, bool)>> {
        let (b, relu) = match self {
            Self::None => return Ok(None),
            Self::Bias(b) => (b, false),
            Self::BiasRelu(b) => (b, true),
        };
        if b.len() != channels {
            return Err(KernelError::shape(
                FWD,
                format!(
                    "bias has {} elements but the convolution has {channels} output channels; use a \
                     bias of shape [{channels}]",
                    b.len()
                ),
            ));
        }
        let b: ArrayView1<'a, T> = *b;
        let b = if b.is_standard_layout() { ndarray::CowArray::from(b) } else { ndarray::CowArray::from(b.to_owned()) };
        Ok(Some((b, relu)))
    }
}

fn std_slice<'a, T: Float>(kernel: &'static str, a: &'a ndarray::CowArray<'_, T, ndarray::Ix4>) -> KResult<&'a [T]> {
    a.as_slice().ok_or_else(|| KernelError::shape(kernel, "operand is not in standard layout"))
}

fn gemm_err(kernel: &'static str) -> impl Fn(scope_gemm::GemmError) -> KernelError {
    move |e| KernelError::gemm(kernel, e)
}

/// Zero-pads NHWC `x` into `[n, pt + h + pb, pl + w + pr, c]` (reusing `buf`).
#[allow(clippy::too_many_arguments)]
fn pad_nhwc<T: Float>(
    x: &[T],
    [n, h, w, c]: [usize; 4],
    (pt, pb): (usize, usize),
    (pl, pr): (usize, usize),
    buf: &mut Vec<T>,
) {
    let (hp, wp) = (pt + h + pb, pl + w + pr);
    buf.clear();
    buf.resize(n * hp * wp * c, T::zero());
    if n == 0 || h == 0 || w == 0 || c == 0 {
        return;
    }
    buf.par_chunks_mut(hp * wp * c).zip(x.par_chunks(h * w * c)).for_each(|(dst, src)| {
        for (y, row) in src.chunks(w * c).enumerate() {
            let start = ((y + pt) * wp + pl) * c;
            dst[start..start + w * c].copy_from_slice(row);
        }
    });
}

/// One stride-1 "implicit im2col" convolution: NHWC input `[n, h, w, c]`, zero-padded by
/// `pads = ((top, bottom), (left, right))`, correlated with a contiguous HWIO filter
/// `[kh, kw, c, o]`. Output `[n, hp - kh + 1, wp - kw + 1, o]`.
#[derive(Debug, Clone, Copy)]
struct Implicit {
    input: [usize; 4],
    pads: ((usize, usize), (usize, usize)),
    filter: [usize; 3],
}

impl Implicit {
    fn padded(&self) -> (usize, usize) {
        let [_, h, w, _] = self.input;
        let ((pt, pb), (pl, pr)) = self.pads;
        (pt + h + pb, pl + w + pr)
    }

    fn output(&self) -> (usize, usize) {
        let (hp, wp) = self.padded();
        let [kh, kw, _] = self.filter;
        ((hp + 1).saturating_sub(kh), (wp + 1).saturating_sub(kw))
    }

    /// Each sample is padded, multiplied and written out (with the bias / relu) by one task, so
    /// a convolution has a single fork-join however many passes it makes.
    #[allow(clippy::too_many_arguments)]
    fn run<T: Float>(
        &self,
        kernel: &'static str,
        x: &[T],
        f: &[T],
        bias: Option<(&[T], bool)>,
        padded: &mut Vec<T>,
        virtual_out: &mut Vec<T>,
        out: &mut [T],
    ) -> KResult<()> {
        let [n, h, w, c] = self.input;
        let [kh, kw, o] = self.filter;
        let (hp, wp) = self.padded();
        let (oh, ow) = self.output();
        if n == 0 || oh == 0 || ow == 0 || o == 0 {
            return Ok(());
        }
        // Virtual row `y * wp + x` is output pixel (y, x); rows with x >= ow are dropped.
        let mv = (oh - 1) * wp + ow;
        let (sample_in, sample_pad, sample_out) = (h * w * c, hp * wp * c, oh * ow * o);
        if sample_pad == 0 {
            // No input channels: every output is the epilogue applied to an empty sum.
            for px in out.chunks_exact_mut(o) {
                for (k, v) in px.iter_mut().enumerate() {
                    *v = match bias {
                        None => T::zero(),
                        Some((b, relu)) => {
                            if relu {
                                relu1(b[k])
                            } else {
                                b[k]
                            }
                        }
                    };
                }
            }
            return Ok(());
        }
        let shape = ConvShape { hp, wp, c, kh, kw, o };
        if conv_direct::supported::<T>(&shape) {
            return self.run_direct(kernel, &shape, x, f, bias, padded, out);
        }
        // Every element of both buffers is written before it is read, so stale contents are fine.
        for (buf, len) in [(&mut *padded, n * sample_pad), (&mut *virtual_out, n * mv * o)] {
            if buf.len() != len {
                buf.clear();
                buf.resize(len, T::zero());
            }
        }
        let one = |img: usize, xp: &mut [T], yv: &mut [T], dst: &mut [T], par: Parallelism| -> KResult<()> {
            self.pad_sample(&x[img * sample_in..][..sample_in], xp);
            for i in 0..kh {
                let lhs = MatRef::new(xp, i * wp * c, mv, kw * c, c, 1).map_err(gemm_err(kernel))?;
                let rhs = MatRef::new(f, i * kw * c * o, kw * c, o, o, 1).map_err(gemm_err(kernel))?;
                let out_v = MatMut::row_major(yv, mv, o).map_err(gemm_err(kernel))?;
                let beta = if i == 0 { None } else { Some(T::one()) };
                scope_gemm::gemm(out_v, lhs, rhs, T::one(), beta, par).map_err(gemm_err(kernel))?;
            }
            for y in 0..oh {
                let s = &yv[y * wp * o..(y * wp + ow) * o];
                let d = &mut dst[y * ow * o..(y + 1) * ow * o];
                match bias {
                    None => d.copy_from_slice(s),
                    Some((b, relu)) => {
                        for (dp, sp) in d.chunks_exact_mut(o).zip(s.chunks_exact(o)) {
                            for ((dv, &sv), &bv) in dp.iter_mut().zip(sp).zip(b) {
                                let v = sv + bv;
                                *dv = if relu { relu1(v) } else { v };
                            }
                        }
                    }
                }
            }
            Ok(())
        };
        if n == 1 {
            return one(0, padded, virtual_out, out, parallelism_for(mv, o, kh * kw * c));
        }
        // Samples run in parallel with one single-threaded GEMM each; a sample's padded image and
        // virtual output stay in that core's L2.
        padded
            .par_chunks_mut(sample_pad)
            .zip(virtual_out.par_chunks_mut(mv * o))
            .zip(out.par_chunks_mut(sample_out))
            .enumerate()
            .try_for_each(|(img, ((xp, yv), dst))| one(img, xp, yv, dst, Parallelism::Sequential))
    }

    /// Zero-pads one sample `[h, w, c]` into `xp` (`[hp, wp, c]`).
    fn pad_sample<T: Float>(&self, x: &[T], xp: &mut [T]) {
        let [_, _, w, c] = self.input;
        let ((pt, _), (pl, _)) = self.pads;
        let (_, wp) = self.padded();
        xp.fill(T::zero());
        if w * c > 0 {
            for (y, row) in x.chunks_exact(w * c).enumerate() {
                xp[((y + pt) * wp + pl) * c..][..w * c].copy_from_slice(row);
            }
        }
    }

    /// The direct AVX-512 kernel (`scope_gemm::conv`): no virtual columns, no packing, the
    /// epilogue applied in registers. With at least as many samples as threads each task pads and
    /// convolves one sample (its padded image stays in that core's L2); with fewer, each sample
    /// is padded once and its output rows are split across the threads.
    #[allow(clippy::too_many_arguments)]
    fn run_direct<T: Float>(
        &self,
        kernel: &'static str,
        shape: &ConvShape,
        x: &[T],
        f: &[T],
        bias: Option<(&[T], bool)>,
        padded: &mut Vec<T>,
        out: &mut [T],
    ) -> KResult<()> {
        let [n, h, w, c] = self.input;
        let (sample_in, sample_pad) = (h * w * c, shape.hp * shape.wp * c);
        let (oh, row) = (shape.out_h(), shape.out_w() * shape.o);
        let threads = rayon::current_num_threads().max(1);
        let rows = |xp: &[T], r: std::ops::Range<usize>, dst: &mut [T]| -> KResult<()> {
            match conv_direct::forward_rows(shape, xp, f, bias, r, dst) {
                Ok(true) => Ok(()),
                Ok(false) => Err(KernelError::shape(kernel, "the direct convolution kernel refused a supported shape")),
                Err(e) => Err(KernelError::gemm(kernel, e)),
            }
        };
        if n >= threads {
            if padded.len() < n * sample_pad {
                padded.resize(n * sample_pad, T::zero());
            }
            return padded[..n * sample_pad]
                .par_chunks_mut(sample_pad)
                .zip(out.par_chunks_mut(oh * row))
                .enumerate()
                .try_for_each(|(img, (xp, dst))| {
                    self.pad_sample(&x[img * sample_in..][..sample_in], xp);
                    rows(xp, 0..oh, dst)
                });
        }
        if padded.len() < sample_pad {
            padded.resize(sample_pad, T::zero());
        }
        let chunk = oh.div_ceil(2 * threads).max(1);
        for (img, dst) in out.chunks_exact_mut(oh * row).enumerate() {
            let xp = &mut padded[..sample_pad];
            self.pad_sample(&x[img * sample_in..][..sample_in], xp);
            let xp: &[T] = xp;
            dst.par_chunks_mut(chunk * row).enumerate().try_for_each(|(k, d)| {
                let y0 = k * chunk;
                rows(xp, y0..y0 + d.len() / row, d)
            })?;
        }
        Ok(())
    }
}

#[inline]
fn relu1<T: Float>(v: T) -> T {
    if v > T::zero() { v } else { T::zero() }
}

/// Applies the bias / relu in place on a dense `[.., o]` slice.
fn apply_bias<T: Float>(out: &mut [T], o: usize, bias: Option<(&[T], bool)>) {
    let Some((b, relu)) = bias else { return };
    if o == 0 {
        return;
    }
    out.par_chunks_mut(o * 256).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(o) {
            for (v, &bv) in px.iter_mut().zip(b) {
                let x = *v + bv;
                *v = if relu { relu1(x) } else { x };
            }
        }
    });
}

/// Writes the im2col rows of sample `x` (`[h, w, c]`) into `cols` (`[oh * ow, kh * kw * c]`).
fn im2col<T: Float>(x: &[T], g: &Conv2dGeometry, cols: &mut [T]) {
    let (hw, ww) = (g.height, g.width);
    let c = g.in_channels;
    let kdim = hw.kernel * ww.kernel * c;
    for oy in 0..hw.output {
        for ox in 0..ww.output {
            let row = &mut cols[(oy * ww.output + ox) * kdim..][..kdim];
            for i in 0..hw.kernel {
                let y = (oy * hw.stride + i).checked_sub(hw.pad_before).filter(|&y| y < hw.input);
                for j in 0..ww.kernel {
                    let dst = &mut row[(i * ww.kernel + j) * c..][..c];
                    let x_ = (ox * ww.stride + j).checked_sub(ww.pad_before).filter(|&x| x < ww.input);
                    match (y, x_) {
                        (Some(y), Some(xx)) => {
                            dst.copy_from_slice(&x[(y * ww.input + xx) * c..][..c]);
                        }
                        _ => dst.fill(T::zero()),
                    }
                }
            }
        }
    }
}

/// Scatter-adds im2col rows back into a sample gradient `dx` (`[h, w, c]`, zeroed by the caller).
fn col2im<T: Float>(cols: &[T], g: &Conv2dGeometry, dx: &mut [T]) {
    let (hw, ww) = (g.height, g.width);
    let c = g.in_channels;
    let kdim = hw.kernel * ww.kernel * c;
    for oy in 0..hw.output {
        for ox in 0..ww.output {
            let row = &cols[(oy * ww.output + ox) * kdim..][..kdim];
            for i in 0..hw.kernel {
                let Some(y) = (oy * hw.stride + i).checked_sub(hw.pad_before).filter(|&y| y < hw.input) else {
                    continue;
                };
                for j in 0..ww.kernel {
                    let Some(xx) = (ox * ww.stride + j).checked_sub(ww.pad_before).filter(|&x| x < ww.input) else {
                        continue;
                    };
                    let src = &row[(i * ww.kernel + j) * c..][..c];
                    for (d, &s) in dx[(y * ww.input + xx) * c..][..c].iter_mut().zip(src) {
                        *d += s;
                    }
                }
            }
        }
    }
}

/// `Conv2D` forward: NHWC `input` ⊛ HWIO `filter` with `strides = [stride_h, stride_w]` and TF
/// padding. Returns `[n, out_h, out_w, out_channels]`.
///
/// ```
/// use varscope::ndarray::Array4;
/// use varscope::kernels::{conv2d, Padding};
/// let x = Array4::<f32>::ones((1, 3, 3, 1));
/// let f = Array4::<f32>::ones((2, 2, 1, 1));
/// let y = conv2d(x.view(), f.view(), [1, 1], Padding::Same)?;
/// // SAME pads the extra row/column at the end, so the last row and column see fewer ones.
/// assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![4.0, 4.0, 2.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0]);
/// # Ok::<(), varscope::kernels::KernelError>(())
/// ```
pub fn conv2d<T: Float>(
    input: ArrayView4<'_, T>,
    filter: ArrayView4<'_, T>,
    strides: [usize; 2],
    padding: Padding,
) -> KResult<Array4<T>> {
    let g = Conv2dGeometry::new(input.shape(), filter.shape(), strides, padding)?;
    let mut out = zeros4(g.output_shape());
    with_scratch(|scratch| conv2d_into(input, filter, strides, padding, Epilogue::None, scratch, out.view_mut()))?;
    Ok(out)
}

/// A zeroed array of `shape` on a recycled buffer when there is one (see `recycle`).
pub(crate) fn zeros4<T: Float>(shape: [usize; 4]) -> Array4<T> {
    let n = shape.iter().product();
    Array4::from_shape_vec(shape, super::recycle::zeroed(n, T::zero())).unwrap_or_else(|_| Array4::zeros(shape))
}

/// Reusable buffers for [`conv2d_into`] and the gradients (padded image, virtual output), so a
/// steady-state forward pass allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct Conv2dScratch<T> {
    padded: Vec<T>,
    virtual_out: Vec<T>,
    flipped: Vec<T>,
}

impl<T: Float> Conv2dScratch<T> {
    /// Empty buffers; they grow to the largest convolution they serve.
    pub fn new() -> Self {
        Self { padded: Vec::new(), virtual_out: Vec::new(), flipped: Vec::new() }
    }
}

thread_local! {
    /// Each thread's cached scratch buffers, one per element type, reused by the allocating entry
    /// points ([`conv2d`] and the gradients) so repeated calls do not allocate them again. They
    /// keep the size of the largest convolution the thread ran.
    static SCRATCH: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's cached scratch for `T`, taken out of the cache for the duration
/// (so a nested call simply gets a fresh one) and put back afterwards.
pub(crate) fn with_scratch<T: Float, R>(f: impl FnOnce(&mut Conv2dScratch<T>) -> R) -> R {
    let taken = SCRATCH.with(|cache| {
        let mut cache = cache.try_borrow_mut().ok()?;
        let at = cache.iter().position(|b| b.is::<Conv2dScratch<T>>())?;
        Some(cache.swap_remove(at))
    });
    let mut scratch: Box<Conv2dScratch<T>> = taken.and_then(|b| b.downcast().ok()).unwrap_or_default();
    let result = f(&mut scratch);
    SCRATCH.with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            cache.push(scratch);
        }
    });
    result
}

/// [`conv2d`] into a preallocated output, with an optional fused bias / relu and reusable scratch.
pub fn conv2d_into<T: Float>(
    input: ArrayView4<'_, T>,
    filter: ArrayView4<'_, T>,
    strides: [usize; 2],
    padding: Padding,
    epilogue: Epilogue<'_, T>,
    scratch: &mut Conv2dScratch<T>,
    mut out: ArrayViewMut4<'_, T>,
) -> KResult<()> {
    let g = Conv2dGeometry::new(input.shape(), filter.shape(), strides, padding)?;
    if out.shape() != g.output_shape() {
        return Err(KernelError::shape(
            FWD,
            format!(
                "output is {:?} but the convolution produces {:?}; pass an output of that shape",
                out.shape(),
                g.output_shape()
            ),
        ));
    }
    let bias = epilogue.bias(g.out_channels)?;
    let bias_slice = match &bias {
        Some((b, relu)) => {
            Some((b.as_slice().ok_or_else(|| KernelError::shape(FWD, "bias is not contiguous"))?, *relu))
        }
        None => None,
    };
    let x = input.as_standard_layout();
    let f = filter.as_standard_layout();
    let (xs, fs) = (std_slice(FWD, &x)?, std_slice(FWD, &f)?);
    match out.as_slice_mut() {
        Some(dst) => forward_slices(&g, xs, fs, bias_slice, scratch, dst),
        None => {
            let mut tmp = Array4::zeros(g.output_shape());
            let dst = tmp.as_slice_mut().ok_or_else(|| KernelError::shape(FWD, "output is not contiguous"))?;
            forward_slices(&g, xs, fs, bias_slice, scratch, dst)?;
            out.assign(&tmp);
            Ok(())
        }
    }
}

fn forward_slices<T: Float>(
    g: &Conv2dGeometry,
    x: &[T],
    f: &[T],
    bias: Option<(&[T], bool)>,
    scratch: &mut Conv2dScratch<T>,
    out: &mut [T],
) -> KResult<()> {
    let (hw, ww) = (g.height, g.width);
    let (n, c, o) = (g.batch, g.in_channels, g.out_channels);
    if g.unit_stride() {
        let plan = Implicit {
            input: g.input_shape(),
            pads: ((hw.pad_before, hw.pad_after), (ww.pad_before, ww.pad_after)),
            filter: [hw.kernel, ww.kernel, o],
        };
        let Conv2dScratch { padded, virtual_out, .. } = scratch;
        return plan.run(FWD, x, f, bias, padded, virtual_out, out);
    }
    // Strided: explicit im2col per sample, one GEMM each.
    let rows = hw.output * ww.output;
    let kdim = hw.kernel * ww.kernel * c;
    if rows == 0 || o == 0 || n == 0 {
        return Ok(());
    }
    let sample_in = hw.input * ww.input * c;
    out.par_chunks_mut(rows * o).enumerate().try_for_each_init(
        || vec![T::zero(); rows * kdim],
        |cols, (img, y)| -> KResult<()> {
            im2col(&x[img * sample_in..][..sample_in], g, cols);
            let lhs = MatRef::row_major(cols, rows, kdim).map_err(gemm_err(FWD))?;
            let rhs = MatRef::row_major(f, kdim, o).map_err(gemm_err(FWD))?;
            let dst = MatMut::row_major(y, rows, o).map_err(gemm_err(FWD))?;
            scope_gemm::gemm(dst, lhs, rhs, T::one(), None, Parallelism::Sequential).map_err(gemm_err(FWD))
        },
    )?;
    apply_bias(out, o, bias);
    Ok(())
}

fn check_dy<T>(kernel: &'static str, g: &Conv2dGeometry, dy: &ArrayView4<'_, T>) -> KResult<()> {
    if dy.shape() != g.output_shape() {
        return Err(KernelError::shape(
            kernel,
            format!(
                "output gradient is {:?} but the convolution's output is {:?}; pass the gradient of \
                 that output",
                dy.shape(),
                g.output_shape()
            ),
        ));
    }
    Ok(())
}

/// Gradient of [`conv2d`] with respect to its input (TF's `Conv2DBackpropInput`).
///
/// `dy` is the gradient of the output; `input_shape` the forward input's NHWC shape.
pub fn conv2d_backward_input<T: Float>(
    dy: ArrayView4<'_, T>,
    filter: ArrayView4<'_, T>,
    input_shape: [usize; 4],
    strides: [usize; 2],
    padding: Padding,
) -> KResult<Array4<T>> {
    // Shapes are checked before the gradient is allocated.
    let g = Conv2dGeometry::new(&input_shape, filter.shape(), strides, padding)
        .map_err(|e| KernelError::shape(BWD_IN, e.message().to_string()))?;
    check_dy(BWD_IN, &g, &dy)?;
    let mut dx = zeros4(input_shape);
    with_scratch(|scratch| conv2d_backward_input_into(dy, filter, strides, padding, scratch, dx.view_mut()))?;
    Ok(dx)
}

/// [`conv2d_backward_input`] into a preallocated gradient `dx` (whose shape is the forward
/// input's), with reusable scratch: a steady-state backward pass allocates nothing for it.
///
/// ```
/// use varscope::ndarray::Array4;
/// use varscope::kernels::{conv2d_backward_input, conv2d_backward_input_into, Conv2dScratch, Padding};
/// let dy = Array4::<f32>::ones((1, 3, 3, 1));
/// let f = Array4::<f32>::ones((2, 2, 1, 1));
/// let mut dx = Array4::<f32>::zeros((1, 3, 3, 1));
/// let mut scratch = Conv2dScratch::new();
/// conv2d_backward_input_into(dy.view(), f.view(), [1, 1], Padding::Same, &mut scratch, dx.view_mut())?;
/// assert_eq!(dx, conv2d_backward_input(dy.view(), f.view(), [1, 3, 3, 1], [1, 1], Padding::Same)?);
/// # Ok::<(), varscope::kernels::KernelError>(())
/// ```
pub fn conv2d_backward_input_into<T: Float>(
    dy: ArrayView4<'_, T>,
    filter: ArrayView4<'_, T>,
    strides: [usize; 2],
    padding: Padding,
    scratch: &mut Conv2dScratch<T>,
    mut dx: ArrayViewMut4<'_, T>,
) -> KResult<()> {
    let (d0, d1, d2, d3) = dx.dim();
    let input_shape = [d0, d1, d2, d3];
    let g = Conv2dGeometry::new(&input_shape, filter.shape(), strides, padding)
        .map_err(|e| KernelError::shape(BWD_IN, e.message().to_string()))?;
    check_dy(BWD_IN, &g, &dy)?;
    let dy = dy.as_standard_layout();
    let f = filter.as_standard_layout();
    let (dys, fs) = (std_slice(BWD_IN, &dy)?, std_slice(BWD_IN, &f)?);
    match dx.as_slice_mut() {
        Some(dxs) => backward_input_slices(&g, dys, fs, scratch, dxs),
        None => {
            let mut tmp = Array4::zeros(input_shape);
            let dxs = tmp.as_slice_mut().ok_or_else(|| KernelError::shape(BWD_IN, "gradient is not contiguous"))?;
            backward_input_slices(&g, dys, fs, scratch, dxs)?;
            dx.assign(&tmp);
            Ok(())
        }
    }
}

/// The input gradient into a contiguous `dxs` (every element is overwritten).
fn backward_input_slices<T: Float>(
    g: &Conv2dGeometry,
    dys: &[T],
    fs: &[T],
    scratch: &mut Conv2dScratch<T>,
    dxs: &mut [T],
) -> KResult<()> {
    let (hw, ww) = (g.height, g.width);
    let (n, c, o) = (g.batch, g.in_channels, g.out_channels);
    let (kh, kw) = (hw.kernel, ww.kernel);
    if g.unit_stride() {
        // dx = VALID correlation of dy, zero-padded by `k - 1 - pad_before` in front and whatever
        // makes the output the input's size behind, with the spatially flipped, channel-swapped
        // filter.
        let (hp, wp) = (hw.input + kh - 1, ww.input + kw - 1);
        // With stride 1 TF pads at most `k - 1` in total, so none of these can underflow.
        let sub =
            |a: usize, b: usize| a.checked_sub(b).ok_or_else(|| KernelError::shape(BWD_IN, "inconsistent padding"));
        let front = (sub(kh - 1, hw.pad_before)?, sub(kw - 1, ww.pad_before)?);
        let back = (sub(hp, front.0 + hw.output)?, sub(wp, front.1 + ww.output)?);
        let Conv2dScratch { padded, virtual_out, flipped } = scratch;
        flipped.clear();
        flipped.resize(fs.len(), T::zero());
        for i in 0..kh {
            for j in 0..kw {
                let src = &fs[((kh - 1 - i) * kw + (kw - 1 - j)) * c * o..][..c * o];
                let dst = &mut flipped[(i * kw + j) * o * c..][..o * c];
                for ci in 0..c {
                    for oi in 0..o {
                        dst[oi * c + ci] = src[ci * o + oi];
                    }
                }
            }
        }
        let plan =
            Implicit { input: g.output_shape(), pads: ((front.0, back.0), (front.1, back.1)), filter: [kh, kw, c] };
        return plan.run(BWD_IN, dys, flipped, None, padded, virtual_out, dxs);
    }
    // col2im scatter-adds into the gradient.
    dxs.fill(T::zero());
    let rows = hw.output * ww.output;
    let kdim = kh * kw * c;
    let sample_in = hw.input * ww.input * c;
    if rows == 0 || n == 0 || sample_in == 0 {
        return Ok(());
    }
    dxs.par_chunks_mut(sample_in).enumerate().try_for_each_init(
        || vec![T::zero(); rows * kdim],
        |cols, (img, dxi)| -> KResult<()> {
            let lhs = MatRef::row_major(&dys[img * rows * o..], rows, o).map_err(gemm_err(BWD_IN))?;
            let rhs = MatRef::row_major(fs, kdim, o).map_err(gemm_err(BWD_IN))?.t();
            let dst = MatMut::row_major(cols, rows, kdim).map_err(gemm_err(BWD_IN))?;
            scope_gemm::gemm(dst, lhs, rhs, T::one(), None, Parallelism::Sequential).map_err(gemm_err(BWD_IN))?;
            col2im(cols, g, dxi);
            Ok(())
        },
    )?;
    Ok(())
}

/// Gradient of [`conv2d`] with respect to its filter (TF's `Conv2DBackpropFilter`).
///
/// `input` is the forward input, `dy` the gradient of the output, `filter_shape` the HWIO shape.
pub fn conv2d_backward_filter<T: Float>(
    input: ArrayView4<'_, T>,
    dy: ArrayView4<'_, T>,
    filter_shape: [usize; 4],
    strides: [usize; 2],
    padding: Padding,
) -> KResult<Array4<T>> {
    let g = Conv2dGeometry::new(input.shape(), &filter_shape, strides, padding)
        .map_err(|e| KernelError::shape(BWD_F, e.message().to_string()))?;
    check_dy(BWD_F, &g, &dy)?;
    let (hw, ww) = (g.height, g.width);
    let (n, c, o) = (g.batch, g.in_channels, g.out_channels);
    let (kh, kw) = (hw.kernel, ww.kernel);
    let x = input.as_standard_layout();
    let dy = dy.as_standard_layout();
    let (xs, dys) = (std_slice(BWD_F, &x)?, std_slice(BWD_F, &dy)?);
    let fsize = kh * kw * c * o;
    let (oh, ow) = (hw.output, ww.output);
    if n == 0 || oh * ow == 0 || fsize == 0 {
        return Ok(Array4::zeros(filter_shape));
    }
    let dy_sample = oh * ow * o;
    let sum = |a: Vec<T>, b: Vec<T>| a.into_iter().zip(b).map(|(x, y)| x + y).collect::<Vec<T>>();
    let dw: Vec<T> = if g.unit_stride() {
        let (hp, wp) = (hw.padded(), ww.padded());
        with_scratch(|scratch: &mut Conv2dScratch<T>| {
            let xp = &mut scratch.padded;
            pad_nhwc(xs, g.input_shape(), (hw.pad_before, hw.pad_after), (ww.pad_before, ww.pad_after), xp);
            let xp: &[T] = xp;
            let sample = hp * wp * c;
            let shape = ConvShape { hp, wp, c, kh, kw, o };
            if conv_direct::supported::<T>(&shape) {
                // Direct kernel: each task reduces whole rows of dy into its own filter gradient,
                // a block of 8 input x 32 output channels per tap in registers at a time. With
                // fewer samples than threads, samples are split into row ranges.
                let threads = rayon::current_num_threads().max(1);
                let parts = if n >= threads { 1 } else { (2 * threads).div_ceil(n).min(oh) };
                let chunk = oh.div_ceil(parts);
                let items = n * oh.div_ceil(chunk);
                return (0..items)
                    .into_par_iter()
                    .try_fold(
                        || vec![T::zero(); fsize],
                        |mut dw, item| -> KResult<_> {
                            let (img, part) = (item / oh.div_ceil(chunk), item % oh.div_ceil(chunk));
                            let rows = part * chunk..((part + 1) * chunk).min(oh);
                            let dyr = &dys[img * dy_sample + rows.start * ow * o..][..rows.len() * ow * o];
                            match conv_direct::filter_grad_rows(
                                &shape,
                                &xp[img * sample..][..sample],
                                dyr,
                                rows,
                                &mut dw,
                            ) {
                                Ok(true) => Ok(dw),
                                Ok(false) => Err(KernelError::shape(
                                    BWD_F,
                                    "the direct convolution kernel refused a supported shape",
                                )),
                                Err(e) => Err(KernelError::gemm(BWD_F, e)),
                            }
                        },
                    )
                    .try_reduce(|| vec![T::zero(); fsize], |a, b| Ok(sum(a, b)));
            }
            let mv = (oh - 1) * wp + ow;
            (0..n)
                .into_par_iter()
                .try_fold(
                    || (vec![T::zero(); fsize], vec![T::zero(); mv * o]),
                    |(mut dw, mut dyv), img| -> KResult<_> {
                        // Spread dy into virtual rows; the dropped columns stay zero.
                        for y in 0..oh {
                            dyv[y * wp * o..(y * wp + ow) * o]
                                .copy_from_slice(&dys[img * dy_sample + y * ow * o..][..ow * o]);
                        }
                        for i in 0..kh {
                            let lhs = MatRef::new(xp, img * sample + i * wp * c, mv, kw * c, c, 1)
                                .map_err(gemm_err(BWD_F))?
                                .t();
                            let rhs = MatRef::row_major(&dyv, mv, o).map_err(gemm_err(BWD_F))?;
                            let dst = MatMut::new(&mut dw, i * kw * c * o, kw * c, o, o, 1).map_err(gemm_err(BWD_F))?;
                            scope_gemm::gemm(dst, lhs, rhs, T::one(), Some(T::one()), Parallelism::Sequential)
                                .map_err(gemm_err(BWD_F))?;
                        }
                        Ok((dw, dyv))
                    },
                )
                .map(|r| r.map(|(dw, _)| dw))
                .try_reduce(|| vec![T::zero(); fsize], |a, b| Ok(sum(a, b)))
        })?
    } else {
        let rows = oh * ow;
        let kdim = kh * kw * c;
        let sample_in = hw.input * ww.input * c;
        (0..n)
            .into_par_iter()
            .try_fold(
                || (vec![T::zero(); fsize], vec![T::zero(); rows * kdim]),
                |(mut dw, mut cols), img| -> KResult<_> {
                    im2col(&xs[img * sample_in..][..sample_in], &g, &mut cols);
                    let lhs = MatRef::row_major(&cols, rows, kdim).map_err(gemm_err(BWD_F))?.t();
                    let rhs = MatRef::row_major(&dys[img * dy_sample..], rows, o).map_err(gemm_err(BWD_F))?;
                    let dst = MatMut::row_major(&mut dw, kdim, o).map_err(gemm_err(BWD_F))?;
                    scope_gemm::gemm(dst, lhs, rhs, T::one(), Some(T::one()), Parallelism::Sequential)
                        .map_err(gemm_err(BWD_F))?;
                    Ok((dw, cols))
                },
            )
            .map(|r| r.map(|(dw, _)| dw))
            .try_reduce(|| vec![T::zero(); fsize], |a, b| Ok(sum(a, b)))?
    };
    Array4::from_shape_vec(filter_shape, dw).map_err(|e| KernelError::shape(BWD_F, e.to_string()))
}
