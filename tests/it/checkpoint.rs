//! Checkpoints: the TF-written fixtures of `tests/checkpoints/` (copies of
//! `../shared/oracle-next/public/checkpoints/`) read bit for bit and written back byte for byte,
//! the saver, safetensors, the manifest check, and hostile files.

#[path = "../../examples/checkpoint/fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};

pub(crate) use fixture::{fixture_graph, shape_of, sliced, stored};

use serde_json::Value as Json;
use varscope::checkpoint::{
    BundleReader, BundleWriter, CheckpointReader, CheckpointState, SafetensorsReader, Saver, StoredDType, StoredTensor,
    TensorSlice, convert, init_from_checkpoint, latest_checkpoint, to_json,
};
use varscope::ndarray::{ArcArray, IxDyn};
use varscope::{DType, ErrorKind, Graph, Init, Value, VarSpec, Variable};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/checkpoints")
}

const CASES: [&str; 2] = ["tiny", "scoped_adam"];

/// A fresh directory under the system's temporary one, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("varscope-it-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn expected(case: &str) -> Json {
    let text = std::fs::read_to_string(fixtures().join(case).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Bit patterns of a tensor's elements, for exact comparison (NaN-safe).
fn bits(t: &StoredTensor) -> Vec<u64> {
    match t {
        StoredTensor::F32(a) => a.iter().map(|x| u64::from(x.to_bits())).collect(),
        StoredTensor::F64(a) => a.iter().map(|x| x.to_bits()).collect(),
        StoredTensor::I32(a) => a.iter().map(|&x| x as u64).collect(),
        StoredTensor::I64(a) => a.iter().map(|&x| x as u64).collect(),
        StoredTensor::Bool(a) => a.iter().map(|&x| u64::from(x)).collect(),
        _ => unreachable!(),
    }
}

/// A writer holding the fixture's variables, partitioned ones as their parts.
pub(crate) fn fixture_writer(exp: &Json) -> BundleWriter {
    let mut w = BundleWriter::new();
    for (key, var) in exp["variables"].as_object().unwrap() {
        let t = stored(var);
        match exp["partitioned"].get(key) {
            Some(p) => {
                let full = shape_of(&p["full_shape"]);
                for part in p["parts"].as_array().unwrap() {
                    let ext: Vec<(usize, usize)> =
                        shape_of(&part["var_offset"]).into_iter().zip(shape_of(&part["var_shape"])).collect();
                    let slice = TensorSlice::new(ext.clone());
                    assert_eq!(slice.spec(&full), part["spec"].as_str().unwrap(), "{key}: our slice spec is TF's");
                    w.add_slice(key, &full, slice, sliced(&t, &ext)).unwrap();
                }
            }
            None => w.add(key, t).unwrap(),
        }
    }
    w
}

#[test]
fn fixtures_read_bit_for_bit() {
    for case in CASES {
        let exp = expected(case);
        let prefix = fixtures().join(case).join(exp["prefix"].as_str().unwrap());
        let r = BundleReader::open(&prefix).unwrap();
        let listed: Vec<(String, Vec<usize>)> =
            r.keys().map(|k| (k.to_string(), r.info(k).unwrap().shape().to_vec())).collect();
        let want: Vec<(String, Vec<usize>)> = exp["list_variables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].as_str().unwrap().to_string(), shape_of(&e[1])))
            .collect();
        assert_eq!(listed, want, "{case}: tf.train.list_variables");
        for (key, var) in exp["variables"].as_object().unwrap() {
            let got = r.read(key).unwrap();
            let want = stored(var);
            assert_eq!(got.dtype().name(), var["dtype"].as_str().unwrap(), "{case} {key}");
            assert_eq!(got.shape(), want.shape(), "{case} {key}");
            assert_eq!(bits(&got), bits(&want), "{case} {key}: values bit for bit");
            assert_eq!(r.info(key).unwrap().is_partitioned(), exp["partitioned"].get(key).is_some());
        }
    }
}

#[test]
fn fixtures_write_back_byte_identical() {
    for case in CASES {
        let exp = expected(case);
        let name = exp["prefix"].as_str().unwrap();
        let dir = TempDir::new("bytes");
        fixture_writer(&exp).write(dir.join(name)).unwrap();
        for suffix in [".index", ".data-00000-of-00001"] {
            let ours = std::fs::read(dir.join(&format!("{name}{suffix}"))).unwrap();
            let tf = std::fs::read(fixtures().join(case).join(format!("{name}{suffix}"))).unwrap();
            assert!(ours == tf, "{case}{suffix}: {} bytes vs TF's {}", ours.len(), tf.len());
        }
        let left: Vec<_> = std::fs::read_dir(&dir.0).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 2, "no temporaries left: {left:?}");
    }
}

#[test]
fn several_shards_round_trip() {
    let exp = expected("scoped_adam");
    let dir = TempDir::new("shards");
    let prefix = dir.join("sharded");
    fixture_writer(&exp).shards(3).write(&prefix).unwrap();
    for shard in 0..3 {
        assert!(Path::new(&format!("{}.data-{shard:05}-of-00003", prefix.display())).exists());
    }
    let r = BundleReader::open(&prefix).unwrap();
    for (key, var) in exp["variables"].as_object().unwrap() {
        assert_eq!(bits(&r.read(key).unwrap()), bits(&stored(var)), "{key}");
    }
}

#[test]
fn fixture_copies_match_shared_when_present() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle-next/public/checkpoints");
    if !shared.exists() {
        return;
    }
    for case in CASES {
        for entry in std::fs::read_dir(shared.join(case)).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = std::fs::read(fixtures().join(case).join(&name)).unwrap_or_default();
            assert!(
                ours == std::fs::read(entry.path()).unwrap(),
                "tests/checkpoints/{case}/{name} differs from ../shared: copy it over"
            );
        }
    }
}

