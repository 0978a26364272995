//! What exporters (TensorBoard's GraphDef, DOT) need of a recorded node beyond
//! [`NodeInfo`](crate::NodeInfo): each output's dtype and shape and the op's
//! TensorFlow attributes, read from the op vocabulary ([`Op`]) so that no
//! exporter keeps a second op table.

use crate::dtype::DType;
use crate::graph::Graph;
use crate::init::{Init, helper_names};
use crate::ops::{ExtraOp, LinalgOp, MathOp, NnOp, Op, Padding, ReduceOp, ShapeOp, TrainOp};
use crate::record::AssignKind;
use crate::tensor::Value;

/// A TensorFlow attribute value of a recorded op (`AttrValue`'s cases that
/// varscope's ops use).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AttrValue {
    /// A bool, such as `transpose_a`.
    Bool(bool),
    /// An int, such as `N` or `num_split`.
    Int(i64),
    /// A list of ints, such as `strides`.
    Ints(Vec<i64>),
    /// A string, such as `padding` (`SAME`).
    Str(&'static str),
    /// A float, such as `epsilon` or `LRN`'s `alpha`.
    Float(f32),
    /// A dtype, such as `T`.
    Type(DType),
    /// A tensor: the value of a `Const`.
    Tensor(Value),
    /// A shape, such as a `Placeholder`'s.
    Shape(Vec<usize>),
}

/// A recorded node with everything a GraphDef says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDetails {
    /// The full node name (`image_filters/conv1/Conv2D`).
    pub name: String,
    /// TensorFlow's op type (`Conv2D`, `VariableV2`).
    pub op_type: String,
    /// The input tensors' names (`image1:0`, `split:1`).
    pub inputs: Vec<String>,
    /// Each output's dtype and shape, in output order.
    pub outputs: Vec<(DType, Vec<usize>)>,
    /// The op's attributes as TensorFlow names them (`T`, `strides`, `padding`, ...), sorted
    /// by name. A variable's are `dtype` and `shape` (as a list of ints).
    pub attrs: Vec<(&'static str, AttrValue)>,
    /// For a variable: the name of the node TensorFlow's initializer ends in
    /// (`v/Initializer/random_normal`), which its `Assign` reads. varscope computes initial
    /// values directly and records no initializer ops, only their names.
    pub initializer: Option<String>,
}

impl Graph {
    /// The recorded nodes in creation order, with their outputs and TensorFlow attributes.
    ///
    /// ```
    /// use varscope::ops::{AttrValue, Padding};
    /// use varscope::{DType, Graph, ndarray::ArrayD};
    ///
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let x = cx.constant(ArrayD::<f32>::ones(vec![1, 4, 4, 1]))?;
    /// let f = cx.get_variable("f", [3, 3, 1, 2])?;
    /// cx.conv2d(&x, &f, [2, 2], Padding::Same)?;
    /// let conv = graph.node_details().pop().unwrap();
    /// assert_eq!(conv.outputs, [(DType::F32, vec![1, 2, 2, 2])]);
    /// assert!(conv.attrs.contains(&("padding", AttrValue::Str("SAME"))));
    /// assert!(conv.attrs.contains(&("strides", AttrValue::Ints(vec![1, 2, 2, 1]))));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn node_details(&self) -> Vec<NodeDetails> {
        let state = self.state();
        let variables: std::collections::HashMap<usize, (DType, Vec<usize>)> =
            state.globals.iter().map(|v| (v.tensor().node(), (v.dtype(), v.shape().to_vec()))).collect();
        state
            .nodes
            .iter()
            .map(|(index, node)| {
                let inputs: Vec<String> = node.inputs.iter().map(|t| t.name().to_string()).collect();
                let input_dtypes: Vec<DType> = node.inputs.iter().map(|t| t.dtype()).collect();
                match (&node.grad, variables.get(index)) {
                    (Some(rec), _) => {
                        let outputs: Vec<(DType, Vec<usize>)> =
                            rec.outputs.iter().map(|v| (v.dtype(), v.shape().to_vec())).collect();
                        let mut attrs = op_attrs(&rec.op, &input_dtypes, &rec.outputs);
                        attrs.sort_by_key(|(k, _)| *k);
                        NodeDetails {
                            name: node.name.clone(),
                            op_type: rec.op.op_type().to_string(),
                            inputs,
                            outputs,
                            attrs,
                            initializer: None,
                        }
                    }
                    (None, Some((dtype, shape))) => NodeDetails {
                        name: node.name.clone(),
                        op_type: node.op_type.to_string(),
                        inputs,
                        outputs: vec![(*dtype, shape.clone())],
                        attrs: vec![
                            ("dtype", AttrValue::Type(*dtype)),
                            ("shape", AttrValue::Ints(shape.iter().map(|&d| d as i64).collect())),
                        ],
                        initializer: initializer_output(|name| state.is_name_in_use(name), &node.name),
                    },
                    (None, None) => NodeDetails {
                        name: node.name.clone(),
                        op_type: node.op_type.to_string(),
                        inputs,
                        outputs: Vec::new(),
                        attrs: Vec::new(),
                        initializer: None,
                    },
                }
            })
            .collect()
    }
}

