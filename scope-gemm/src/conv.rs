//! Direct stride-1 convolution kernels on AVX-512 (f32), in safe code.
//!
//! A `5x5x32x32` SAME convolution is a poor fit for a general GEMM: its products are long and
//! thin (`N = 32` output channels), so a GEMM spends a large share of its time packing and the
//! implicit-im2col formulation also computes `kw - 1` dropped columns per output row. These
//! kernels instead keep a block of outputs in registers and stream the padded image and the
//! filter straight from cache, with no packing:
//!
//! - [`forward_rows`]: `out[y][x][o] = Σ_{i,j,c} xp[y+i][x+j][c] · f[i][j][c][o]`, a block of
//!   8 output pixels × 32 channels (16 `zmm` accumulators) per step, with the bias and relu
//!   applied as the block is stored.
//! - [`filter_grad_rows`]: `dw[i][j][c][o] += Σ_{y,x} xp[y+i][x+j][c] · dy[y][x][o]`, a block of
//!   8 input channels × 32 output channels per tap, reduced over every pixel of the rows given
//!   before it goes back to memory.
//!
//! The SIMD code uses `pulp`'s AVX-512 token (`V4`, already what `gemm` dispatches on): its
//! operations are safe functions, available only once the CPU has been checked. Both functions
//! return `Ok(false)` when they do not apply (another element type, a CPU without AVX-512, an
//! output-channel count that is not a multiple of 16), so callers keep a GEMM path for those.
//!
//! ```
//! use scope_gemm::conv::{ConvShape, forward_rows};
//! // One 3x3 padded image with 1 channel, a 2x2 filter, 16 output channels.
//! let s = ConvShape { hp: 3, wp: 3, c: 1, kh: 2, kw: 2, o: 16 };
//! let xp = [1.0f32; 9];
//! let f = [0.5f32; 2 * 2 * 16];
//! let mut out = [0.0f32; 2 * 2 * 16];
//! if forward_rows(&s, &xp, &f, None, 0..2, &mut out)? {
//!     assert!(out.iter().all(|&v| v == 2.0));
//! }
//! # Ok::<(), scope_gemm::GemmError>(())
//! ```

use std::ops::Range;

use crate::{Element, GemmError};

/// The shape of a stride-1 correlation of one zero-padded NHWC sample `[hp, wp, c]` with an HWIO
/// filter `[kh, kw, c, o]`; the output is `[hp - kh + 1, wp - kw + 1, o]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    /// Padded height.
    pub hp: usize,
    /// Padded width.
    pub wp: usize,
    /// Input channels.
    pub c: usize,
    /// Filter height.
    pub kh: usize,
    /// Filter width.
    pub kw: usize,
    /// Output channels.
    pub o: usize,
}

impl ConvShape {
    /// Output height (0 when the filter is taller than the padded image).
    pub fn out_h(&self) -> usize {
        (self.hp + 1).saturating_sub(self.kh)
    }

    /// Output width.
    pub fn out_w(&self) -> usize {
        (self.wp + 1).saturating_sub(self.kw)
    }

    fn check(&self, xp: usize, rows: &Range<usize>) -> Result<(), GemmError> {
        let need = self.hp.checked_mul(self.wp).and_then(|v| v.checked_mul(self.c));
        if need.is_none_or(|n| xp < n) {
            return Err(GemmError(format!("padded image of {xp} elements is smaller than {self:?}")));
        }
        if rows.start > rows.end || rows.end > self.out_h() {
            return Err(GemmError(format!("rows {rows:?} are outside the {} output rows of {self:?}", self.out_h())));
        }
        Ok(())
    }
}

/// Whether the direct kernels run for `T` and `s` on this CPU (f32, AVX-512, `o % 16 == 0`,
/// non-empty).
pub fn supported<T: Element>(s: &ConvShape) -> bool {
    T::slice_f32(&[]).is_some()
        && s.o > 0
        && s.o.is_multiple_of(LANES)
        && s.c > 0
        && s.out_h() > 0
        && s.out_w() > 0
        && simd::available()
}

const LANES: usize = 16;