#[test]
fn int64_restores_into_the_runtime_and_bool_is_stored_but_not_restored() {
    let exp = expected("scoped_adam");
    let prefix = fixtures().join("scoped_adam/model.ckpt-2");
    let r = BundleReader::open(&prefix).unwrap();
    let step = r.read("global_step").unwrap();
    assert_eq!(step.dtype(), StoredDType::I64);
    assert_eq!(bits(&step), [exp["variables"]["global_step"]["value"].as_u64().unwrap()]);
    // int64 is a runtime dtype (TF's global step): it becomes a value as it is.
    let value = step.into_value("global_step").unwrap();
    assert_eq!(value.dtype(), DType::I64);
    assert_eq!(
        value.as_i64().unwrap().iter().map(|&x| x as u64).collect::<Vec<_>>(),
        [exp["variables"]["global_step"]["value"].as_u64().unwrap()]
    );
    let dir = TempDir::new("bool");
    let mut w = BundleWriter::new();
    w.add("mask", StoredTensor::bool(&[3], vec![true, false, true]).unwrap()).unwrap();
    w.write(dir.join("m")).unwrap();
    let back = BundleReader::open(dir.join("m")).unwrap().read("mask").unwrap();
    assert_eq!(back, StoredTensor::bool(&[3], vec![true, false, true]).unwrap());
    let err = back.into_value("mask").unwrap_err();
    assert!(err.to_string().contains("`mask` holds a bool"), "{err}");
}

#[test]
fn the_saver_writes_the_fixtures_byte_for_byte_with_their_state_file() {
    for case in CASES {
        let exp = expected(case);
        let (_graph, mut saver) = fixture_graph(&exp);
        let dir = TempDir::new("saver-bytes");
        let (base, step) = match exp["prefix"].as_str().unwrap().rsplit_once('-') {
            Some((b, s)) => (b.to_string(), Some(s.parse().unwrap())),
            None => (exp["prefix"].as_str().unwrap().to_string(), None),
        };
        let written = saver.save(dir.join(&base), step).unwrap();
        assert_eq!(written, dir.join(exp["prefix"].as_str().unwrap()));
        let name = exp["prefix"].as_str().unwrap();
        for file in [format!("{name}.index"), format!("{name}.data-00000-of-00001"), "checkpoint".to_string()] {
            let ours = std::fs::read(dir.join(&file)).unwrap();
            let tf = std::fs::read(fixtures().join(case).join(&file)).unwrap();
            assert!(ours == tf, "{case}/{file} differs from TF's");
        }
    }
}

