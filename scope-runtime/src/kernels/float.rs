//! The element types the kernels accept.

use std::fmt::Debug;
use std::ops::{AddAssign, MulAssign, Neg, SubAssign};

/// A floating-point element type (`f32` or `f64`) with the math the kernels need.
pub trait Float:
    scope_gemm::Element
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + PartialOrd
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Debug
    + Default
    + Send
    + Sync
{
    /// Negative infinity (the identity of `max`).
    const NEG_INFINITY: Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    /// The hyperbolic tangent.
    fn tanh(self) -> Self;
    /// The larger of two values (NaN-ignoring like `f32::max`).
    fn max(self, other: Self) -> Self;
    /// Converts a count (exact for the sizes kernels see).
    fn from_usize(n: usize) -> Self;
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
}

macro_rules! impl_float {
    ($t:ty) => {
        impl Float for $t {
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
        }
    };
}

impl_float!(f32);
impl_float!(f64);
