//! A safe, bounds-checked front end to the [`mod@gemm`] crate's matrix multiply.
//!
//! varscope's kernels forbid `unsafe`; this tiny crate is the single audited place that calls
//! `gemm::gemm` (which takes raw pointers and strides). Every operand is described by a
//! [`MatRef`] / [`MatMut`]: a slice plus an offset, dimensions and element strides. Before the
//! call, [`gemm()`] checks that every element the multiply can touch lies inside its slice and
//! that the destination's elements do not alias each other, so no input can cause undefined
//! behaviour; a bad description is reported as a [`GemmError`].
//!
//! Read-only operands may overlap themselves (rows that share elements), which lets a
//! convolution read a padded image as an "implicit im2col" matrix without copying it.
//!
//! ```
//! use scope_gemm::{gemm, MatMut, MatRef, Parallelism};
//! let a = [1.0f32, 2.0, 3.0, 4.0]; // 2x2, row-major
//! let b = [5.0f32, 6.0, 7.0, 8.0];
//! let mut c = [0.0f32; 4];
//! gemm(
//!     MatMut::row_major(&mut c, 2, 2)?,
//!     MatRef::row_major(&a, 2, 2)?,
//!     MatRef::row_major(&b, 2, 2)?,
//!     1.0,
//!     None,
//!     Parallelism::Sequential,
//! )?;
//! assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
//! # Ok::<(), scope_gemm::GemmError>(())
//! ```

use std::fmt;

pub mod conv;

/// Element types [`gemm()`] accepts (`f32` and `f64`).
pub trait Element: Copy + Send + Sync + 'static + std::ops::Mul<Output = Self> + sealed::Sealed {
    /// The additive identity.
    const ZERO: Self;
    /// The multiplicative identity.
    const ONE: Self;
    /// The slice as `f32`s when `Self` is `f32` (the SIMD convolution kernels' type).
    #[doc(hidden)]
    fn slice_f32(s: &[Self]) -> Option<&[f32]>;
    /// The mutable slice as `f32`s when `Self` is `f32`.
    #[doc(hidden)]
    fn slice_f32_mut(s: &mut [Self]) -> Option<&mut [f32]>;
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline]
    fn slice_f32(s: &[Self]) -> Option<&[f32]> {
        Some(s)
    }
    #[inline]
    fn slice_f32_mut(s: &mut [Self]) -> Option<&mut [f32]> {
        Some(s)
    }
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline]
    fn slice_f32(_: &[Self]) -> Option<&[f32]> {
        None
    }
    #[inline]
    fn slice_f32_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Why a matrix description or a multiply was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GemmError(String);

impl fmt::Display for GemmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GemmError {}

/// How many threads one multiply may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parallelism {
    /// Run on the calling thread only (best for small products and inside parallel loops).
    Sequential,
    /// Split the product over this many threads of rayon's global pool (`0` = all of them).
    Threads(usize),
}

/// A read-only strided matrix view: element `(i, j)` is `data[offset + i * row_stride + j * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    offset: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// A mutable strided matrix view whose elements are pairwise distinct.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    offset: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// The largest index a `rows x cols` view can touch, or an error when it overflows or leaves the slice.
fn check_bounds(
    len: usize,
    offset: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
) -> Result<(), GemmError> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let last = (rows - 1)
        .checked_mul(row_stride)
        .and_then(|r| (cols - 1).checked_mul(col_stride).and_then(|c| r.checked_add(c)))
        .and_then(|rc| rc.checked_add(offset))
        .filter(|&last| last < len && last <= isize::MAX as usize);
    match last {
        Some(_) => Ok(()),
        None => Err(GemmError(format!(
            "matrix view of {rows}x{cols} at offset {offset} with strides ({row_stride}, {col_stride}) \
             does not fit in a buffer of {len} elements; pass a larger buffer or smaller dimensions"
        ))),
    }
}

