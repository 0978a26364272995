//! The kernels' error type.

/// Why a kernel refused its inputs.
///
/// Kept local to the kernels so they do not depend on the graph layer; the op layer converts it
/// into the runtime error (adding the op's full name). Messages are lowercase, name the kernel
/// and the shapes in backticks, and say what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// The operands' shapes do not fit together.
    #[error("`{kernel}`: {message}")]
    ShapeMismatch {
        /// The kernel that refused, e.g. `conv2d`.
        kernel: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An argument other than a shape is out of range (a zero stride, an empty window, ...).
    #[error("`{kernel}`: {message}")]
    InvalidArgument {
        /// The kernel that refused.
        kernel: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl KernelError {
    pub(crate) fn shape(kernel: &'static str, message: impl Into<String>) -> Self {
        Self::ShapeMismatch { kernel, message: message.into() }
    }

    pub(crate) fn arg(kernel: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidArgument { kernel, message: message.into() }
    }

    /// The kernel that refused.
    pub fn kernel(&self) -> &'static str {
        match self {
            Self::ShapeMismatch { kernel, .. } | Self::InvalidArgument { kernel, .. } => kernel,
        }
    }

    /// The explanation without the kernel prefix.
    pub fn message(&self) -> &str {
        match self {
            Self::ShapeMismatch { message, .. } | Self::InvalidArgument { message, .. } => message,
        }
    }

    /// Wraps a `scope-gemm` refusal (a bug in a kernel's bookkeeping if it ever happens).
    pub(crate) fn gemm(kernel: &'static str, e: scope_gemm::GemmError) -> Self {
        Self::shape(kernel, e.to_string())
    }
}

impl KernelError {
    /// Converts into the runtime's [`crate::Error`] for op `op` (its TF type, e.g. `Conv2D`) at
    /// node `node` (its full name), with the shapes of its two main inputs.
    ///
    /// Shape problems become [`crate::Error::IncompatibleShapes`]; other refusals
    /// [`crate::Error::InvalidArgument`] with the node named in the message.
    pub fn into_error(self, op: &'static str, node: &str, lhs: &[usize], rhs: &[usize]) -> crate::Error {
        match self {
            Self::ShapeMismatch { kernel, message } => crate::Error::IncompatibleShapes {
                op,
                node: node.to_string(),
                lhs: lhs.to_vec(),
                rhs: rhs.to_vec(),
                reason: format!("{message} (in kernel `{kernel}`)"),
            },
            Self::InvalidArgument { kernel, message } => crate::Error::InvalidArgument {
                message: format!("op `{node}` ({op}): {message} (in kernel `{kernel}`)"),
            },
        }
    }
}
