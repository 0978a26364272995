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
///
/// The structural ops are variants of their own; every computing op belongs to
/// one family (one file of `ops/`), whose functions take only that family's
/// enum, so every dispatch is an exhaustive `match`. [`Op::op_type`] is the one
/// table of TensorFlow op types.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// A constant: its value is the recorded output.
    Const,
    /// A value given at run time (a feed); its recorded output is the value
    /// it had when built. `with_default`: its one input is used when not fed
    /// (TF's `PlaceholderWithDefault`).
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
    /// `ops/math.rs`.
    Math(MathOp),
    /// `ops/linalg.rs`.
    Linalg(LinalgOp),
    /// `ops/nn.rs`.
    Nn(NnOp),
    /// `ops/reduce.rs`.
    Reduce(ReduceOp),
    /// `ops/shape.rs`.
    Shape(ShapeOp),
    /// `ops/extra.rs`.
    Extra(ExtraOp),
    /// `ops/train_ops.rs`.
    Train(TrainOp),
    /// `ops/layer_ops.rs`.
    Layer(LayerOp),
}

impl Op {
    /// TensorFlow's op type (`AddV2`, `Conv2D`, `AssignAdd`): what a GraphDef
    /// names the node's `op`, and what errors name.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            Op::Const => "Const",
            Op::Placeholder { with_default: false } => "Placeholder",
            Op::Placeholder { with_default: true } => "PlaceholderWithDefault",
            Op::Identity => "Identity",
            Op::Assign(AssignKind::Set) => "Assign",
            Op::Assign(AssignKind::Add) => "AssignAdd",
            Op::Assign(AssignKind::Sub) => "AssignSub",
            Op::Gradients => "SymbolicGradient",
            Op::Group => "NoOp",
            Op::Math(op) => op.op_type(),
            Op::Linalg(op) => op.op_type(),
            Op::Nn(op) => op.op_type(),
            Op::Reduce(op) => op.op_type(),
            Op::Shape(op) => op.op_type(),
            Op::Extra(op) => op.op_type(),
            Op::Train(op) => op.op_type(),
            Op::Layer(op) => op.op_type(),
        }
    }
}

macro_rules! family {
    ($($family:ident($ty:ident)),* $(,)?) => {$(
        impl From<$ty> for Op {
            fn from(op: $ty) -> Op {
                Op::$family(op)
            }
        }
    )*};
}
family!(
    Math(MathOp),
    Linalg(LinalgOp),
    Nn(NnOp),
    Reduce(ReduceOp),
    Shape(ShapeOp),
    Extra(ExtraOp),
    Train(TrainOp),
    Layer(LayerOp),
);

/// Elementwise ops (`ops/math.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MathOp {
    /// Two inputs, broadcast together.
    Binary(BinaryOp),
    /// One input.
    Unary(UnaryOp),
    /// The sum of inputs of one dtype and shape (no broadcasting).
    AddN,
}

impl MathOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            MathOp::Binary(op) => op.op_type(),
            MathOp::Unary(op) => op.op_type(),
            MathOp::AddN => "AddN",
        }
    }
}

impl From<BinaryOp> for Op {
    fn from(op: BinaryOp) -> Op {
        Op::Math(MathOp::Binary(op))
    }
}

impl From<UnaryOp> for Op {
    fn from(op: UnaryOp) -> Op {
        Op::Math(MathOp::Unary(op))
    }
}

/// The broadcasting binary ops; `Div` and `Pow` take floats only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinaryOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            BinaryOp::Add => "AddV2",
            BinaryOp::Sub => "Sub",
            BinaryOp::Mul => "Mul",
            BinaryOp::Div => "RealDiv",
            BinaryOp::Pow => "Pow",
        }
    }
}

/// The unary elementwise ops; all but `Neg` and `Relu` take floats only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Relu,
    Sigmoid,
    Tanh,
}

impl UnaryOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            UnaryOp::Neg => "Neg",
            UnaryOp::Exp => "Exp",
            UnaryOp::Log => "Log",
            UnaryOp::Sqrt => "Sqrt",
            UnaryOp::Relu => "Relu",
            UnaryOp::Sigmoid => "Sigmoid",
            UnaryOp::Tanh => "Tanh",
        }
    }
}

/// Matrix products (`ops/linalg.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinalgOp {
    MatMul { transpose_a: bool, transpose_b: bool },
    BatchMatMul { adj_x: bool, adj_y: bool },
}

impl LinalgOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            LinalgOp::MatMul { .. } => "MatMul",
            LinalgOp::BatchMatMul { .. } => "BatchMatMulV2",
        }
    }
}

/// Neural-network ops (`ops/nn.rs`), among them those of models/image/cifar10.py.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NnOp {
    BiasAdd,
    Conv2D(Window),
    MaxPool(Window),
    AvgPool(Window),
    Softmax,
    LogSoftmax,
    SigmoidXent,
    SoftmaxXent,
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
}

impl NnOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            NnOp::BiasAdd => "BiasAdd",
            NnOp::Conv2D(_) => "Conv2D",
            NnOp::MaxPool(_) => "MaxPool",
            NnOp::AvgPool(_) => "AvgPool",
            NnOp::Softmax => "Softmax",
            NnOp::LogSoftmax => "LogSoftmax",
            NnOp::SigmoidXent => "SigmoidCrossEntropyWithLogits",
            NnOp::SoftmaxXent => "SoftmaxCrossEntropyWithLogits",
            NnOp::Lrn { .. } => "LRN",
            NnOp::SparseSoftmaxXent => "SparseSoftmaxCrossEntropyWithLogits",
            NnOp::L2Loss => "L2Loss",
        }
    }
}

