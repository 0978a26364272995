//! TensorBoard event files and DOT: the TFRecord framing and CRCs, the writer (also when the
//! program stops half-way), TensorFlow's own event files read with our reader, the seed
//! model's GraphDef against the nodes TF 2.21 wrote (`tests/events/`, copied from
//! `../shared/oracle-next/public/events/`), and the DOT of the graph and of a manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use varscope::ops::Padding;
use varscope::prelude::*;
use varscope::summary::{FILE_VERSION, FRAMING_BYTES, SummaryWriter, frame_record, read_event_file, read_records};
use varscope::{model, scope, var};

fn events_dir(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/events").join(case)
}

const TF_EVENT_FILE: &str = "events.out.tfevents.1796158982.oracle";

fn expected(case: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(events_dir(case).join("expected.json")).expect("tests/events fixture");
    serde_json::from_str(&text).expect("expected.json parses")
}

/// A fresh, empty directory under the target dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("summary-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn only_event_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains("tfevents")))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn fixture_copies_match_shared_reference_when_present() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle-next/public/events");
    let Ok(cases) = std::fs::read_dir(&shared) else { return };
    let mut compared = 0;
    for case in cases.flatten() {
        for file in std::fs::read_dir(case.path()).unwrap().flatten() {
            let rel = file.path().strip_prefix(&shared).unwrap().to_path_buf();
            let ours = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/events").join(&rel));
            let theirs = std::fs::read(file.path()).unwrap();
            assert!(ours.ok() == Some(theirs), "tests/events/{} differs from ../shared: copy it over", rel.display());
            compared += 1;
        }
    }
    assert!(compared >= 6, "only {compared} fixture files compared");
}

#[test]
fn reads_tensorflows_event_files() {
    for case in ["seed_graph", "seed_graph_loss"] {
        let want = expected(case);
        let log = read_event_file(events_dir(case).join(TF_EVENT_FILE)).unwrap();
        assert_eq!(log.file_version.as_deref(), Some(FILE_VERSION));
        assert_eq!(log.writer.as_deref(), Some("tensorflow.core.util.events_writer"));
        assert_eq!(log.records, want["records"].as_array().unwrap().len(), "{case}");
        assert_eq!(log.truncated_at, None);
        assert_eq!(log.graphs.len(), 1);
        let nodes = &log.graphs[0];
        let want_nodes = want["graph"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len() as u64, want["graph"]["node_count"].as_u64().unwrap(), "{case}");
        assert_eq!(nodes.len(), want_nodes.len());
        for (got, w) in nodes.iter().zip(want_nodes) {
            assert_eq!(got.name, w["name"].as_str().unwrap());
            assert_eq!(got.op, w["op"].as_str().unwrap(), "{}", got.name);
            let inputs: Vec<&str> = w["input"].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
            assert_eq!(got.inputs, inputs, "{}", got.name);
            let keys: Vec<&str> = w["attr_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
            assert_eq!(got.attr_keys, keys, "{}", got.name);
        }
        let scalars = want["scalars"].as_object().unwrap();
        assert_eq!(log.scalars.iter().map(|s| s.tag.as_str()).collect::<BTreeSet<_>>().len(), scalars.len());
        for (tag, series) in scalars {
            let series: Vec<(i64, f32)> = series
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap() as f32))
                .collect();
            assert_eq!(log.scalars(tag), series, "{case} {tag}");
        }
    }
    // The loss case really has scalars, so the loop above compared some.
    assert_eq!(read_event_file(events_dir("seed_graph_loss").join(TF_EVENT_FILE)).unwrap().scalars("loss").len(), 5);
}

