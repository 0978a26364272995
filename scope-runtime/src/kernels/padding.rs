//! TensorFlow's SAME / VALID window arithmetic, shared by convolution and pooling.

use super::{KResult, KernelError};

/// TensorFlow's padding modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Padding {
    /// `out = ceil(in / stride)`; `pad_total = max((out - 1) * stride + k - in, 0)`, split with the
    /// odd element at the end (bottom / right), exactly as TensorFlow pads.
    Same,
    /// No padding: `out = ceil((in - k + 1) / stride)`; the window must fit (`in >= k`).
    Valid,
}

/// One spatial dimension of a sliding window: its output length and padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Input length.
    pub input: usize,
    /// Window (kernel) length.
    pub kernel: usize,
    /// Step between windows.
    pub stride: usize,
    /// Output length.
    pub output: usize,
    /// Implicit padding before the first element.
    pub pad_before: usize,
    /// Implicit padding after the last element (TF puts the odd element here).
    pub pad_after: usize,
}

impl Window {
    /// Computes the output length and padding of one dimension as TensorFlow does.
    ///
    /// ```
    /// use varscope::kernels::{Padding, Window};
    /// let w = Window::new("conv2d", "height", 6, 3, 2, Padding::Same)?;
    /// assert_eq!((w.output, w.pad_before, w.pad_after), (3, 0, 1));
    /// # Ok::<(), varscope::kernels::KernelError>(())
    /// ```
    pub fn new(
        kernel_name: &'static str,
        dim: &str,
        input: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
    ) -> KResult<Self> {
        if stride == 0 {
            return Err(KernelError::arg(kernel_name, format!("the {dim} stride is 0; use a stride of at least 1")));
        }
        if kernel == 0 {
            return Err(KernelError::arg(
                kernel_name,
                format!("the {dim} window is empty; use a window of at least 1"),
            ));
        }
        let (output, pad_before, pad_after) = match padding {
            Padding::Same => {
                let output = input.div_ceil(stride);
                // Checked: the padded length `max(needed, input)` must fit, so
                // `padded()` cannot overflow either.
                let needed = output.saturating_sub(1).checked_mul(stride).and_then(|n| n.checked_add(kernel));
                let Some(needed) = needed.filter(|n| n.checked_add(input).is_some()) else {
                    return Err(KernelError::shape(
                        kernel_name,
                        format!(
                            "the {dim} window ({kernel}) with stride {stride} over {input} elements needs more \
                             padding than a usize holds; use a smaller window or stride"
                        ),
                    ));
                };
                let total = needed.saturating_sub(input);
                (output, total / 2, total - total / 2)
            }
            Padding::Valid => {
                if input < kernel {
                    return Err(KernelError::shape(
                        kernel_name,
                        format!(
                            "the {dim} window ({kernel}) is larger than the input ({input}) with VALID \
                             padding; use SAME padding or a smaller window"
                        ),
                    ));
                }
                ((input - kernel) / stride + 1, 0, 0)
            }
        };
        Ok(Self { input, kernel, stride, output, pad_before, pad_after })
    }

    /// The padded input length (`pad_before + input + pad_after`). [`Window::new`] checked
    /// that it fits; for a hand-built `Window` it saturates rather than overflow.
    pub fn padded(&self) -> usize {
        self.pad_before.saturating_add(self.input).saturating_add(self.pad_after)
    }
}
