//! The record of an op: what it was (the op vocabulary, with the attributes
//! its gradient needs) and the values it saw. The graph stores it; the ops
//! make it; autodiff reads it. It imports only values, so every layer above
//! can use it.

use crate::kernels::Padding;
use crate::tensor::Value;

/// A sliding window over the spatial dimensions of an NHWC tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) k: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) padding: Padding,
}

/// What an op did, with the attributes its gradient needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Const,
    Identity,
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
    MatMul { transpose_a: bool, transpose_b: bool },
    BatchMatMul { adj_x: bool, adj_y: bool },
    Conv2D(Window),
    MaxPool(Window),
    AvgPool(Window),
    Sum { axes: Vec<usize>, keepdims: bool },
    Mean { axes: Vec<usize>, keepdims: bool },
    Max { axes: Vec<usize>, keepdims: bool },
    Reshape,
    Transpose { perm: Vec<usize> },
    Concat { axis: usize },
    Split { axis: usize },
    Slice { begin: Vec<usize> },
    Gather { axis: usize },
    SigmoidXent,
    SoftmaxXent,
}

/// What an op node keeps for its gradient.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) op: Op,
    pub(crate) inputs: Vec<Value>,
    pub(crate) outputs: Vec<Value>,
}