#[test]
fn restore_reads_a_tf_checkpoint_into_a_ported_model_by_name() {
    let exp = expected("scoped_adam");
    let (graph, mut saver) = fixture_graph(&exp);
    let zeros: Vec<Variable> = graph.global_variables();
    for v in &zeros {
        v.assign(Value::filled(v.dtype(), v.shape(), 0.0).unwrap()).unwrap();
    }
    saver.restore(fixtures().join("scoped_adam/model.ckpt-2")).unwrap();
    let w = graph.get_variable_by_name("model/encoder/w").unwrap();
    assert_eq!(bits(&StoredTensor::from(w.value())), bits(&stored(&exp["variables"]["model/encoder/w"])));
    let p1 = graph.get_variable_by_name("part/v/part_1").unwrap();
    let want = sliced(&stored(&exp["variables"]["part/v"]), &[(2, 2), (0, 4)]);
    assert_eq!(bits(&StoredTensor::from(p1.value())), bits(&want), "a part restored from its slice");
    let step = graph.get_variable_by_name("global_step").unwrap();
    assert_eq!(step.dtype(), DType::I64);
    assert_eq!(step.value().to_f64_vec(), [2.0], "the int64 step restored into its variable");
}

#[test]
fn save_keeps_max_to_keep_checkpoints_and_restores_a_chosen_set() {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let a = cx.variable_scope("enc").unwrap().get_variable("w", VarSpec::new().shape([2, 2]).init(Init::Ones)).unwrap();
    let b = cx.get_variable("head/b", VarSpec::new().shape([3]).dtype(DType::F64).init(Init::Zeros)).unwrap();
    let dir = TempDir::new("keep");
    let mut saver = Saver::new(&graph).max_to_keep(2);
    let mut written = Vec::new();
    for step in [10u64, 20, 30] {
        a.assign(Value::filled(DType::F32, &[2, 2], step as f64).unwrap()).unwrap();
        written.push(saver.save(dir.join("model.ckpt"), Some(step)).unwrap());
    }
    assert!(!dir.join("model.ckpt-10.index").exists() && !dir.join("model.ckpt-10.data-00000-of-00001").exists());
    assert!(dir.join("model.ckpt-20.index").exists());
    let state = CheckpointState::read(&dir.0).unwrap().unwrap();
    assert_eq!(state.model_checkpoint_path, "model.ckpt-30");
    assert_eq!(state.all_model_checkpoint_paths, ["model.ckpt-20", "model.ckpt-30"]);
    assert_eq!(latest_checkpoint(&dir.0).unwrap(), Some(written[2].clone()));
    // Restore only `enc/w` from step 20; `head/b` keeps its value.
    b.assign(Value::filled(DType::F64, &[3], 5.0).unwrap()).unwrap();
    Saver::for_variables([a.clone()]).restore(&written[1]).unwrap();
    assert_eq!(a.value().to_f64_vec(), [20.0; 4]);
    assert_eq!(b.value().to_f64_vec(), [5.0; 3]);
}

#[test]
fn a_failing_restore_reports_every_problem_and_assigns_nothing() {
    let exp = expected("scoped_adam");
    let graph = Graph::new();
    let cx = graph.scope();
    let w = cx.get_variable("model/encoder/w", VarSpec::new().shape([3, 4]).init(Init::Ones)).unwrap();
    let proj = cx.get_variable("model/decoder/proj", VarSpec::new().shape([2, 3]).init(Init::Ones)).unwrap();
    let typo = cx.get_variable("model/encoder/bias", VarSpec::new().shape([4]).init(Init::Ones)).unwrap();
    let err = Saver::new(&graph).restore(fixtures().join("scoped_adam/model.ckpt-2")).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Checkpoint);
    assert!(text.contains("1 matched, 1 missing, 1 mismatched"), "{text}");
    assert!(text.contains("missing `model/encoder/bias`: did you mean `model/encoder/b`?"), "{text}");
    assert!(
        text.contains("mismatched `model/decoder/proj`: expected shape (2, 3) float32, stored shape (3, 2) float32"),
        "{text}"
    );
    assert!(text.contains("unused `global_step`"), "{text}");
    for v in [&w, &proj, &typo] {
        assert!(v.value().to_f64_vec().iter().all(|&x| x == 1.0), "`{}` untouched", v.op_name());
    }
    let _ = exp;
}

