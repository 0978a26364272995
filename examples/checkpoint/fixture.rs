//! The models of the checkpoint fixtures (`expected.json`), rebuilt as a port of the TF program
//! builds them: runtime variables with the recorded values (int64 ones as saver tensors), and a
//! saver with the partitioned variables as their parts. Shared by the example and the tests.
//! Only for the fixtures' `expected.json` (a development aid of the interop check): a field
//! missing from one is a bug of the fixture and panics naming nothing more than serde does.

use serde_json::Value as Json;
use varscope::checkpoint::{Saver, StoredTensor};
use varscope::ndarray::{ArcArray, IxDyn, Slice};
use varscope::{Graph, VarSpec, Variable};

pub fn flatten(v: &Json, out: &mut Vec<Json>) {
    match v {
        Json::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other.clone()),
    }
}

pub fn shape_of(v: &Json) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect()
}

/// The expected.json variable `w` as a stored tensor (floats are the f32/f64 values exactly).
pub fn stored(w: &Json) -> StoredTensor {
    let shape = shape_of(&w["shape"]);
    let mut flat = Vec::new();
    flatten(&w["value"], &mut flat);
    let dim = IxDyn(&shape);
    match w["dtype"].as_str().unwrap() {
        "float32" => StoredTensor::F32(
            ArcArray::from_shape_vec(dim, flat.iter().map(|x| x.as_f64().unwrap() as f32).collect()).unwrap(),
        ),
        "float64" => StoredTensor::F64(
            ArcArray::from_shape_vec(dim, flat.iter().map(|x| x.as_f64().unwrap()).collect()).unwrap(),
        ),
        "int32" => StoredTensor::I32(
            ArcArray::from_shape_vec(dim, flat.iter().map(|x| x.as_i64().unwrap() as i32).collect()).unwrap(),
        ),
        "int64" => StoredTensor::I64(
            ArcArray::from_shape_vec(dim, flat.iter().map(|x| x.as_i64().unwrap()).collect()).unwrap(),
        ),
        other => panic!("fixture dtype {other}"),
    }
}

pub fn sliced(t: &StoredTensor, ext: &[(usize, usize)]) -> StoredTensor {
    fn cut<T: Clone>(a: &ArcArray<T, IxDyn>, ext: &[(usize, usize)]) -> ArcArray<T, IxDyn> {
        a.slice_each_axis(|ax| {
            let (s, l) = ext[ax.axis.index()];
            Slice::from(s..s + l)
        })
        .to_owned()
        .into_shared()
    }
    match t {
        StoredTensor::F32(a) => StoredTensor::F32(cut(a, ext)),
        StoredTensor::F64(a) => StoredTensor::F64(cut(a, ext)),
        StoredTensor::I32(a) => StoredTensor::I32(cut(a, ext)),
        StoredTensor::I64(a) => StoredTensor::I64(cut(a, ext)),
        _ => unreachable!(),
    }
}

/// The fixture's model as runtime variables (int64 ones as saver tensors) and a saver of it,
/// partitioned variables as their parts: what a port of the TF program builds.
pub fn fixture_graph(exp: &Json) -> (Graph, Saver) {
    let graph = Graph::new();
    let cx = graph.scope();
    let mut extra = Vec::new();
    let mut parts: std::collections::BTreeMap<String, Vec<Variable>> = Default::default();
    for gv in exp["graph_variables"].as_array().unwrap() {
        let name = gv["name"].as_str().unwrap().strip_suffix(":0").unwrap();
        let key = gv["checkpoint_key"].as_str().unwrap();
        // A part's value is its slice of the full value of its checkpoint key.
        let (value, partition) = match exp["partitioned"].get(key) {
            Some(p) => {
                let part = p["parts"].as_array().unwrap().iter().find(|q| q["variable"] == gv["name"]).unwrap();
                let ext: Vec<(usize, usize)> =
                    shape_of(&part["var_offset"]).into_iter().zip(shape_of(&part["var_shape"])).collect();
                (sliced(&stored(&exp["variables"][key]), &ext), Some(key.to_string()))
            }
            None => (stored(&exp["variables"][key]), None),
        };
        match value.clone().into_value(key) {
            Ok(v) => {
                let var = cx.get_variable(name, VarSpec::new().shape(v.shape()).dtype(v.dtype())).unwrap();
                var.assign(v).unwrap();
                if let Some(key) = partition {
                    parts.entry(key).or_default().push(var);
                }
            }
            Err(_) => extra.push((key.to_string(), value)),
        }
    }
    let mut saver = Saver::new(&graph);
    for (key, vars) in parts {
        saver = saver.partitioned(&key, exp["partitioned"][&key]["axis"].as_u64().unwrap() as usize, &vars).unwrap();
    }
    for (key, t) in extra {
        saver = saver.with_tensor(&key, t);
    }
    (graph, saver)
}
