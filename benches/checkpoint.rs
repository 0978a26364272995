//! Checkpoints: save and restore of a 256 MB model (64 float32 variables of 4 MB) against the
//! disk's own copy of the same bytes (`cp`, and a copy followed by fsync as a save does), the
//! peak memory of a restore (VmHWM from /proc/self/status, printed before the timings), and
//! `Manifest::check_checkpoint` against a 10,000-variable index.
//! Run with `cargo bench --bench checkpoint`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use proc_macro2::{Span, TokenStream};
use scope_macros_core::ast::{Item, Kind, Mode, Seg};
use varscope::checkpoint::{BundleWriter, Saver};
use varscope::manifest::{Manifest, Packed, segment_hash};
use varscope::{DType, Graph, Init, ManifestExt, Value, VarSpec};

const VARS: usize = 64;
const ROWS: usize = 1024;
const MODEL_BYTES: u64 = (VARS * ROWS * 1024 * 4) as u64;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("varscope-bench-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn model() -> Graph {
    let graph = Graph::with_seed(1);
    let mut cx = graph.scope();
    for i in 0..VARS {
        let v = cx
            .variable_scope(format!("layer{}", i / 8).as_str())
            .unwrap()
            .get_variable(&format!("w{}", i % 8), VarSpec::new().shape([ROWS, 1024]).init(Init::Zeros))
            .unwrap();
        v.assign(Value::filled(DType::F32, &[ROWS, 1024], i as f64).unwrap()).unwrap();
    }
    graph
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn measure_restore_memory(graph: &Graph, prefix: &Path) {
    let mut saver = Saver::new(graph);
    // "5" resets the peak RSS to the current RSS (Linux >= 4.0).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kb("VmRSS:");
    saver.restore(prefix).unwrap();
    let peak = status_kb("VmHWM:");
    let mb = |kb: u64| kb as f64 / 1024.0;
    let model_mb = MODEL_BYTES as f64 / (1 << 20) as f64;
    match (reset, before, peak) {
        (true, Some(b), Some(p)) => println!(
            "restore peak memory: VmHWM {:.0} MB with the {model_mb:.0} MB model live before it (RSS {:.0} MB): \
             {:.3}x the model; the restore itself added {:.1} MB ({:.3}x)",
            mb(p),
            mb(b),
            mb(p) / model_mb,
            mb(p.saturating_sub(b)),
            mb(p.saturating_sub(b)) / model_mb
        ),
        _ => println!("restore peak memory: /proc/self/status or clear_refs unavailable"),
    }
}

fn item(segs: &[&str], name: &str) -> Item {
    Item {
        segs: segs.iter().map(|s| Seg { name: (*s).to_owned(), dynamic: false, key: (*s).to_owned() }).collect(),
        mode: Mode::Create,
        dynamic: false,
        cond: false,
        looped: false,
        branch: Vec::new(),
        must: 0,
        kind: Kind::Var {
            name: name.to_owned(),
            dynamic_name: false,
            shape: Some(vec![2, 3]),
            dtype: Some("f32".to_owned()),
            init: "Init::Zeros".to_owned(),
            trainable: None,
        },
        site_tokens: TokenStream::new(),
        lo: Span::call_site(),
        hi: Span::call_site(),
        line: 1,
        site: "var!(cx, ..)".to_owned(),
    }
}

/// A manifest of 10,000 variables `block{i}/dense/kernel{j}` packed as `#[model]` packs one,
/// and a bundle holding exactly those variables.
fn big_manifest_and_index(dir: &Path) -> (&'static Manifest, PathBuf) {
    let scopes: Vec<String> = (0..100).map(|i| format!("block{i}")).collect();
    let mut items = Vec::new();
    let mut w = BundleWriter::new();
    let value = Value::filled(DType::F32, &[2, 3], 0.5).unwrap();
    for (i, s) in scopes.iter().enumerate() {
        for j in 0..100 {
            items.push(item(&[s, "dense"], &format!("kernel{j}")));
            w.add(&format!("block{i}/dense/kernel{j}"), value.clone()).unwrap();
        }
    }
    let prefix = dir.join("big.ckpt");
    w.write(&prefix).unwrap();
    let enc = scope_macros_core::encode::encode(&items, "big");
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    fn leak_slice<T>(v: Vec<T>) -> &'static [T] {
        Box::leak(v.into_boxed_slice())
    }
    let packed = Packed {
        id: segment_hash("big"),
        items: items.len(),
        data: leak_slice(enc.data),
        text: leak(enc.text),
        calls: &[],
        callees: enc.callees,
        leaves: leak_slice(enc.leaves),
        prefixes: leak_slice(enc.prefixes),
    };
    let m: &'static Manifest = Box::leak(Box::new(Manifest::new("big", "bench::big", false, packed)));
    (m, prefix)
}

fn main() {
    let dir = dir();
    let graph = model();
    let prefix = dir.join("model.ckpt");
    let mut saver = Saver::new(&graph);
    saver.save(&prefix, None).unwrap();
    measure_restore_memory(&graph, &prefix);
    let (manifest, big) = big_manifest_and_index(&dir);
    let report = manifest.check_checkpoint(&big).unwrap();
    assert!(report.is_compatible() && report.matched == 10_000, "{report}");

    let mut c = Criterion::default().configure_from_args();
    let data = PathBuf::from(format!("{}.data-00000-of-00001", prefix.display()));
    let copy = dir.join("copy.data");
    {
        let mut g = c.benchmark_group("checkpoint_256MB");
        g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(8));
        g.throughput(Throughput::Bytes(MODEL_BYTES));
        g.bench_function("save", |b| b.iter(|| saver.save(&prefix, None).unwrap()));
        g.bench_function("restore", |b| b.iter(|| saver.restore(&prefix).unwrap()));
        g.bench_function("cp", |b| {
            b.iter(|| {
                let ok = std::process::Command::new("cp").arg(&data).arg(&copy).status().unwrap().success();
                assert!(ok);
            })
        });
        g.bench_function("copy_and_fsync", |b| {
            b.iter(|| {
                std::fs::copy(&data, &copy).unwrap();
                std::fs::File::open(&copy).unwrap().sync_all().unwrap();
            })
        });
        g.bench_function("read_file", |b| b.iter(|| std::fs::read(&data).unwrap().len()));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("check_checkpoint");
        g.bench_function("10000_variables", |b| b.iter(|| manifest.check_checkpoint(&big).unwrap().matched));
        g.bench_function("open_index_only", |b| {
            b.iter(|| varscope::checkpoint::BundleReader::open(&big).unwrap().len())
        });
        g.bench_function("manifest_variables_only", |b| b.iter(|| manifest.variables().len()));
        g.finish();
    }
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}