/// Reductions over axes (`ops/reduce.rs`); the axes are resolved against the
/// input's rank, sorted and distinct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReduceOp {
    Sum { axes: Vec<usize>, keepdims: bool },
    Mean { axes: Vec<usize>, keepdims: bool },
    Max { axes: Vec<usize>, keepdims: bool },
}

impl ReduceOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            ReduceOp::Sum { .. } => "Sum",
            ReduceOp::Mean { .. } => "Mean",
            ReduceOp::Max { .. } => "Max",
        }
    }
}

/// Shape ops (`ops/shape.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShapeOp {
    Reshape { shape: Vec<isize> },
    Transpose { perm: Vec<usize> },
    Concat { axis: usize },
    Split { axis: usize, num: usize },
    Slice { begin: Vec<usize>, size: Vec<isize> },
    Gather { axis: usize },
}

impl ShapeOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            ShapeOp::Reshape { .. } => "Reshape",
            ShapeOp::Transpose { .. } => "Transpose",
            ShapeOp::Concat { .. } => "ConcatV2",
            ShapeOp::Split { .. } => "Split",
            ShapeOp::Slice { .. } => "Slice",
            ShapeOp::Gather { .. } => "GatherV2",
        }
    }
}

/// The layers' ops (`ops/extra.rs`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExtraOp {
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
        dtype: DType,
        seed: u64,
    },
    /// `a >= b` as 1 or 0 in the inputs' dtype.
    GreaterEqual,
    /// TF's `SelectV2`: input 1 where input 0 is nonzero, else input 2.
    Select,
}

impl ExtraOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            ExtraOp::Rsqrt => "Rsqrt",
            ExtraOp::Unpack { .. } => "Unpack",
            ExtraOp::Pack { .. } => "Pack",
            ExtraOp::FusedBatchNorm { .. } => "FusedBatchNormV3",
            ExtraOp::RandomUniform { .. } => "RandomUniform",
            ExtraOp::GreaterEqual => "GreaterEqual",
            ExtraOp::Select => "SelectV2",
        }
    }
}

/// The ops of optimizers, clipping and schedules (`ops/train_ops.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrainOp {
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

/// The ops of `ops/layer_ops.rs`, each with its TF op type ([`LayerOp::op_type`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LayerOp {
    /// `|x|`.
    Abs,
    /// `x * x`.
    Square,
    /// `x` where `x > 0`, else `alpha * x`.
    LeakyRelu { alpha: f64 },
    /// `x` where `x > 0`, else `exp(x) - 1`.
    Elu,
    /// `log(1 + exp(x))`, computed as TF computes it.
    Softplus,
    /// `x`, passing no gradient back.
    StopGradient,
    /// `1` where `a == b`, else `0`, in the inputs' dtype (TF's output is bool).
    Equal,
    /// The index of the largest (`min`: smallest) element along `axis`, as `output`.
    ArgMax { axis: usize, min: bool, output: DType },
    /// Rows of `depth` values, `on` at each index and `off` elsewhere, on a new `axis`.
    OneHot { depth: usize, on: f64, off: f64, axis: usize, dtype: DType },
    /// Removes the given axes, each of length 1.
    Squeeze { axes: Vec<usize> },
    /// Inserts an axis of length 1 at `axis` (of the output).
    ExpandDims { axis: usize },
    /// Reverses the first `lengths[b]` steps along `seq_axis` of each slice
    /// `b` along `batch_axis`; input 1 holds the lengths.
    ReverseSequence { seq_axis: usize, batch_axis: usize },
}

impl LayerOp {
    /// TensorFlow's op type: the one table of this family's names.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            LayerOp::Abs => "Abs",
            LayerOp::Square => "Square",
            LayerOp::LeakyRelu { .. } => "LeakyRelu",
            LayerOp::Elu => "Elu",
            LayerOp::Softplus => "Softplus",
            LayerOp::StopGradient => "StopGradient",
            LayerOp::Equal => "Equal",
            LayerOp::ArgMax { min: false, .. } => "ArgMax",
            LayerOp::ArgMax { min: true, .. } => "ArgMin",
            LayerOp::OneHot { .. } => "OneHot",
            LayerOp::Squeeze { .. } => "Squeeze",
            LayerOp::ExpandDims { .. } => "ExpandDims",
            LayerOp::ReverseSequence { .. } => "ReverseSequence",
        }
    }
}

impl TrainOp {
    /// TensorFlow's op type.
    pub(crate) fn op_type(&self) -> &'static str {
        match self {
            TrainOp::Cast { .. } => "Cast",
            TrainOp::Minimum => "Minimum",
            TrainOp::Maximum => "Maximum",
            TrainOp::Floor => "Floor",
            TrainOp::Scatter(AssignKind::Set) => "ScatterUpdate",
            TrainOp::Scatter(AssignKind::Add) => "ScatterAdd",
            TrainOp::Scatter(AssignKind::Sub) => "ScatterSub",
            TrainOp::Unique => "Unique",
            TrainOp::UnsortedSegmentSum => "UnsortedSegmentSum",
        }
    }
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