/// Output rows `rows` of one sample: `out` (dense `[rows.len(), out_w, o]`) is overwritten with
/// the correlation of the padded image `xp` and the filter `f`, plus `bias[o]` and then
/// `max(0, ·)` when `bias` is `Some((bias, true))`.
///
/// Returns `Ok(false)` (leaving `out` untouched) when [`supported`] is false.
pub fn forward_rows<T: Element>(
    s: &ConvShape,
    xp: &[T],
    f: &[T],
    bias: Option<(&[T], bool)>,
    rows: Range<usize>,
    out: &mut [T],
) -> Result<bool, GemmError> {
    if !supported::<T>(s) {
        return Ok(false);
    }
    s.check(xp.len(), &rows)?;
    let (Some(xp), Some(f), Some(out)) = (T::slice_f32(xp), T::slice_f32(f), T::slice_f32_mut(out)) else {
        return Ok(false);
    };
    let bias = match bias {
        None => None,
        Some((b, relu)) => match T::slice_f32(b) {
            Some(b) if b.len() == s.o => Some((b, relu)),
            _ => return Err(GemmError(format!("bias must have {} f32 elements", s.o))),
        },
    };
    if f.len() != s.kh * s.kw * s.c * s.o {
        return Err(GemmError(format!("filter has {} elements, {s:?} needs {}", f.len(), s.kh * s.kw * s.c * s.o)));
    }
    if out.len() != rows.len() * s.out_w() * s.o {
        return Err(GemmError(format!(
            "output has {} elements, {} rows of {s:?} need {}",
            out.len(),
            rows.len(),
            rows.len() * s.out_w() * s.o
        )));
    }
    Ok(simd::forward(s, xp, f, bias, rows, out))
}

