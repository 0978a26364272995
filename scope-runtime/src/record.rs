//! The record of an op: what it was (the op vocabulary, with the attributes
//! its gradient needs) and the values it saw. The graph stores it; the ops
//! make it; autodiff reads it. It imports only values, so every layer above
//! can use it.

use crate::dtype::DType;
use crate::kernels::Padding;
use crate::tensor::Value;

/// A sliding window over the spatial dimensions of an NHWC tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) k: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) padding: Padding,
}

/// What an op is, with every attribute its forward computation and its
/// gradient need: with its input values, an `Op` determines its outputs
/// (`ops::forward`), so a recorded graph can be run again (`Session::run`).
// `NoOp` is TF's op name.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// A constant: its value is the recorded output.
    Const,
    /// A value given at run time (a feed); its recorded output is the value
    /// it had when built. `with_default`: its one input is used when not fed.
    Placeholder {
        with_default: bool,
    },
    Identity,
    /// `var = value`, `var += value`, `var -= value` on the variable that is
    /// input 0 (TF's `Assign`, `AssignAdd`, `AssignSub`): the output is the new value.
    Assign(AssignKind),
    /// The gradients of input 0 (a scalar loss) with respect to the other
    /// inputs, one output each (TF's `tf.gradients`, recorded as one node).
    Gradients,
    /// Does nothing; runs its control inputs (TF's `NoOp`, as `tf.group` makes).
    Group,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Neg,
    Exp,
    Log,
    Sqrt,
    Relu,
    Sigmoid,
    Tanh,
    Softmax,
    LogSoftmax,
    BiasAdd,
    MatMul {
        transpose_a: bool,
        transpose_b: bool,
    },
    BatchMatMul {
        adj_x: bool,
        adj_y: bool,
    },
    Conv2D(Window),
    MaxPool(Window),
    AvgPool(Window),
    Sum {
        axes: Vec<usize>,
        keepdims: bool,
    },
    Mean {
        axes: Vec<usize>,
        keepdims: bool,
    },
    Max {
        axes: Vec<usize>,
        keepdims: bool,
    },
    Reshape {
        shape: Vec<isize>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    Concat {
        axis: usize,
    },
    Split {
        axis: usize,
        num: usize,
    },
    Slice {
        begin: Vec<usize>,
        size: Vec<isize>,
    },
    Gather {
        axis: usize,
    },
    SigmoidXent,
    SoftmaxXent,
    // The ops of models/image/cifar10.py (`ops/nn.rs`, `ops/math.rs`).
    /// Local response normalisation over the channels (NHWC).
    Lrn {
        depth_radius: usize,
        bias: f64,
        alpha: f64,
        beta: f64,
    },
    /// Outputs: the loss per row and its gradient with respect to the logits.
    SparseSoftmaxXent,
    L2Loss,
    AddN,
    // The layers' ops (`ops/extra.rs`).
    Rsqrt,
    Unpack {
        axis: usize,
        num: usize,
    },
    Pack {
        axis: usize,
    },
    /// TF's `FusedBatchNormV3` (channels last): inputs x, scale, offset,
    /// mean, variance; outputs y, batch mean, corrected batch variance.
    FusedBatchNorm {
        epsilon: f64,
        training: bool,
    },
    /// Uniform in `[0, 1)`, drawn from the stream of the graph `seed` and
    /// the op's name (the same in every run).
    RandomUniform {
        shape: Vec<usize>,
        dtype: crate::dtype::DType,
        seed: u64,
    },
    /// `a >= b` as 1 or 0 in the inputs' dtype.
    GreaterEqual,
    /// TF's `SelectV2`: input 1 where input 0 is nonzero, else input 2.
    Select,
    // The ops of `ops/train_ops.rs` (optimizers, clipping, schedules).
    /// Converts to `to` (TF's `Cast`).
    Cast {
        to: DType,
    },
    Minimum,
    Maximum,
    Floor,
    /// Row updates of the variable that is input 0 at the int32 indices of
    /// input 1 by the rows of input 2 (`ScatterUpdate`/`ScatterAdd`/`ScatterSub`).
    Scatter(AssignKind),
    /// Two outputs: the distinct values and each input's position among them.
    Unique,
    /// Rows of input 0 summed by the segment ids of input 1; input 2's
    /// first dimension is the number of segments.
    UnsortedSegmentSum,
}

/// How an assignment op combines the variable's value with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AssignKind {
    Set,
    Add,
    Sub,
}

/// What an op node keeps for its gradient.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) op: Op,
    pub(crate) inputs: Vec<Value>,
    pub(crate) outputs: Vec<Value>,
}

impl Recorded {
    /// Recycles the values only this record still holds ([`Value::recycle`]).
    pub(crate) fn recycle(self) {
        for v in self.inputs.into_iter().chain(self.outputs) {
            v.recycle();
        }
    }
}