#[test]
fn our_scalar_record_is_byte_identical_to_tensorflows_but_for_the_time() {
    // TF's `loss` record at step 2 (expected.json: at byte 20129, 26 bytes of data).
    let tf = std::fs::read(events_dir("seed_graph_loss").join(TF_EVENT_FILE)).unwrap();
    let tf_record = &tf[20129..20129 + 26 + FRAMING_BYTES];
    let dir = temp_dir("bytes");
    let mut w = SummaryWriter::new(&dir).unwrap();
    w.scalar("loss", 2, 82_473.453_125_f64).unwrap();
    let ours = std::fs::read(w.path()).unwrap();
    let ours = read_records(&ours).unwrap().records.pop().unwrap();
    let theirs = read_records(tf_record).unwrap().records.pop().unwrap();
    // Field 1 is the wall time (tag byte, then 8 bytes); everything after it is identical.
    assert_eq!((ours[0], theirs[0]), (0x09, 0x09));
    assert_eq!(ours[9..], theirs[9..]);
    // And our framing of TF's data gives TF's bytes.
    assert_eq!(frame_record(&theirs), tf_record);
}

#[test]
fn every_record_is_framed_with_masked_crcs() {
    let dir = temp_dir("framing");
    let graph = Graph::new();
    let mut cx = graph.scope();
    let w = cx.variable_scope("dense").unwrap().get_variable("w", [3, 2]).unwrap();
    let x = cx.constant(Value::filled(DType::F32, &[1, 3], 1.0).unwrap()).unwrap();
    cx.matmul(&x, &w).unwrap();
    let mut writer = SummaryWriter::new(&dir).unwrap();
    writer.graph(&graph).unwrap();
    writer.scalars(7, &[("loss", 0.5), ("metrics/accuracy", 0.25)]).unwrap();
    writer.flush().unwrap();
    let bytes = std::fs::read(only_event_file(&dir)).unwrap();
    // Walk the framing by hand: length, masked CRC32C of the length, data, masked CRC32C.
    let mut at = 0;
    let mut n = 0;
    while at < bytes.len() {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
        let framed = &bytes[at..at + len + FRAMING_BYTES];
        assert_eq!(frame_record(&framed[12..12 + len]), framed, "record {n}");
        at += len + FRAMING_BYTES;
        n += 1;
    }
    assert_eq!((at, n), (bytes.len(), 3));
    let log = read_event_file(only_event_file(&dir)).unwrap();
    assert_eq!(log.file_version.as_deref(), Some("brain.Event:2"));
    assert_eq!(log.writer.as_deref(), Some("varscope"));
    assert_eq!(log.scalars("loss"), [(7, 0.5)]);
    assert_eq!(log.scalars("metrics/accuracy"), [(7, 0.25)]);
    let names: Vec<&str> = log.graphs[0].iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        ["dense/w/Initializer/random_uniform", "dense/w", "dense/w/Assign", "dense/w/read", "Const", "MatMul"]
    );
    let matmul = &log.graphs[0][5];
    assert_eq!(matmul.inputs, ["Const", "dense/w/read"]);
    assert_eq!(matmul.attr_keys, ["T", "_output_shapes", "transpose_a", "transpose_b"]);
    // A flipped bit is found.
    let mut bad = bytes.clone();
    let last = bad.len() - 6;
    bad[last] ^= 0x10;
    assert!(read_records(&bad).unwrap_err().to_string().contains("record 2"));
}

#[test]
fn a_half_written_file_keeps_every_completed_record() {
    let dir = temp_dir("half");
    let path = {
        let mut writer = SummaryWriter::new(&dir).unwrap();
        for step in 0..4 {
            writer.scalar("loss", step, step as f64).unwrap();
        }
        let path = writer.path().to_path_buf();
        // The program stops without closing or flushing the writer.
        std::mem::forget(writer);
        path
    };
    let log = read_event_file(&path).unwrap();
    assert_eq!(log.scalars("loss"), [(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0)]);
    assert_eq!(log.truncated_at, None);
    // The process died inside the last write: every cut keeps the records before it.
    let bytes = std::fs::read(&path).unwrap();
    let last = read_records(&bytes).unwrap().records.last().unwrap().len() + FRAMING_BYTES;
    for cut in [1, 8, 12, last - 4, last - 1] {
        std::fs::write(&path, &bytes[..bytes.len() - cut]).unwrap();
        let log = read_event_file(&path).unwrap();
        assert_eq!(log.scalars("loss"), [(0, 0.0), (1, 1.0), (2, 2.0)], "cut {cut}");
        assert_eq!(log.truncated_at, Some(bytes.len() - last), "cut {cut}");
    }
}

