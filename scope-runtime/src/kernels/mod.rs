//! Fast numeric kernels on `ndarray`: the arithmetic behind the graph-recorded ops.
//!
//! Kernels are plain functions over `ndarray` views. They never panic on bad shapes: every
//! shape or argument problem comes back as a [`KernelError`] naming the kernel, the shapes and
//! the fix, which the op layer maps onto the runtime's error type. `f32` is the first-class
//! element type; every kernel is generic over [`Float`] so `f64` works too (gradient checks).
//!
//! | area | functions |
//! |---|---|
//! | matrix multiply | [`matmul`], [`matmul_into`], [`batch_matmul`], [`batch_matmul_into`] |
//! | convolution (NHWC / HWIO) | [`conv2d`], [`conv2d_into`], [`conv2d_backward_input`], [`conv2d_backward_input_into`], [`conv2d_backward_filter`], [`Conv2dGeometry`] |
//! | pooling (NHWC) | [`max_pool2d`], [`max_pool2d_backward`], [`avg_pool2d`], [`avg_pool2d_backward`] |
//! | bias | [`bias_add`], [`bias_add_inplace`], [`bias_add_grad`] |
//! | activations | [`relu`], [`relu_grad`], [`sigmoid`], [`sigmoid_grad`], [`tanh`], [`tanh_grad`] |
//! | softmax | [`softmax`], [`softmax_grad`], [`log_softmax`], [`log_softmax_grad`] |
//! | broadcasting | [`broadcast_shape`], [`reduce_to_shape`] |
//!
//! Matrix products run on the `gemm` crate's AVX-512 kernels (through `scope-gemm`); the
//! stride-1 convolution reads the padded image as an overlapping-row matrix ("implicit im2col"),
//! so it never materializes the im2col buffer; in f32 with AVX-512 it runs on `scope-gemm`'s
//! direct convolution kernels (no packing, bias and relu fused in registers).

mod activation;
mod bias;
mod broadcast;
mod conv;
mod error;
mod float;
mod matmul;
mod padding;
pub(crate) mod par;
mod pool;
pub(crate) mod recycle;
mod softmax;

pub use activation::{relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad};
pub use bias::{bias_add, bias_add_grad, bias_add_inplace};
pub use broadcast::{broadcast_shape, reduce_to_shape};
pub use conv::{
    Conv2dGeometry, Conv2dScratch, Epilogue, conv2d, conv2d_backward_filter, conv2d_backward_input,
    conv2d_backward_input_into, conv2d_into,
};
pub(crate) use conv::{with_scratch, zeros4};
pub use error::KernelError;
pub use float::Float;
pub use matmul::{batch_matmul, batch_matmul_into, matmul, matmul_into};
pub use padding::{Padding, Window};
pub use pool::{Pool2dGeometry, avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward};
pub use softmax::{log_softmax, log_softmax_grad, softmax, softmax_grad};

/// The result type of every kernel.
pub type KResult<T> = std::result::Result<T, KernelError>;

#[cfg(test)]
mod tests;
