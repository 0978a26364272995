//! The recorded graph as TensorFlow's `GraphDef`, the way `tf.compat.v1` would have built it:
//! each variable `v` is the `VariableV2` node `v` plus `v/Assign` (from its initializer) and
//! `v/read` (`Identity`), and ops read variables through `v/read`. Every node carries
//! `_output_shapes`, as TF's `as_graph_def(add_shapes=True)` writes.

use std::collections::{BTreeMap, HashSet};

use crate::dtype::DType;
use crate::graph::Graph;
use crate::ops::{AttrValue, NodeDetails};
use crate::proto::VersionDef;
use crate::proto::graph::{AttrValue as AttrProto, GraphDef, NodeDef, TensorProto, attr_value};
use crate::proto::{DataType, TensorShapeProto};
use crate::tensor::{Tensor, Value};

/// The GraphDef version of TensorFlow 2.21, whose GraphDefs these follow.
const PRODUCER: i32 = 2474;

/// The GraphDef of `graph`; the nodes of `inputs` (constants holding the data a TF program
/// would feed) become `Placeholder`s.
pub(crate) fn graph_def(graph: &Graph, inputs: &[&Tensor]) -> GraphDef {
    let feeds: HashSet<&str> = inputs.iter().map(|t| t.op_name()).collect();
    let details = graph.node_details();
    let variables: HashSet<&str> =
        details.iter().filter(|n| n.op_type == "VariableV2").map(|n| n.name.as_str()).collect();
    let mut node = Vec::with_capacity(details.len());
    for n in &details {
        if n.op_type == "VariableV2" {
            variable_nodes(n, &mut node);
            continue;
        }
        let mut attr = BTreeMap::new();
        attr.insert("_output_shapes".to_string(), output_shapes(n.outputs.iter().map(|(_, s)| s.as_slice())));
        if feeds.contains(n.name.as_str()) {
            let (dtype, shape) = n.outputs.first().cloned().unwrap_or_default();
            attr.insert("dtype".to_string(), type_attr(dtype));
            attr.insert("shape".to_string(), shape_attr(&shape));
            node.push(NodeDef {
                name: n.name.clone(),
                op: "Placeholder".into(),
                input: vec![],
                device: String::new(),
                attr,
            });
            continue;
        }
        for (key, value) in &n.attrs {
            attr.insert(key.to_string(), attr_proto(value));
        }
        let input = n.inputs.iter().map(|t| input_name(t, &variables)).collect();
        node.push(NodeDef { name: n.name.clone(), op: n.op_type.clone(), input, device: String::new(), attr });
    }
    GraphDef { node, versions: Some(VersionDef { producer: PRODUCER, min_consumer: 0, bad_consumers: Vec::new() }) }
}

/// How a NodeDef names tensor `t` (`node:0`): `node` for output 0, `node:i` otherwise, and a
/// variable through its `read`.
fn input_name(t: &str, variables: &HashSet<&str>) -> String {
    let (node, index) = t.rsplit_once(':').unwrap_or((t, "0"));
    match index {
        "0" if variables.contains(node) => format!("{node}/read"),
        "0" => node.to_string(),
        _ => t.to_string(),
    }
}