#[test]
fn writers_never_overwrite_each_other() {
    let dir = temp_dir("two");
    let a = SummaryWriter::new(&dir).unwrap();
    let b = SummaryWriter::new(&dir).unwrap();
    assert_ne!(a.path(), b.path());
    assert!(read_event_file(a.path()).is_ok() && read_event_file(b.path()).is_ok());
}

#[test]
fn bad_input_is_an_error_naming_the_file() {
    let dir = temp_dir("bad");
    let mut writer = SummaryWriter::new(&dir).unwrap();
    let err = writer.scalar("", 0, 1.0).unwrap_err().to_string();
    assert!(err.contains("empty summary tag") && err.contains("tfevents"), "{err}");
    let garbage = dir.join("garbage.tfevents");
    std::fs::write(&garbage, frame_record(b"\xff\xff\xff")).unwrap();
    let err = read_event_file(&garbage).unwrap_err().to_string();
    assert!(err.contains("garbage.tfevents") && err.contains("not an Event"), "{err}");
    let file = dir.join("file");
    std::fs::write(&file, b"").unwrap();
    let err = SummaryWriter::new(file.join("sub")).unwrap_err().to_string();
    assert!(err.contains("cannot create the log directory"), "{err}");
}

#[model]
fn conv_relu(cx: &mut Scope, input: &Tensor, kernel_shape: [usize; 4], bias_shape: [usize; 1]) -> Result<Tensor> {
    let weights = var!(cx, "weights", kernel_shape, init = Init::RandomNormal { mean: 0.0, stddev: 1.0 })?;
    let biases = var!(cx, "biases", bias_shape, init = Init::constant(0.0))?;
    let conv = cx.conv2d(input, &weights, [1, 1], Padding::Same)?;
    let pre = cx.add(&conv, &biases)?;
    cx.relu(&pre)
}

#[model]
fn my_image_filter(cx: &mut Scope, input_images: &Tensor) -> Result<Tensor> {
    let relu1 = scope!(cx, "conv1" { conv_relu(cx, input_images, [5, 5, 2, 2], [2]) })?;
    scope!(cx, "conv2" { conv_relu(cx, &relu1, [5, 5, 2, 2], [2]) })
}

/// The seed model on small images (the names, ops and inputs do not depend on the sizes).
fn seed_graph() -> Result<(Graph, Tensor, Tensor)> {
    let graph = Graph::with_seed(1);
    let mut cx = graph.scope();
    let cx = &mut cx;
    let image1 = cx.named("image1").constant(Value::filled(DType::F32, &[1, 4, 4, 2], 1.0)?)?;
    let image2 = cx.named("image2").constant(Value::filled(DType::F32, &[1, 4, 4, 2], 0.5)?)?;
    scope!(cx, "image_filters" {
        my_image_filter(cx, &image1)?;
        cx.reuse_variables();
        my_image_filter(cx, &image2)?;
        Ok::<(), Error>(())
    })?;
    Ok((graph, image1, image2))
}