/// The node TF's initializer of variable `var` ends in, found among the names the variable
/// took when it was created (`init::helper_names` is the one list of them).
fn initializer_output(in_use: impl Fn(&str) -> bool, var: &str) -> Option<String> {
    let kinds = [Init::Zeros, Init::Ones, Init::random_normal(0.0, 1.0), Init::GlorotUniform, Init::constant(0.0)];
    kinds
        .iter()
        .filter_map(|init| {
            let (scope, inner) = helper_names(init, 1);
            scope.or_else(|| inner.last().copied())
        })
        .map(|out| format!("{var}/Initializer/{out}"))
        .find(|name| in_use(name))
}

fn padding(p: Padding) -> AttrValue {
    AttrValue::Str(match p {
        Padding::Same => "SAME",
        Padding::Valid => "VALID",
    })
}

fn nhwc(pair: [usize; 2]) -> AttrValue {
    AttrValue::Ints(vec![1, pair[0] as i64, pair[1] as i64, 1])
}

/// TensorFlow's attributes of `op`, whose inputs have `dtypes` and which computed `outputs`.
fn op_attrs(op: &Op, dtypes: &[DType], outputs: &[Value]) -> Vec<(&'static str, AttrValue)> {
    let t = |i: usize| AttrValue::Type(dtypes.get(i).copied().unwrap_or_default());
    let out_t = || AttrValue::Type(outputs.first().map(Value::dtype).unwrap_or_default());
    let i32_t = || AttrValue::Type(DType::I32);
    let n = || AttrValue::Int(dtypes.len() as i64);
    match op {
        Op::Const => {
            let value = outputs.first().cloned().unwrap_or_else(|| Value::from(0.0f32));
            vec![("dtype", AttrValue::Type(value.dtype())), ("value", AttrValue::Tensor(value))]
        }
        Op::Placeholder { .. } => {
            let shape = AttrValue::Shape(outputs.first().map(|v| v.shape().to_vec()).unwrap_or_default());
            vec![("dtype", out_t()), ("shape", shape)]
        }
        Op::Assign(kind) => {
            let locking = AttrValue::Bool(*kind == AssignKind::Set);
            let mut attrs = vec![("T", t(0)), ("use_locking", locking)];
            if *kind == AssignKind::Set {
                attrs.push(("validate_shape", AttrValue::Bool(true)));
            }
            attrs
        }
        Op::Gradients | Op::Group => Vec::new(),
        Op::Identity => vec![("T", out_t())],
        Op::Math(op) => match op {
            MathOp::Binary(_) | MathOp::Unary(_) => vec![("T", out_t())],
            MathOp::AddN => vec![("N", n()), ("T", t(0))],
        },
        Op::Linalg(op) => match *op {
            LinalgOp::MatMul { transpose_a, transpose_b } => vec![
                ("T", t(0)),
                ("transpose_a", AttrValue::Bool(transpose_a)),
                ("transpose_b", AttrValue::Bool(transpose_b)),
            ],
            LinalgOp::BatchMatMul { adj_x, adj_y } => {
                vec![("T", t(0)), ("adj_x", AttrValue::Bool(adj_x)), ("adj_y", AttrValue::Bool(adj_y))]
            }
        },
        Op::Nn(op) => match op {
            NnOp::Softmax | NnOp::LogSoftmax | NnOp::SigmoidXent | NnOp::SoftmaxXent => vec![("T", out_t())],
            NnOp::BiasAdd => vec![("T", t(0)), ("data_format", AttrValue::Str("NHWC"))],
            NnOp::Conv2D(w) => vec![
                ("T", t(0)),
                ("data_format", AttrValue::Str("NHWC")),
                ("dilations", AttrValue::Ints(vec![1, 1, 1, 1])),
                ("explicit_paddings", AttrValue::Ints(Vec::new())),
                ("padding", padding(w.padding)),
                ("strides", nhwc(w.stride)),
                ("use_cudnn_on_gpu", AttrValue::Bool(true)),
            ],
            NnOp::MaxPool(w) | NnOp::AvgPool(w) => vec![
                ("T", t(0)),
                ("data_format", AttrValue::Str("NHWC")),
                ("ksize", nhwc(w.k)),
                ("padding", padding(w.padding)),
                ("strides", nhwc(w.stride)),
            ],
            NnOp::Lrn { depth_radius, bias, alpha, beta } => vec![
                ("T", t(0)),
                ("alpha", AttrValue::Float(*alpha as f32)),
                ("beta", AttrValue::Float(*beta as f32)),
                ("bias", AttrValue::Float(*bias as f32)),
                ("depth_radius", AttrValue::Int(*depth_radius as i64)),
            ],
            NnOp::SparseSoftmaxXent => vec![("T", t(0)), ("Tlabels", t(1))],
            NnOp::L2Loss => vec![("T", t(0))],
        },
        Op::Reduce(
            ReduceOp::Sum { keepdims, .. } | ReduceOp::Mean { keepdims, .. } | ReduceOp::Max { keepdims, .. },
        ) => {
            vec![("T", t(0)), ("Tidx", i32_t()), ("keep_dims", AttrValue::Bool(*keepdims))]
        }
        Op::Shape(op) => match op {
            ShapeOp::Reshape { .. } => vec![("T", t(0)), ("Tshape", i32_t())],
            ShapeOp::Transpose { .. } => vec![("T", t(0)), ("Tperm", i32_t())],
            ShapeOp::Concat { .. } => vec![("N", n()), ("T", t(0)), ("Tidx", i32_t())],
            ShapeOp::Split { .. } => vec![("T", t(0)), ("num_split", AttrValue::Int(outputs.len() as i64))],
            ShapeOp::Slice { .. } => vec![("Index", i32_t()), ("T", t(0))],
            ShapeOp::Gather { .. } => {
                vec![("Taxis", i32_t()), ("Tindices", t(1)), ("Tparams", t(0)), ("batch_dims", AttrValue::Int(0))]
            }
        },
        Op::Extra(op) => match op {
            ExtraOp::Rsqrt | ExtraOp::GreaterEqual => vec![("T", t(0))],
            ExtraOp::Select => vec![("T", t(1))],
            ExtraOp::RandomUniform { dtype, .. } => vec![
                ("T", i32_t()),
                ("dtype", AttrValue::Type(*dtype)),
                ("seed", AttrValue::Int(0)),
                ("seed2", AttrValue::Int(0)),
            ],
            ExtraOp::Unpack { axis, num } => {
                vec![("T", t(0)), ("axis", AttrValue::Int(*axis as i64)), ("num", AttrValue::Int(*num as i64))]
            }
            ExtraOp::Pack { axis } => vec![("N", n()), ("T", t(0)), ("axis", AttrValue::Int(*axis as i64))],
            ExtraOp::FusedBatchNorm { epsilon, training } => vec![
                ("T", t(0)),
                ("U", t(0)),
                ("data_format", AttrValue::Str("NHWC")),
                ("epsilon", AttrValue::Float(*epsilon as f32)),
                ("exponential_avg_factor", AttrValue::Float(1.0)),
                ("is_training", AttrValue::Bool(*training)),
            ],
        },
        Op::Train(op) => match op {
            TrainOp::Cast { to } => {
                vec![("DstT", AttrValue::Type(*to)), ("SrcT", t(0)), ("Truncate", AttrValue::Bool(false))]
            }
            TrainOp::Minimum | TrainOp::Maximum | TrainOp::Floor => vec![("T", t(0))],
            TrainOp::Scatter(_) => vec![("T", t(0)), ("Tindices", t(1)), ("use_locking", AttrValue::Bool(false))],
            TrainOp::Unique => vec![("T", t(0)), ("out_idx", i32_t())],
            TrainOp::UnsortedSegmentSum => vec![("T", t(0)), ("Tindices", t(1)), ("Tnumsegments", i32_t())],
        },
        Op::Layer(op) => super::layer_ops::attrs(op, dtypes, outputs),
    }
}