#[test]
fn init_from_checkpoint_remaps_scopes_and_names_and_validates_the_map() {
    let prefix = fixtures().join("scoped_adam/model.ckpt-2");
    let exp = expected("scoped_adam");
    let graph = Graph::new();
    let cx = graph.scope();
    let w = cx.get_variable("tower/encoder/w", VarSpec::new().shape([3, 4])).unwrap();
    let b = cx.get_variable("tower/encoder/b", VarSpec::new().shape([4])).unwrap();
    let emb = cx.get_variable("emb", VarSpec::new().shape([5, 3])).unwrap();
    let fresh = cx.get_variable("head/w", VarSpec::new().shape([2])).unwrap();
    let report =
        init_from_checkpoint(&graph, &prefix, &[("model/encoder/", "tower/encoder/"), ("model/shared/emb", "emb")])
            .unwrap();
    assert_eq!(report.uninitialized, ["head/w"]);
    assert_eq!(report.assigned.len(), 3);
    assert_eq!(bits(&StoredTensor::from(w.value())), bits(&stored(&exp["variables"]["model/encoder/w"])));
    assert_eq!(bits(&StoredTensor::from(b.value())), bits(&stored(&exp["variables"]["model/encoder/b"])));
    assert_eq!(bits(&StoredTensor::from(emb.value())), bits(&stored(&exp["variables"]["model/shared/emb"])));
    let before = fresh.value();
    // A rule reaching nothing, a double fill and a shape mismatch: all reported, nothing assigned.
    let err = init_from_checkpoint(
        &graph,
        &prefix,
        &[
            ("model/encoder/", "tower/encoder/"),
            ("model/encoder/w", "tower/encoder/w"),
            ("x/", "nowhere/"),
            ("model/scale", "head/w"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`tower/encoder/w` is filled twice"), "{err}");
    assert!(err.contains("`x/` -> `nowhere/` reaches no variable"), "{err}");
    assert!(err.contains("`head/w` is float32 (2,) but key `model/scale` is float32 ()"), "{err}");
    assert_eq!(fresh.value(), before);
}

#[test]
fn a_saver_killed_mid_save_leaves_the_previous_checkpoint_loadable() {
    // The child saves 8 MB checkpoints in a loop; each round waits for it to complete a new one,
    // then kills it a little later, in the middle of the next save.
    if std::env::var_os("VARSCOPE_CKPT_CHILD").is_some() {
        return;
    }
    let dir = TempDir::new("killed");
    let step_of = |p: &Path| -> u64 { p.display().to_string().rsplit('-').next().unwrap().parse().unwrap() };
    let mut last = None;
    for delay_ms in [0u64, 7, 19, 41] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "checkpoint::child_saves_forever", "--nocapture", "--test-threads=1"])
            .env("VARSCOPE_CKPT_CHILD", &dir.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        loop {
            let now = latest_checkpoint(&dir.0).unwrap().map(|p| step_of(&p));
            if now.is_some() && now != last {
                break;
            }
            assert!(started.elapsed().as_secs() < 120, "the child completed no save in 120 s");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        // Whatever the child was doing, the latest checkpoint loads whole and holds one step's
        // value everywhere, and it is not older than the one seen complete.
        let latest = latest_checkpoint(&dir.0).unwrap().expect("a completed checkpoint stays listed");
        let step = step_of(&latest);
        assert!(last.is_none_or(|l| step > l));
        let r = BundleReader::open(&latest).unwrap();
        let v = r.read("big").unwrap().into_value("big").unwrap().to_f64_vec();
        assert!(v.iter().all(|&x| x == step as f64), "a torn tensor in {}", latest.display());
        last = Some(step);
    }
}

#[test]
fn child_saves_forever() {
    // Only runs as the child of the test above.
    let Some(dir) = std::env::var_os("VARSCOPE_CKPT_CHILD") else { return };
    let graph = Graph::new();
    let cx = graph.scope();
    let big = cx.get_variable("big", VarSpec::new().shape([2 << 20]).init(Init::Zeros)).unwrap();
    let dir = PathBuf::from(dir);
    let mut saver = Saver::new(&graph).max_to_keep(2);
    let start = latest_checkpoint(&dir)
        .unwrap()
        .map_or(0, |p| p.display().to_string().rsplit('-').next().unwrap().parse::<u64>().unwrap() + 1);
    for step in start.. {
        big.assign(Value::filled(DType::F32, &[2 << 20], step as f64).unwrap()).unwrap();
        saver.save(dir.join("model.ckpt"), Some(step)).unwrap();
    }
}

#[test]
fn safetensors_round_trip_the_fixture_with_full_names() {
    let exp = expected("scoped_adam");
    let (graph, mut saver) = fixture_graph(&exp);
    let dir = TempDir::new("st");
    let path = dir.join("model.safetensors");
    saver.save_safetensors(&path).unwrap();
    let r = SafetensorsReader::open(&path).unwrap();
    let names: Vec<&str> = r.keys().collect();
    let want: Vec<&str> = exp["variables"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, want, "one tensor per checkpoint key, partitioned ones whole");
    for (key, var) in exp["variables"].as_object().unwrap() {
        assert_eq!(bits(&r.read(key).unwrap()), bits(&stored(var)), "{key}");
        assert_eq!(r.info(key).unwrap().dtype_name(), var["dtype"].as_str().unwrap());
    }
    // Restore from it, and convert it to a bundle that TF's fixture equals.
    for v in graph.global_variables() {
        v.assign(Value::filled(v.dtype(), v.shape(), 0.0).unwrap()).unwrap();
    }
    saver.restore(&path).unwrap();
    let w = graph.get_variable_by_name("part/v/part_2").unwrap();
    assert_eq!(
        bits(&StoredTensor::from(w.value())),
        bits(&sliced(&stored(&exp["variables"]["part/v"]), &[(4, 2), (0, 4)]))
    );
    assert_eq!(
        saver.check(&path).unwrap(),
        saver.check(fixtures().join("scoped_adam/model.ckpt-2")).unwrap().with_checkpoint(&path.display().to_string())
    );
}

#[test]
fn checkpoint_reader_opens_a_directory_a_prefix_an_index_and_a_safetensors_file() {
    let dir = fixtures().join("scoped_adam");
    for p in [dir.clone(), dir.join("model.ckpt-2"), dir.join("model.ckpt-2.index")] {
        let r = CheckpointReader::open(&p).unwrap();
        assert_eq!(r.keys().count(), 26, "{}", p.display());
        assert!(r.path().ends_with("model.ckpt-2"));
    }
    let err = CheckpointReader::open(fixtures().join("tiny/nothing")).unwrap_err().to_string();
    assert!(err.contains("tiny/nothing.index"), "{err}");
}

mod manifest_check {
    use varscope::prelude::*;
    use varscope::{model, scope, var};

    use super::TempDir;
    use varscope::checkpoint::Saver;

    /// The encoder of the `scoped_adam` fixture, ported with the same scopes.
    #[model]
    pub fn encoder(cx: &mut Scope, x: &Tensor) -> Result<Tensor> {
        let w = var!(cx, "w", [3, 4], init = Init::Zeros)?;
        let b = var!(cx, "b", [4], init = Init::Zeros)?;
        let y = cx.matmul(x, &w)?;
        cx.add(&y, &b)
    }

    #[model]
    pub fn ported(cx: &mut Scope, x: &Tensor) -> Result<Tensor> {
        scope!(cx, "model" {
            let h = scope!(cx, "encoder" { encoder(cx, x) })?;
            let _proj = scope!(cx, "decoder" { var!(cx, "proj", [3, 2], init = Init::Zeros) })?;
            let _scale = var!(cx, "scale", [], init = Init::Zeros)?;
            Ok::<Tensor, Error>(h)
        })
    }

    /// The same with a typo and a wrong shape.
    #[model]
    pub fn drifted(cx: &mut Scope, x: &Tensor) -> Result<Tensor> {
        scope!(cx, "model" {
            let h = scope!(cx, "encodr" { encoder(cx, x) })?;
            let _proj = scope!(cx, "decoder" { var!(cx, "proj", [2, 3], dtype = DType::F32, init = Init::Zeros) })?;
            let _scale = var!(cx, "scale", [], dtype = DType::F64, init = Init::Zeros)?;
            Ok::<Tensor, Error>(h)
        })
    }

    #[test]
    fn a_ported_model_matches_the_tf_checkpoint_before_it_runs() {
        let prefix = super::fixtures().join("scoped_adam/model.ckpt-2");
        let report = ported::MANIFEST.check_checkpoint(&prefix).unwrap();
        assert!(report.is_compatible(), "{report}");
        assert_eq!(report.matched, 4);
        assert!(report.unused.contains(&"global_step".to_string()) && report.unused.len() == 22, "{report}");
        // Under a scope, every name is prefixed.
        let report = encoder::MANIFEST.check_checkpoint_in("model/encoder", &prefix).unwrap();
        assert!(report.is_compatible() && report.matched == 2, "{report}");
        // And the model, once built, restores it by name.
        let graph = Graph::new();
        let mut cx = graph.scope();
        let x = cx.constant(Value::filled(DType::F32, &[1, 3], 1.0).unwrap()).unwrap();
        ported(&mut cx, &x).unwrap();
        Saver::new(&graph).restore(&prefix).unwrap();
        let w = graph.get_variable_by_name("model/encoder/w").unwrap();
        let want = super::stored(&super::expected("scoped_adam")["variables"]["model/encoder/w"]);
        assert_eq!(super::bits(&varscope::checkpoint::StoredTensor::from(w.value())), super::bits(&want));
    }

    #[test]
    fn a_drifted_model_is_reported_and_its_restore_fails_with_the_same_report() {
        let tf = super::fixtures().join("scoped_adam/model.ckpt-2");
        let report = drifted::MANIFEST.check_checkpoint(&tf).unwrap();
        assert!(!report.is_compatible());
        let text = report.to_string();
        assert!(text.contains("missing `model/encodr/w`: did you mean `model/encoder/w`?"), "{text}");
        assert!(
            text.contains(
                "mismatched `model/decoder/proj`: expected shape (2, 3) float32, stored shape (3, 2) float32"
            ),
            "{text}"
        );
        assert!(
            text.contains("mismatched `model/scale`: expected shape () float64, stored shape () float32"),
            "{text}"
        );
        // Build the drifted model for real and restore: the error is the same report.
        let graph = Graph::new();
        let mut cx = graph.scope();
        let x = cx.constant(Value::filled(DType::F32, &[1, 3], 1.0).unwrap()).unwrap();
        drifted(&mut cx, &x).unwrap();
        let err = Saver::new(&graph).restore(&tf).unwrap_err();
        assert_eq!(err.to_string(), text);
        // A checkpoint of the drifted model itself matches it.
        let dir = TempDir::new("manifest");
        let mut saver = Saver::new(&graph);
        let own = saver.save(dir.join("drifted.ckpt"), None).unwrap();
        assert!(drifted::MANIFEST.check_checkpoint(&own).unwrap().is_compatible());
    }
}

/// The numbers of a JSON text in order, as written (strings skipped).
fn number_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || "+-.".contains(c) {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() && cur != "true" && cur != "false" && cur != "null" {
            out.push(std::mem::take(&mut cur));
        }
        cur.clear();
        in_string = c == '"';
    }
    out
}

#[test]
fn inspect_prints_the_fixtures_values_as_tf_expected_json_writes_them() {
    for case in CASES {
        let exp = expected(case);
        let reader = CheckpointReader::open(fixtures().join(case)).unwrap();
        let ours = to_json(&reader).unwrap();
        let parsed: Json = serde_json::from_str(&ours).unwrap();
        assert_eq!(parsed["variables"], exp["variables"], "{case}");
        // Token for token: every number is printed exactly as Python's json printed it.
        let text = std::fs::read_to_string(fixtures().join(case).join("expected.json")).unwrap();
        let from = text.find("\"variables\": {").unwrap();
        let to = text[from..].find("\"partitioned\"").unwrap() + from;
        assert_eq!(number_tokens(&ours), number_tokens(&text[from..to]), "{case}");
    }
}

#[test]
fn convert_goes_tf_to_safetensors_and_back_keeping_every_bit() {
    let dir = TempDir::new("convert");
    let st = dir.join("model.safetensors");
    convert(fixtures().join("scoped_adam/model.ckpt-2"), &st).unwrap();
    let back = dir.join("back/model.ckpt");
    convert(&st, &back).unwrap();
    assert_eq!(latest_checkpoint(dir.join("back")).unwrap(), Some(back.clone()));
    let tf = CheckpointReader::open(fixtures().join("scoped_adam")).unwrap();
    for r in [CheckpointReader::open(&st).unwrap(), CheckpointReader::open(&back).unwrap()] {
        assert_eq!(to_json(&r).unwrap(), to_json(&tf).unwrap(), "{}", r.path());
    }
}

#[test]
fn damaged_files_give_typed_errors_naming_the_file_and_key() {
    let dir = TempDir::new("damaged");
    let copy = |name: &str| {
        for f in ["model.ckpt-2.index", "model.ckpt-2.data-00000-of-00001"] {
            std::fs::create_dir_all(dir.join(name)).unwrap();
            std::fs::copy(fixtures().join("scoped_adam").join(f), dir.join(name).join(f)).unwrap();
        }
        dir.join(name).join("model.ckpt-2")
    };
    let message = |r: varscope::Result<StoredTensor>| {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Checkpoint);
        e.to_string()
    };
    // A data file cut short: the tensors past the cut name the file and their key.
    let short = copy("short");
    let data = format!("{}.data-00000-of-00001", short.display());
    let f = std::fs::OpenOptions::new().write(true).open(&data).unwrap();
    f.set_len(500).unwrap();
    let r = BundleReader::open(&short).unwrap();
    assert!(r.read("model/encoder/w").is_ok(), "bytes before the cut still read");
    let m = message(r.read("stats/mean"));
    assert!(m.contains(&data) && m.contains("`stats/mean`") && m.contains("past the end"), "{m}");
    let m = message(r.read("part/v"));
    assert!(m.contains("`part/v`"), "{m}");
    // A flipped data byte: the CRC of that tensor.
    let flipped = copy("flipped");
    let data = format!("{}.data-00000-of-00001", flipped.display());
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[130] ^= 1; // inside model/encoder/b (offset 128, 16 bytes)
    std::fs::write(&data, bytes).unwrap();
    let m = message(BundleReader::open(&flipped).unwrap().read("model/encoder/b"));
    assert!(m.contains("`model/encoder/b`") && m.contains("CRC32C"), "{m}");
    // A flipped index byte: the block CRC, on open.
    let bad_index = copy("index");
    let index = format!("{}.index", bad_index.display());
    let mut bytes = std::fs::read(&index).unwrap();
    bytes[40] ^= 0x80;
    std::fs::write(&index, &bytes).unwrap();
    let e = BundleReader::open(&bad_index).unwrap_err().to_string();
    assert!(e.contains(&index) && e.contains("CRC32C mismatch"), "{e}");
    // Truncated indexes and a missing data file.
    for keep in [0, 10, 47, 48, 600] {
        std::fs::write(&index, &std::fs::read(fixtures().join("scoped_adam/model.ckpt-2.index")).unwrap()[..keep])
            .unwrap();
        let e = BundleReader::open(&bad_index).unwrap_err().to_string();
        assert!(e.contains(&index), "{keep}: {e}");
    }
    let gone = copy("gone");
    std::fs::remove_file(format!("{}.data-00000-of-00001", gone.display())).unwrap();
    let m = message(BundleReader::open(&gone).unwrap().read("global_step"));
    assert!(m.contains("cannot open") && m.contains("data-00000-of-00001"), "{m}");
    // A safetensors file whose header lies about its size.
    let st = dir.join("bad.safetensors");
    std::fs::write(&st, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, b'{', b'}']).unwrap();
    let e = SafetensorsReader::open(&st).unwrap_err().to_string();
    assert!(e.contains("bad.safetensors") && e.contains("header length"), "{e}");
}

#[test]
fn a_transposed_value_is_saved_in_row_major_order() {
    let base = ArcArray::from_shape_vec(IxDyn(&[2, 3]), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let t = base.clone().reversed_axes(); // [3, 2], not in standard layout
    let dir = TempDir::new("transposed");
    let mut w = BundleWriter::new();
    w.add("t", Value::F32(t.clone())).unwrap();
    w.write(dir.join("t")).unwrap();
    let back = BundleReader::open(dir.join("t")).unwrap().read("t").unwrap();
    assert_eq!(back, StoredTensor::F32(t.as_standard_layout().to_owned().into_shared()));
    assert_eq!(bits(&back), [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0].map(|x| u64::from(x.to_bits())));
}