/// The strides kept for a view: the stride of a dimension of extent 1 (or 0) is never used to
/// reach an element, so `check_bounds` cannot bound it; it is set to 0, so every stride handed
/// to `gemm` is bounded by the view's last index.
fn normalised(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> (usize, usize) {
    (if rows <= 1 { 0 } else { row_stride }, if cols <= 1 { 0 } else { col_stride })
}

impl<'a, T: Element> MatRef<'a, T> {
    /// A general strided view; rows may overlap (the data is only read).
    pub fn new(
        data: &'a [T],
        offset: usize,
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, GemmError> {
        check_bounds(data.len(), offset, rows, cols, row_stride, col_stride)?;
        let (row_stride, col_stride) = normalised(rows, cols, row_stride, col_stride);
        Ok(Self { data, offset, rows, cols, row_stride, col_stride })
    }

    /// A dense row-major `rows x cols` view of the start of `data`.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, GemmError> {
        Self::new(data, 0, rows, cols, cols, 1)
    }

    /// The transposed view (free: swaps dimensions and strides).
    pub fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

impl<'a, T: Element> MatMut<'a, T> {
    /// A general strided view; its elements must be pairwise distinct (no overlapping rows).
    pub fn new(
        data: &'a mut [T],
        offset: usize,
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, GemmError> {
        check_bounds(data.len(), offset, rows, cols, row_stride, col_stride)?;
        // Distinct elements: the smaller stride times its extent must not reach the larger stride.
        // An empty view has no elements to collide.
        let empty = rows == 0 || cols == 0;
        if !empty && rows > 1 && cols > 1 {
            let (small, small_extent, large) =
                if col_stride <= row_stride { (col_stride, cols, row_stride) } else { (row_stride, rows, col_stride) };
            if small == 0 || small.saturating_mul(small_extent) > large {
                return Err(GemmError(format!(
                    "destination view of {rows}x{cols} with strides ({row_stride}, {col_stride}) \
                     has overlapping elements; use strides that give every element its own slot"
                )));
            }
        } else if !empty && ((rows > 1 && row_stride == 0) || (cols > 1 && col_stride == 0)) {
            return Err(GemmError(format!(
                "destination view of {rows}x{cols} has a zero stride; use strides that give every \
                 element its own slot"
            )));
        }
        let (row_stride, col_stride) = normalised(rows, cols, row_stride, col_stride);
        Ok(Self { data, offset, rows, cols, row_stride, col_stride })
    }

    /// A dense row-major `rows x cols` view of the start of `data`.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, GemmError> {
        Self::new(data, 0, rows, cols, cols, 1)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// `dst = alpha * lhs @ rhs + beta * dst`, with `beta = None` meaning `dst` is overwritten (not read,
/// so it may hold garbage or NaN).
///
/// Errors when the inner dimensions or the destination shape disagree.
pub fn gemm<T: Element>(
    dst: MatMut<'_, T>,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    beta: Option<T>,
    parallelism: Parallelism,
) -> Result<(), GemmError> {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    if rhs.rows != k {
        return Err(GemmError(format!(
            "inner dimensions differ: lhs is {m}x{k} but rhs is {}x{n}; transpose one operand or fix its shape",
            rhs.rows
        )));
    }
    if dst.rows != m || dst.cols != n {
        return Err(GemmError(format!(
            "destination is {}x{} but the product is {m}x{n}; allocate a {m}x{n} destination",
            dst.rows, dst.cols
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        // The product is all zeros: scale or clear the destination in place.
        for i in 0..m {
            for j in 0..n {
                let idx = dst.offset + i * dst.row_stride + j * dst.col_stride;
                dst.data[idx] = match beta {
                    Some(b) => dst.data[idx] * b,
                    None => T::ZERO,
                };
            }
        }
        return Ok(());
    }
    let par = match parallelism {
        Parallelism::Sequential => gemm::Parallelism::None,
        Parallelism::Threads(t) => gemm::Parallelism::Rayon(t),
    };
    // Every stride fits `isize`: a stride of a dimension of extent > 1 times at least 1 is at most
    // the last index, which `check_bounds` proved is at most `isize::MAX`; the others are 0
    // (`normalised`).
    let is = |s: usize| s as isize;
    // SAFETY: `check_bounds` proved that every element `offset + i*rs + j*cs` (i < rows, j < cols)
    // of the three views lies inside its slice, and no stride reaches past it (unit dimensions
    // have stride 0); `MatMut::new` proved the destination's elements are
    // distinct; the borrow checker guarantees `dst` does not alias `lhs`/`rhs`; dimensions agree
    // (checked above) and are non-zero. `gemm` reads `dst` only when `read_dst` is true.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm::<T>(
            m,
            n,
            k,
            dst.data.as_mut_ptr().add(dst.offset),
            is(dst.col_stride),
            is(dst.row_stride),
            beta.is_some(),
            lhs.data.as_ptr().add(lhs.offset),
            is(lhs.col_stride),
            is(lhs.row_stride),
            rhs.data.as_ptr().add(rhs.offset),
            is(rhs.col_stride),
            is(rhs.row_stride),
            beta.unwrap_or(T::ZERO),
            alpha,
            false,
            false,
            false,
            par,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_dimension_strides_are_normalised() {
        // A 1x2 times 2x1 product whose unit dimensions carry absurd strides.
        let (a, b) = ([1.0f64, 2.0], [3.0f64, 4.0]);
        let lhs = MatRef::new(&a, 0, 1, 2, usize::MAX, 1).unwrap();
        let rhs = MatRef::new(&b, 0, 2, 1, 1, usize::MAX).unwrap();
        assert_eq!((lhs.row_stride, rhs.col_stride), (0, 0));
        let mut c = [0.0f64];
        let dst = MatMut::new(&mut c, 0, 1, 1, usize::MAX, usize::MAX).unwrap();
        assert_eq!((dst.row_stride, dst.col_stride), (0, 0));
        gemm(dst, lhs, rhs, 1.0, None, Parallelism::Sequential).unwrap();
        assert_eq!(c, [11.0]);
    }

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_naive_with_transposes_and_accumulation() -> Result<(), GemmError> {
        let (m, k, n) = (7, 5, 3);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let mut c = vec![1.0; m * n];
        gemm(
            MatMut::row_major(&mut c, m, n)?,
            MatRef::row_major(&a, m, k)?,
            MatRef::row_major(&b, k, n)?,
            2.0,
            Some(1.0),
            Parallelism::Threads(2),
        )?;
        for (got, w) in c.iter().zip(&want) {
            assert!((got - (2.0 * w + 1.0)).abs() < 1e-12);
        }
        // (B^T A^T)^T = A B, computed into a column-major destination.
        let at: Vec<f64> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
        let mut ct = vec![0.0; m * n];
        gemm(
            MatMut::new(&mut ct, 0, m, n, 1, m)?,
            MatRef::row_major(&at, k, m)?.t(),
            MatRef::row_major(&b, k, n)?,
            1.0,
            None,
            Parallelism::Sequential,
        )?;
        for i in 0..m {
            for j in 0..n {
                assert!((ct[j * m + i] - want[i * n + j]).abs() < 1e-12);
            }
        }
        Ok(())
    }

    #[test]
    fn refuses_out_of_bounds_and_aliasing_views() -> Result<(), GemmError> {
        let a = [0.0f32; 6];
        assert!(MatRef::row_major(&a, 2, 4).is_err());
        assert!(MatRef::new(&a, 1, 2, 3, 3, 1).is_err());
        assert!(MatRef::new(&a, 0, 3, 4, 1, 1).is_ok()); // Overlapping rows are fine for reads.
        let mut d = [0.0f32; 6];
        assert!(MatMut::new(&mut d, 0, 3, 2, 1, 1).is_err());
        assert!(MatMut::new(&mut d, 0, 3, 2, 2, 1).is_ok());
        let mut c = [0.0f32; 4];
        let r = gemm(
            MatMut::row_major(&mut c, 2, 2)?,
            MatRef::row_major(&a, 2, 3)?,
            MatRef::row_major(&a, 2, 3)?,
            1.0,
            None,
            Parallelism::Sequential,
        );
        assert!(r.is_err());
        Ok(())
    }

    #[test]
    fn empty_inner_dimension_clears_or_scales() -> Result<(), GemmError> {
        let a: [f32; 0] = [];
        let mut c = [3.0f32; 4];
        gemm(
            MatMut::row_major(&mut c, 2, 2)?,
            MatRef::row_major(&a, 2, 0)?,
            MatRef::row_major(&a, 0, 2)?,
            1.0,
            Some(2.0),
            Parallelism::Sequential,
        )?;
        assert_eq!(c, [6.0; 4]);
        gemm(
            MatMut::row_major(&mut c, 2, 2)?,
            MatRef::row_major(&a, 2, 0)?,
            MatRef::row_major(&a, 0, 2)?,
            1.0,
            None,
            Parallelism::Sequential,
        )?;
        assert_eq!(c, [0.0; 4]);
        Ok(())
    }
}