/// Accumulates the filter gradient of output rows `rows` of one sample:
/// `dw[i][j][c][o] += Σ_{y ∈ rows, x} xp[y+i][x+j][c] · dy[y][x][o]`, where `dy` is dense
/// `[rows.len(), out_w, o]` and `dw` is `[kh, kw, c, o]`.
///
/// Returns `Ok(false)` (leaving `dw` untouched) when [`supported`] is false.
pub fn filter_grad_rows<T: Element>(
    s: &ConvShape,
    xp: &[T],
    dy: &[T],
    rows: Range<usize>,
    dw: &mut [T],
) -> Result<bool, GemmError> {
    if !supported::<T>(s) {
        return Ok(false);
    }
    s.check(xp.len(), &rows)?;
    let (Some(xp), Some(dy), Some(dw)) = (T::slice_f32(xp), T::slice_f32(dy), T::slice_f32_mut(dw)) else {
        return Ok(false);
    };
    if dw.len() != s.kh * s.kw * s.c * s.o {
        return Err(GemmError(format!(
            "filter gradient has {} elements, {s:?} needs {}",
            dw.len(),
            s.kh * s.kw * s.c * s.o
        )));
    }
    if dy.len() != rows.len() * s.out_w() * s.o {
        return Err(GemmError(format!(
            "output gradient has {} elements, {} rows of {s:?} need {}",
            dy.len(),
            rows.len(),
            rows.len() * s.out_w() * s.o
        )));
    }
    Ok(simd::filter_grad(s, xp, dy, rows, dw))
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::ops::Range;

    use pulp::x86::V4;
    use pulp::{Simd, f32x16};

    use super::{ConvShape, LANES};

    pub(super) fn available() -> bool {
        V4::is_available()
    }

    #[inline(always)]
    fn load(s: &[f32]) -> f32x16 {
        let a: [f32; LANES] = s.get(..LANES).and_then(|s| s.try_into().ok()).unwrap_or([0.0; LANES]);
        pulp::cast(a)
    }

    #[inline(always)]
    fn store(v: f32x16, d: &mut [f32]) {
        let a: [f32; LANES] = pulp::cast(v);
        if let Some(d) = d.get_mut(..LANES) {
            d.copy_from_slice(&a);
        }
    }

    /// One block of `MR` output pixels (consecutive `x`) × `NV * 16` output channels. Every index
    /// is in bounds by construction (`ConvShape::check` ran), so the slicing never fails.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn fwd_block<const MR: usize, const NV: usize>(
        simd: V4,
        s: &ConvShape,
        xp: &[f32],
        f: &[[f32; LANES]],
        bias: Option<(&[f32], bool)>,
        y: usize,
        x0: usize,
        ob: usize,
        dst: &mut [f32],
    ) {
        let (c, o, kwc) = (s.c, s.o, s.kw * s.c);
        let (ov, obv) = (o / LANES, ob / LANES);
        let mut acc = [[simd.splat_f32s(0.0); NV]; MR];
        for i in 0..s.kh {
            let base = ((y + i) * s.wp + x0) * c;
            let rows: [&[f32]; MR] = std::array::from_fn(|p| &xp[base + p * c..][..kwc]);
            let frow = &f[i * kwc * ov..][..kwc * ov];
            for (k, fk) in frow.chunks_exact(ov).enumerate() {
                let fk = &fk[obv..obv + NV];
                let w: [f32x16; NV] = std::array::from_fn(|v| pulp::cast(fk[v]));
                for p in 0..MR {
                    let a = simd.splat_f32s(rows[p][k]);
                    for v in 0..NV {
                        acc[p][v] = simd.mul_add_f32s(a, w[v], acc[p][v]);
                    }
                }
            }
        }
        for (p, acc_p) in acc.iter().enumerate() {
            let d = &mut dst[(x0 + p) * o + ob..][..NV * LANES];
            for (v, &a) in acc_p.iter().enumerate() {
                let mut r = a;
                if let Some((b, relu)) = bias {
                    r = simd.add_f32s(r, load(&b[ob + v * LANES..]));
                    if relu {
                        r = simd.max_f32s(r, simd.splat_f32s(0.0));
                    }
                }
                store(r, &mut d[v * LANES..]);
            }
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn fwd_row<const NV: usize>(
        simd: V4,
        s: &ConvShape,
        xp: &[f32],
        f: &[[f32; LANES]],
        bias: Option<(&[f32], bool)>,
        y: usize,
        ob: usize,
        dst: &mut [f32],
    ) {
        let ow = s.out_w();
        let mut x0 = 0;
        while x0 + 8 <= ow {
            fwd_block::<8, NV>(simd, s, xp, f, bias, y, x0, ob, dst);
            x0 += 8;
        }
        if x0 + 4 <= ow {
            fwd_block::<4, NV>(simd, s, xp, f, bias, y, x0, ob, dst);
            x0 += 4;
        }
        if x0 + 2 <= ow {
            fwd_block::<2, NV>(simd, s, xp, f, bias, y, x0, ob, dst);
            x0 += 2;
        }
        if x0 < ow {
            fwd_block::<1, NV>(simd, s, xp, f, bias, y, x0, ob, dst);
        }
    }

    pub(super) fn forward(
        s: &ConvShape,
        xp: &[f32],
        f: &[f32],
        bias: Option<(&[f32], bool)>,
        rows: Range<usize>,
        out: &mut [f32],
    ) -> bool {
        let Some(simd) = V4::try_new() else { return false };
        let row_len = s.out_w() * s.o;
        let (f, _) = pulp::as_arrays::<LANES, f32>(f);
        simd.vectorize(
            #[inline(always)]
            || {
                for (y, dst) in rows.zip(out.chunks_exact_mut(row_len)) {
                    let mut ob = 0;
                    while ob + 2 * LANES <= s.o {
                        fwd_row::<2>(simd, s, xp, f, bias, y, ob, dst);
                        ob += 2 * LANES;
                    }
                    if ob < s.o {
                        fwd_row::<1>(simd, s, xp, f, bias, y, ob, dst);
                    }
                }
            },
        );
        true
    }

    /// One block of the filter gradient: taps `(i, j)`, input channels `c0..c0 + MR`, output
    /// channels `ob..ob + NV * 16`, summed over every pixel of `rows`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn grad_block<const MR: usize, const NV: usize>(
        simd: V4,
        s: &ConvShape,
        xp: &[f32],
        dy: &[f32],
        rows: Range<usize>,
        (i, j, c0, ob): (usize, usize, usize, usize),
        dw: &mut [f32],
    ) {
        let (c, o, ow) = (s.c, s.o, s.out_w());
        let at = ((i * s.kw + j) * c + c0) * o + ob;
        let mut acc: [[f32x16; NV]; MR] =
            std::array::from_fn(|r| std::array::from_fn(|v| load(&dw[at + r * o + v * LANES..])));
        for (y, dyr) in rows.zip(dy.chunks_exact(ow * o)) {
            let start = ((y + i) * s.wp + j) * c + c0;
            let Some(xs) = xp.get(start..start + (ow - 1) * c + MR) else { return };
            for (px, g) in xs.chunks(c).zip(dyr.chunks_exact(o)) {
                let g = &g[ob..];
                let w: [f32x16; NV] = std::array::from_fn(|v| load(&g[v * LANES..]));
                let Some(px) = px.get(..MR) else { return };
                for r in 0..MR {
                    let a = simd.splat_f32s(px[r]);
                    for v in 0..NV {
                        acc[r][v] = simd.mul_add_f32s(a, w[v], acc[r][v]);
                    }
                }
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            for (v, &a) in acc_r.iter().enumerate() {
                store(a, &mut dw[at + r * o + v * LANES..]);
            }
        }
    }

    #[inline(always)]
    fn grad_tap<const NV: usize>(
        simd: V4,
        s: &ConvShape,
        xp: &[f32],
        dy: &[f32],
        rows: &Range<usize>,
        (i, j, ob): (usize, usize, usize),
        dw: &mut [f32],
    ) {
        let mut c0 = 0;
        while c0 + 8 <= s.c {
            grad_block::<8, NV>(simd, s, xp, dy, rows.clone(), (i, j, c0, ob), dw);
            c0 += 8;
        }
        if c0 + 4 <= s.c {
            grad_block::<4, NV>(simd, s, xp, dy, rows.clone(), (i, j, c0, ob), dw);
            c0 += 4;
        }
        if c0 + 2 <= s.c {
            grad_block::<2, NV>(simd, s, xp, dy, rows.clone(), (i, j, c0, ob), dw);
            c0 += 2;
        }
        if c0 < s.c {
            grad_block::<1, NV>(simd, s, xp, dy, rows.clone(), (i, j, c0, ob), dw);
        }
    }

    pub(super) fn filter_grad(s: &ConvShape, xp: &[f32], dy: &[f32], rows: Range<usize>, dw: &mut [f32]) -> bool {
        let Some(simd) = V4::try_new() else { return false };
        simd.vectorize(
            #[inline(always)]
            || {
                for i in 0..s.kh {
                    for j in 0..s.kw {
                        let mut ob = 0;
                        while ob + 2 * LANES <= s.o {
                            grad_tap::<2>(simd, s, xp, dy, &rows, (i, j, ob), dw);
                            ob += 2 * LANES;
                        }
                        if ob < s.o {
                            grad_tap::<1>(simd, s, xp, dy, &rows, (i, j, ob), dw);
                        }
                    }
                }
            },
        );
        true
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    use std::ops::Range;

    use super::ConvShape;

    pub(super) fn available() -> bool {
        false
    }

    pub(super) fn forward(
        _: &ConvShape,
        _: &[f32],
        _: &[f32],
        _: Option<(&[f32], bool)>,
        _: Range<usize>,
        _: &mut [f32],
    ) -> bool {
        false
    }

    pub(super) fn filter_grad(_: &ConvShape, _: &[f32], _: &[f32], _: Range<usize>, _: &mut [f32]) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(s: &ConvShape, xp: &[f32], f: &[f32]) -> Vec<f32> {
        let (oh, ow) = (s.out_h(), s.out_w());
        let mut out = vec![0.0f32; oh * ow * s.o];
        for y in 0..oh {
            for x in 0..ow {
                for oc in 0..s.o {
                    let mut acc = 0.0f64;
                    for i in 0..s.kh {
                        for j in 0..s.kw {
                            for ci in 0..s.c {
                                acc += f64::from(xp[((y + i) * s.wp + x + j) * s.c + ci])
                                    * f64::from(f[((i * s.kw + j) * s.c + ci) * s.o + oc]);
                            }
                        }
                    }
                    out[(y * ow + x) * s.o + oc] = acc as f32;
                }
            }
        }
        out
    }

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// Odd widths (every remainder block), 16 and 48 channels (the one-vector block), odd input
    /// channel counts (every channel block of the gradient).
    fn shapes() -> Vec<ConvShape> {
        vec![
            ConvShape { hp: 36, wp: 36, c: 32, kh: 5, kw: 5, o: 32 },
            ConvShape { hp: 9, wp: 19, c: 3, kh: 3, kw: 3, o: 16 },
            ConvShape { hp: 4, wp: 8, c: 15, kh: 2, kw: 1, o: 48 },
            ConvShape { hp: 1, wp: 1, c: 7, kh: 1, kw: 1, o: 16 },
        ]
    }

    #[test]
    fn forward_matches_naive_with_bias_and_relu() -> Result<(), GemmError> {
        for s in shapes() {
            let xp = data(s.hp * s.wp * s.c, 1);
            let f = data(s.kh * s.kw * s.c * s.o, 7);
            let b = data(s.o, 3);
            let want = naive(&s, &xp, &f);
            let (oh, row) = (s.out_h(), s.out_w() * s.o);
            let mut out = vec![f32::NAN; oh * row];
            if !forward_rows(&s, &xp, &f, None, 0..oh, &mut out)? {
                assert!(!simd::available() || !supported::<f32>(&s), "refused a supported shape {s:?}");
                continue;
            }
            for (g, w) in out.iter().zip(&want) {
                assert!((g - w).abs() < 1e-4, "{s:?}: {g} vs {w}");
            }
            // Rows from the middle only, with the fused epilogue.
            let r = oh / 2..oh;
            let mut part = vec![f32::NAN; r.len() * row];
            assert!(forward_rows(&s, &xp, &f, Some((&b, true)), r.clone(), &mut part)?);
            for (k, g) in part.iter().enumerate() {
                let w = (want[r.start * row + k] + b[k % s.o]).max(0.0);
                assert!((g - w).abs() < 1e-4, "{s:?}: {g} vs {w}");
            }
        }
        Ok(())
    }

    #[test]
    fn filter_grad_matches_naive_and_accumulates() -> Result<(), GemmError> {
        for s in shapes() {
            let (oh, ow) = (s.out_h(), s.out_w());
            let xp = data(s.hp * s.wp * s.c, 5);
            let dy = data(oh * ow * s.o, 11);
            let mut want = vec![1.0f32; s.kh * s.kw * s.c * s.o];
            for i in 0..s.kh {
                for j in 0..s.kw {
                    for ci in 0..s.c {
                        for oc in 0..s.o {
                            let mut acc = 0.0f64;
                            for y in 0..oh {
                                for x in 0..ow {
                                    acc += f64::from(xp[((y + i) * s.wp + x + j) * s.c + ci])
                                        * f64::from(dy[(y * ow + x) * s.o + oc]);
                                }
                            }
                            want[((i * s.kw + j) * s.c + ci) * s.o + oc] += acc as f32;
                        }
                    }
                }
            }
            // Two row ranges accumulated onto ones.
            let mut dw = vec![1.0f32; want.len()];
            let mid = oh / 2;
            let row = ow * s.o;
            if !filter_grad_rows(&s, &xp, &dy[..mid * row], 0..mid, &mut dw)? {
                assert!(!simd::available(), "refused a supported shape {s:?}");
                continue;
            }
            assert!(filter_grad_rows(&s, &xp, &dy[mid * row..], mid..oh, &mut dw)?);
            for (g, w) in dw.iter().zip(&want) {
                assert!((g - w).abs() < 1e-3, "{s:?}: {g} vs {w}");
            }
        }
        Ok(())
    }

    #[test]
    fn refuses_unsupported_and_mis_sized_operands() {
        let s = ConvShape { hp: 3, wp: 3, c: 1, kh: 2, kw: 2, o: 8 };
        let mut out = [0.0f32; 32];
        assert_eq!(forward_rows(&s, &[0.0; 9], &[0.0; 32], None, 0..2, &mut out), Ok(false));
        let mut out64 = [0.0f64; 64];
        let s16 = ConvShape { o: 16, ..s };
        assert_eq!(forward_rows(&s16, &[0.0f64; 9], &[0.0; 64], None, 0..2, &mut out64), Ok(false));
        if simd::available() {
            let mut out = [0.0f32; 64];
            assert!(forward_rows(&s16, &[0.0; 8], &[0.0; 64], None, 0..2, &mut out).is_err());
            assert!(forward_rows(&s16, &[0.0; 9], &[0.0; 63], None, 0..2, &mut out).is_err());
            assert!(forward_rows(&s16, &[0.0; 9], &[0.0; 64], None, 0..3, &mut out).is_err());
            assert!(filter_grad_rows(&s16, &[0.0f32; 9], &[0.0; 63], 0..2, &mut [0.0; 64]).is_err());
        }
    }
}
