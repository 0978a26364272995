//! The workloads measured by `benches/kernels.rs` and by the candle comparison crate
//! (`compare/`, which includes this file), so both time exactly the same computation.

#![allow(dead_code)]

use ndarray::{Array1, Array2, Array4, Ix4};
use varscope::kernels::{
    self, Conv2dScratch, Epilogue, KernelError, Padding, bias_add, bias_add_grad, conv2d_backward_filter,
    conv2d_backward_input, relu, relu_grad,
};

/// Result type of the workloads.
pub type R<T> = Result<T, KernelError>;

/// The seed model's shapes: 8 images of 32x32x32, two 5x5x32x32 SAME convolutions.
pub const BATCH: usize = 8;
/// Image height and width.
pub const SIDE: usize = 32;
/// Channels in and out of both convolutions.
pub const CHANNELS: usize = 32;
/// Filter height and width.
pub const KERNEL: usize = 5;

/// Deterministic pseudo-random numbers in [-1, 1) (splitmix64).
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// A random `[n, n]` matrix.
    pub fn square(&mut self, n: usize) -> Array2<f32> {
        Array2::from_shape_simple_fn((n, n), || self.next())
    }

    /// A random rank-4 array, scaled.
    pub fn array4(&mut self, shape: [usize; 4], scale: f32) -> Array4<f32> {
        Array4::from_shape_simple_fn(shape, || self.next() * scale)
    }
}

/// Floating-point operations of one `[n, n] @ [n, n]` product.
pub fn matmul_flops(n: usize) -> f64 {
    2.0 * (n * n * n) as f64
}

/// Floating-point operations of one seed convolution.
pub fn conv_flops() -> f64 {
    2.0 * (BATCH * SIDE * SIDE * CHANNELS * KERNEL * KERNEL * CHANNELS) as f64
}

/// `my_image_filter` from the seed tutorial: `relu(conv(relu(conv(x, w1) + b1), w2) + b2)`.
pub struct ImageFilter {
    /// Input images, NHWC.
    pub x: Array4<f32>,
    /// `conv1/weights`, HWIO.
    pub w1: Array4<f32>,
    /// `conv1/biases`.
    pub b1: Array1<f32>,
    /// `conv2/weights`, HWIO.
    pub w2: Array4<f32>,
    /// `conv2/biases`.
    pub b2: Array1<f32>,
}

/// The intermediate values the backward pass needs (what a graph keeps).
pub struct Tape {
    /// `relu1` output.
    pub r1: Array4<f32>,
    /// `relu2` output (the model's output).
    pub r2: Array4<f32>,
}

/// Gradients of `sum(output)` with respect to the four variables.
pub struct Grads {
    /// d/d `conv1/weights`.
    pub w1: Array4<f32>,
    /// d/d `conv1/biases`.
    pub b1: Array1<f32>,
    /// d/d `conv2/weights`.
    pub w2: Array4<f32>,
    /// d/d `conv2/biases`.
    pub b2: Array1<f32>,
}

fn rank4(a: ndarray::ArrayD<f32>) -> R<Array4<f32>> {
    a.into_dimensionality::<Ix4>()
        .map_err(|e| KernelError::ShapeMismatch { kernel: "workload", message: e.to_string() })
}

impl ImageFilter {
    /// Random inputs and variables with the seed's shapes (weights scaled like Glorot).
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let wscale = (6.0 / (2.0 * (KERNEL * KERNEL * CHANNELS) as f32)).sqrt();
        Self {
            x: rng.array4([BATCH, SIDE, SIDE, CHANNELS], 1.0),
            w1: rng.array4([KERNEL, KERNEL, CHANNELS, CHANNELS], wscale),
            b1: Array1::from_shape_simple_fn(CHANNELS, || rng.next() * 0.1),
            w2: rng.array4([KERNEL, KERNEL, CHANNELS, CHANNELS], wscale),
            b2: Array1::from_shape_simple_fn(CHANNELS, || rng.next() * 0.1),
        }
    }

    /// The output shape (and that of the hidden activation).
    pub fn shape() -> [usize; 4] {
        [BATCH, SIDE, SIDE, CHANNELS]
    }

    /// Forward with bias and relu fused into each convolution's output pass, into preallocated
    /// buffers (no allocation once `scratch` has grown).
    pub fn forward_fused(
        &self,
        scratch: &mut Conv2dScratch<f32>,
        hidden: &mut Array4<f32>,
        out: &mut Array4<f32>,
    ) -> R<()> {
        let s = [1, 1];
        kernels::conv2d_into(
            self.x.view(),
            self.w1.view(),
            s,
            Padding::Same,
            Epilogue::BiasRelu(self.b1.view()),
            scratch,
            hidden.view_mut(),
        )?;
        kernels::conv2d_into(
            hidden.view(),
            self.w2.view(),
            s,
            Padding::Same,
            Epilogue::BiasRelu(self.b2.view()),
            scratch,
            out.view_mut(),
        )
    }

    /// Forward as separate ops (`Conv2D`, `BiasAdd`, `Relu`, each allocating its output), keeping
    /// what the backward pass needs.
    pub fn forward_ops(&self) -> R<Tape> {
        let layer = |x: &Array4<f32>, w: &Array4<f32>, b: &Array1<f32>| -> R<Array4<f32>> {
            let z = kernels::conv2d(x.view(), w.view(), [1, 1], Padding::Same)?;
            let a = bias_add(z.into_dyn().view(), b.view())?;
            rank4(relu(a.view()))
        };
        let r1 = layer(&self.x, &self.w1, &self.b1)?;
        let r2 = layer(&r1, &self.w2, &self.b2)?;
        Ok(Tape { r1, r2 })
    }

    /// Backward of `sum(output)` through both layers.
    pub fn backward(&self, tape: &Tape) -> R<Grads> {
        let (s, p) = ([1, 1], Padding::Same);
        let dy = Array4::<f32>::ones(tape.r2.raw_dim());
        let da2 = relu_grad(tape.r2.view(), dy.view())?;
        let b2 = bias_add_grad(da2.view().into_dyn())?;
        let w2 = conv2d_backward_filter(tape.r1.view(), da2.view(), self.w2.dim().into(), s, p)?;
        let dr1 = conv2d_backward_input(da2.view(), self.w2.view(), tape.r1.dim().into(), s, p)?;
        let da1 = relu_grad(tape.r1.view(), dr1.view())?;
        let b1 = bias_add_grad(da1.view().into_dyn())?;
        let w1 = conv2d_backward_filter(self.x.view(), da1.view(), self.w1.dim().into(), s, p)?;
        Ok(Grads { w1, b1, w2, b2 })
    }

    /// One convolution layer's backward: input and filter gradients of the first convolution.
    pub fn conv_backward(&self, dy: &Array4<f32>) -> R<(Array4<f32>, Array4<f32>)> {
        let (s, p) = ([1, 1], Padding::Same);
        let dx = conv2d_backward_input(dy.view(), self.w1.view(), self.x.dim().into(), s, p)?;
        let dw = conv2d_backward_filter(self.x.view(), dy.view(), self.w1.dim().into(), s, p)?;
        Ok((dx, dw))
    }
}
