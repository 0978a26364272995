//! `tensorflow.GraphDef` and what it holds (`graph.proto`, `node_def.proto`, `attr_value.proto`,
//! `versions.proto`, `tensor.proto`): the messages an event file's `graph_def` carries.

use std::collections::BTreeMap;

use super::{DataType, TensorShapeProto, VersionDef};

/// `tensorflow.GraphDef`: the nodes in creation order and the producer version.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GraphDef {
    /// The nodes.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeDef>,
    /// Which TensorFlow wrote it.
    #[prost(message, optional, tag = "4")]
    pub versions: Option<VersionDef>,
}

/// `tensorflow.NodeDef`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NodeDef {
    /// The unique node name (`image_filters/conv1/Conv2D`).
    #[prost(string, tag = "1")]
    pub name: String,
    /// The op type (`Conv2D`).
    #[prost(string, tag = "2")]
    pub op: String,
    /// Inputs: `node` for output 0, `node:i` for output `i`, `^node` for a control input.
    #[prost(string, repeated, tag = "3")]
    pub input: Vec<String>,
    /// The requested device, empty for any.
    #[prost(string, tag = "4")]
    pub device: String,
    /// Attributes by name; a `BTreeMap` so that the bytes are deterministic (sorted by key).
    #[prost(btree_map = "string, message", tag = "5")]
    pub attr: BTreeMap<String, AttrValue>,
}

/// `tensorflow.AttrValue`: one of a list, bytes, an int, a float, a bool, a type, a shape or a
/// tensor.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct AttrValue {
    /// The value.
    #[prost(oneof = "attr_value::Value", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    pub value: Option<attr_value::Value>,
}

/// Nested types of [`AttrValue`].
pub(crate) mod attr_value {
    use super::{DataType, TensorProto, TensorShapeProto};

    /// `AttrValue.value`.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Value {
        /// A list of values.
        #[prost(message, tag = "1")]
        List(ListValue),
        /// Bytes (strings such as `padding`).
        #[prost(bytes = "vec", tag = "2")]
        S(Vec<u8>),
        /// An int.
        #[prost(int64, tag = "3")]
        I(i64),
        /// A float.
        #[prost(float, tag = "4")]
        F(f32),
        /// A bool.
        #[prost(bool, tag = "5")]
        B(bool),
        /// A dtype.
        #[prost(enumeration = "DataType", tag = "6")]
        Type(i32),
        /// A shape.
        #[prost(message, tag = "7")]
        Shape(TensorShapeProto),
        /// A tensor.
        #[prost(message, tag = "8")]
        Tensor(TensorProto),
    }

    /// `AttrValue.ListValue`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ListValue {
        /// Bytes values.
        #[prost(bytes = "vec", repeated, tag = "2")]
        pub s: Vec<Vec<u8>>,
        /// Int values.
        #[prost(int64, repeated, tag = "3")]
        pub i: Vec<i64>,
        /// Float values.
        #[prost(float, repeated, tag = "4")]
        pub f: Vec<f32>,
        /// Bool values.
        #[prost(bool, repeated, tag = "5")]
        pub b: Vec<bool>,
        /// Dtype values.
        #[prost(enumeration = "DataType", repeated, tag = "6")]
        pub r#type: Vec<i32>,
        /// Shape values.
        #[prost(message, repeated, tag = "7")]
        pub shape: Vec<TensorShapeProto>,
    }
}

/// `tensorflow.TensorProto`, with the fields a `Const` of varscope's dtypes needs.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorProto {
    /// The element type.
    #[prost(enumeration = "DataType", tag = "1")]
    pub dtype: i32,
    /// The shape.
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// The elements as raw little-endian bytes (what TF writes for more than one element).
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    /// `float` elements (TF writes one for a scalar).
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    /// `double` elements.
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
    /// `int32` elements.
    #[prost(int32, repeated, tag = "7")]
    pub int_val: Vec<i32>,
    /// `int64` elements.
    #[prost(int64, repeated, tag = "10")]
    pub int64_val: Vec<i64>,
}
