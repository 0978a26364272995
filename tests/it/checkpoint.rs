//! Checkpoints: the TF-written fixtures of `tests/checkpoints/` (copies of
//! `../shared/oracle-next/public/checkpoints/`) read bit for bit and written back byte for byte,
//! the saver, safetensors, the manifest check, and hostile files.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use varscope::checkpoint::{BundleReader, BundleWriter, StoredDType, StoredTensor, TensorSlice};
use varscope::ndarray::{ArcArray, IxDyn, Slice};

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

fn flatten(v: &Json, out: &mut Vec<Json>) {
    match v {
        Json::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other.clone()),
    }
}

fn shape_of(v: &Json) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect()
}

/// The expected.json variable `w` as a stored tensor (floats are the f32/f64 values exactly).
pub(crate) fn stored(w: &Json) -> StoredTensor {
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

fn sliced(t: &StoredTensor, ext: &[(usize, usize)]) -> StoredTensor {
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
fn int64_and_bool_are_stored_but_not_restored_into_the_runtime() {
    let exp = expected("scoped_adam");
    let prefix = fixtures().join("scoped_adam/model.ckpt-2");
    let r = BundleReader::open(&prefix).unwrap();
    let step = r.read("global_step").unwrap();
    assert_eq!(step.dtype(), StoredDType::I64);
    assert_eq!(bits(&step), [exp["variables"]["global_step"]["value"].as_u64().unwrap()]);
    let err = step.into_value("global_step").unwrap_err();
    assert!(err.to_string().contains("`global_step` holds a int64"), "{err}");
    let dir = TempDir::new("bool");
    let mut w = BundleWriter::new();
    w.add("mask", StoredTensor::bool(&[3], vec![true, false, true]).unwrap()).unwrap();
    w.write(dir.join("m")).unwrap();
    let back = BundleReader::open(dir.join("m")).unwrap().read("mask").unwrap();
    assert_eq!(back, StoredTensor::bool(&[3], vec![true, false, true]).unwrap());
}
