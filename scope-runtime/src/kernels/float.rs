//! The element types the kernels accept.

/// A floating-point element type (`f32` or `f64`) with the math the kernels need: `ndarray`'s
/// [`NdFloat`](ndarray::NdFloat) (so `num_traits::Float`'s `exp`, `ln`, `tanh`, `max`, ...) and
/// what the GEMM front end takes.
pub trait Float: scope_gemm::Element + ndarray::NdFloat + Default {
    /// Negative infinity (the identity of `max`).
    const NEG_INFINITY: Self;
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