/// The nodes TF makes for variable `v`: its initializer's last node (standing for the
/// `v/Initializer/` subgraph, whose ops varscope does not record), `v`, `v/Assign`, `v/read`.
fn variable_nodes(v: &NodeDetails, out: &mut Vec<NodeDef>) {
    let (dtype, shape) = v.outputs.first().cloned().unwrap_or_default();
    let shapes = || output_shapes([shape.as_slice()]);
    let colocated = || AttrProto {
        value: Some(attr_value::Value::List(attr_value::ListValue {
            s: vec![format!("loc:@{}", v.name).into_bytes()],
            ..Default::default()
        })),
    };
    let node = |name: String, op: &str, input: Vec<String>, attrs: Vec<(&str, AttrProto)>| NodeDef {
        name,
        op: op.to_string(),
        input,
        device: String::new(),
        attr: attrs.into_iter().map(|(k, a)| (k.to_string(), a)).collect(),
    };
    if let Some(init) = &v.initializer {
        let attrs = vec![("_class", colocated()), ("_output_shapes", shapes()), ("dtype", type_attr(dtype))];
        out.push(node(init.clone(), "Initializer", vec![], attrs));
    }
    out.push(node(
        v.name.clone(),
        "VariableV2",
        vec![],
        vec![
            ("_class", colocated()),
            ("_output_shapes", shapes()),
            ("container", str_attr("")),
            ("dtype", type_attr(dtype)),
            ("shape", shape_attr(&shape)),
            ("shared_name", str_attr("")),
        ],
    ));
    if let Some(init) = &v.initializer {
        out.push(node(
            format!("{}/Assign", v.name),
            "Assign",
            vec![v.name.clone(), init.clone()],
            vec![
                ("T", type_attr(dtype)),
                ("_class", colocated()),
                ("_output_shapes", shapes()),
                ("use_locking", bool_attr(true)),
                ("validate_shape", bool_attr(true)),
            ],
        ));
    }
    out.push(node(
        format!("{}/read", v.name),
        "Identity",
        vec![v.name.clone()],
        vec![("T", type_attr(dtype)), ("_class", colocated()), ("_output_shapes", shapes())],
    ));
}

fn data_type(dtype: DType) -> DataType {
    DataType::from(dtype)
}

fn type_attr(dtype: DType) -> AttrProto {
    AttrProto { value: Some(attr_value::Value::Type(data_type(dtype) as i32)) }
}

fn str_attr(s: &str) -> AttrProto {
    AttrProto { value: Some(attr_value::Value::S(s.as_bytes().to_vec())) }
}

fn bool_attr(b: bool) -> AttrProto {
    AttrProto { value: Some(attr_value::Value::B(b)) }
}

fn shape_attr(shape: &[usize]) -> AttrProto {
    AttrProto { value: Some(attr_value::Value::Shape(TensorShapeProto::known(shape))) }
}

fn output_shapes<'a>(shapes: impl IntoIterator<Item = &'a [usize]>) -> AttrProto {
    let shape = shapes.into_iter().map(TensorShapeProto::known).collect();
    AttrProto { value: Some(attr_value::Value::List(attr_value::ListValue { shape, ..Default::default() })) }
}

fn attr_proto(value: &AttrValue) -> AttrProto {
    use attr_value::{ListValue, Value as V};
    let v = match value {
        AttrValue::Bool(b) => V::B(*b),
        AttrValue::Int(i) => V::I(*i),
        AttrValue::Float(f) => V::F(*f),
        AttrValue::Ints(i) => V::List(ListValue { i: i.clone(), ..Default::default() }),
        AttrValue::Str(s) => V::S(s.as_bytes().to_vec()),
        AttrValue::Type(t) => V::Type(data_type(*t) as i32),
        AttrValue::Tensor(t) => V::Tensor(tensor_proto(t)),
        AttrValue::Shape(s) => V::Shape(TensorShapeProto::known(s)),
    };
    AttrProto { value: Some(v) }
}

/// A `Const`'s value as TF writes it: one element in the typed field for a scalar, raw
/// little-endian bytes otherwise.
pub(crate) fn tensor_proto(value: &Value) -> TensorProto {
    let mut t = TensorProto {
        dtype: data_type(value.dtype()) as i32,
        tensor_shape: Some(TensorShapeProto::known(value.shape())),
        ..Default::default()
    };
    let scalar = value.shape().is_empty();
    match value {
        Value::F32(a) if scalar => t.float_val = a.iter().copied().collect(),
        Value::F64(a) if scalar => t.double_val = a.iter().copied().collect(),
        Value::I32(a) if scalar => t.int_val = a.iter().copied().collect(),
        Value::I64(a) if scalar => t.int64_val = a.iter().copied().collect(),
        Value::F32(a) => t.tensor_content = a.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Value::F64(a) => t.tensor_content = a.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Value::I32(a) => t.tensor_content = a.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Value::I64(a) => t.tensor_content = a.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
    t
}