#[test]
fn the_seed_graph_has_the_nodes_tensorflow_wrote() {
    let (graph, image1, image2) = seed_graph().unwrap();
    let dir = temp_dir("seed");
    let mut writer = SummaryWriter::new(&dir).unwrap();
    writer.graph_with_inputs(&graph, &[&image1, &image2]).unwrap();
    let log = read_event_file(writer.path()).unwrap();
    let ours: BTreeMap<&str, _> = log.graphs[0].iter().map(|n| (n.name.as_str(), n)).collect();
    let want = expected("seed_graph");
    let mut compared = 0;
    for w in want["graph"]["nodes"].as_array().unwrap() {
        let name = w["name"].as_str().unwrap();
        // varscope records no initializer internals, only the node each initializer ends in.
        if name.contains("/Initializer/") {
            continue;
        }
        let got = ours.get(name).unwrap_or_else(|| panic!("node {name} missing"));
        assert_eq!(got.op, w["op"].as_str().unwrap(), "{name}");
        let inputs: Vec<&str> = w["input"].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
        assert_eq!(got.inputs, inputs, "{name}");
        let keys: Vec<&str> = w["attr_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(got.attr_keys, keys, "{name}");
        compared += 1;
    }
    assert_eq!(compared, 26);
    // Each Assign reads a node our GraphDef has, named as TF names it.
    for name in
        ["image_filters/conv1/weights/Initializer/random_normal", "image_filters/conv1/biases/Initializer/Const"]
    {
        assert!(ours.contains_key(name), "{name}");
    }
    // TensorBoard's groups: every `/` prefix.
    let groups: BTreeSet<String> = ours
        .keys()
        .flat_map(|n| n.match_indices('/').map(|(i, _)| n[..i].to_string()).collect::<Vec<_>>())
        .filter(|g| !g.contains("Initializer"))
        .collect();
    let want_groups: BTreeSet<String> = want["hierarchy"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .filter(|g| !g.contains("Initializer"))
        .collect();
    assert_eq!(groups, want_groups);
}

/// The node ids declared in each cluster (by scope path, `""` for the top level).
type Clusters = BTreeMap<String, Vec<String>>;

/// The DOT statements of `dot`, checked for balance: the clusters' nodes and the edges.
fn parse_dot(dot: &str) -> (Clusters, Vec<(String, String)>) {
    let mut clusters = Clusters::new();
    let mut stack = vec![String::new()];
    let mut edges = Vec::new();
    let lines: Vec<&str> = dot.lines().map(str::trim).collect();
    assert!(lines[0].starts_with("digraph ") && lines[0].ends_with('{'), "{}", lines[0]);
    assert_eq!(lines.last(), Some(&"}"));
    for line in &lines[1..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("subgraph \"cluster_") {
            stack.push(rest.trim_end_matches(" {").trim_end_matches('"').to_string());
        } else if *line == "}" {
            assert!(stack.len() > 1, "unbalanced }}");
            stack.pop();
        } else if let Some((from, to)) = line.split_once(" -> ") {
            let to = to.split(" [").next().unwrap().trim_end_matches(';');
            edges.push((from.trim_matches('"').to_string(), to.trim_matches('"').to_string()));
        } else if line.starts_with('"') && line.contains(" [label=") {
            let id = line.split(" [").next().unwrap().trim_matches('"').to_string();
            clusters.entry(stack.last().unwrap().clone()).or_default().push(id);
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced {{");
    (clusters, edges)
}

#[test]
fn the_graph_dot_has_one_cluster_per_scope() {
    let (graph, ..) = seed_graph().unwrap();
    let (clusters, edges) = parse_dot(&graph.to_dot());
    let scopes: Vec<&str> = clusters.keys().map(String::as_str).collect();
    assert_eq!(
        scopes,
        ["", "image_filters/conv1", "image_filters/conv1_1", "image_filters/conv2", "image_filters/conv2_1"]
    );
    assert_eq!(clusters[""], ["image1", "image2"]);
    assert_eq!(
        clusters["image_filters/conv1_1"],
        ["image_filters/conv1_1/Conv2D", "image_filters/conv1_1/add", "image_filters/conv1_1/Relu"]
    );
    assert!(clusters["image_filters/conv1"].contains(&"image_filters/conv1/weights".to_string()));
    let declared: BTreeSet<&String> = clusters.values().flatten().collect();
    assert_eq!(declared.len(), graph.nodes().len());
    for (from, to) in &edges {
        assert!(declared.contains(from) && declared.contains(to), "{from} -> {to}");
    }
    // The second application reads the first's variables.
    assert!(edges.contains(&("image_filters/conv1/weights".into(), "image_filters/conv1_1/Conv2D".into())));
    assert_eq!(edges.len(), graph.nodes().iter().map(|n| n.inputs.len()).sum::<usize>());
}

#[test]
fn the_manifest_dot_shows_variables_by_scope_and_calls() {
    let (clusters, edges) = parse_dot(&my_image_filter::MANIFEST.to_dot());
    assert_eq!(clusters[""], ["model:my_image_filter", "model:conv_relu"]);
    assert_eq!(clusters["conv1"], ["var:conv1/weights", "var:conv1/biases"]);
    assert_eq!(clusters["conv2"], ["var:conv2/weights", "var:conv2/biases"]);
    let calls: Vec<_> = edges.iter().filter(|(_, to)| to.starts_with("model:")).collect();
    let call = ("model:my_image_filter".to_string(), "model:conv_relu".to_string());
    assert_eq!(calls, [&call, &call]);
    let declares: BTreeSet<_> = edges.iter().filter(|(_, to)| to.starts_with("var:")).collect();
    assert_eq!(declares.len(), 4);
    assert!(declares.iter().all(|(from, _)| from == "model:conv_relu"), "{declares:?}");
    let dot = my_image_filter::MANIFEST.to_dot();
    assert!(dot.contains("label=\"in conv1 (line "), "{dot}");
    assert!(dot.contains("by conv_relu (line "), "{dot}");
}

#[test]
fn only_constants_of_the_graph_become_placeholders() {
    let (graph, image1, _) = seed_graph().unwrap();
    let dir = temp_dir("feeds");
    let mut writer = SummaryWriter::new(&dir).unwrap();
    let relu = graph.nodes().into_iter().find(|n| n.op_type == "Relu").unwrap();
    let other = Graph::new();
    let foreign = other.scope().constant(1.0f32).unwrap();
    let var = graph.get_variable_by_name("image_filters/conv1/weights").unwrap();
    for bad in [var.tensor(), &foreign] {
        let err = writer.graph_with_inputs(&graph, &[&image1, bad]).unwrap_err().to_string();
        assert!(err.contains(&format!("cannot draw `{}` as a Placeholder", bad.name())), "{err}");
    }
    // Nothing was written for the refused calls; the ops keep their op types.
    writer.graph_with_inputs(&graph, &[&image1]).unwrap();
    let log = read_event_file(writer.path()).unwrap();
    assert_eq!(log.graphs.len(), 1);
    let op = |name: &str| log.graphs[0].iter().find(|n| n.name == name).map(|n| n.op.clone());
    assert_eq!(op("image1").as_deref(), Some("Placeholder"));
    assert_eq!(op("image2").as_deref(), Some("Const"));
    assert_eq!(op(&relu.name).as_deref(), Some("Relu"));
}

#[test]
fn node_details_carry_the_attributes_tensorboard_shows() {
    use varscope::ops::AttrValue;
    let graph = Graph::new();
    let cx = graph.scope();
    let a = cx.constant(Value::filled(DType::F64, &[2, 3], 1.0).unwrap()).unwrap();
    let b = cx.constant(Value::filled(DType::F64, &[2, 3], 2.0).unwrap()).unwrap();
    cx.matmul_t(&a, &b, false, true).unwrap();
    let details = graph.node_details();
    let mm = details.iter().find(|n| n.op_type == "MatMul").unwrap();
    assert_eq!(mm.inputs, ["Const:0", "Const_1:0"]);
    assert_eq!(mm.outputs, [(DType::F64, vec![2, 2])]);
    assert_eq!(
        mm.attrs,
        [
            ("T", AttrValue::Type(DType::F64)),
            ("transpose_a", AttrValue::Bool(false)),
            ("transpose_b", AttrValue::Bool(true))
        ]
    );
    let c = &details[0];
    assert_eq!(c.attrs[0], ("dtype", AttrValue::Type(DType::F64)));
    assert!(matches!(&c.attrs[1], ("value", AttrValue::Tensor(v)) if v.to_f64_vec() == [1.0; 6]));
}
