//! `tf.compat.v1.train.Saver` in varscope's terms: save and restore variables by their full
//! names, keep the last `max_to_keep` checkpoints listed in the directory's `checkpoint` file,
//! and put the global step in the file name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::Slice;

use crate::graph::Graph;
use crate::tensor::Value;
use crate::variable::Variable;

use super::atomic::AtomicFiles;
use super::bundle::{BundleReader, BundleWriter, data_path, index_path};
use super::error::CheckpointError;
use super::reader::CheckpointReader;
use super::report::{CheckpointReport, MismatchedName, MissingName};
use super::slice::TensorSlice;
use super::state::CheckpointState;
use super::stored::{StoredDType, StoredTensor};

/// What one checkpoint key is saved from.
#[derive(Debug, Clone)]
enum Source {
    /// A variable, saved whole.
    Var(Variable),
    /// The parts of a partitioned variable along `axis`, in partition order.
    Parts { full_shape: Vec<usize>, parts: Vec<(TensorSlice, Variable)> },
    /// A tensor that is not a runtime variable (an int64 global step, a bool mask).
    Tensor(StoredTensor),
}

/// Saves and restores a set of variables under their full names.
///
/// ```
/// use varscope::checkpoint::{Saver, latest_checkpoint};
/// use varscope::{Graph, Init, VarSpec};
///
/// let dir = std::env::temp_dir().join(format!("varscope-doc-saver-{}", std::process::id()));
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let w = cx.variable_scope("dense")?.get_variable("kernel", VarSpec::new().shape([2, 3]).init(Init::Ones))?;
///
/// let mut saver = Saver::new(&graph).max_to_keep(2);
/// let path = saver.save(dir.join("model.ckpt"), Some(100))?; // dir/model.ckpt-100
/// assert_eq!(latest_checkpoint(&dir)?, Some(path.clone()));
///
/// w.assign(varscope::Value::filled(varscope::DType::F32, &[2, 3], 7.0)?)?;
/// saver.restore(&path)?; // back to ones
/// assert_eq!(w.value().to_f64_vec(), vec![1.0; 6]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Saver {
    items: BTreeMap<String, Source>,
    max_to_keep: usize,
    /// Prefixes saved by this saver, oldest first (TF's `last_checkpoints`).
    last: Vec<PathBuf>,
}

impl Saver {
    /// A saver of every variable of `graph` (`global_variables()`), keyed by op name.
    pub fn new(graph: &Graph) -> Saver {
        Saver::for_variables(graph.global_variables())
    }

    /// A saver of the given variables only (TF's `var_list`).
    pub fn for_variables(vars: impl IntoIterator<Item = Variable>) -> Saver {
        let items = vars.into_iter().map(|v| (v.op_name().to_string(), Source::Var(v))).collect();
        Saver { items, max_to_keep: 5, last: Vec::new() }
    }

    /// How many checkpoints to keep (TF's default is 5; 0 keeps all). Older ones are deleted.
    pub fn max_to_keep(mut self, n: usize) -> Saver {
        self.max_to_keep = n;
        self
    }

    /// Saves `parts` (variables already in the saver, or new ones) as the slices of one
    /// partitioned variable `key` split along `axis`, as TF's partitioners do (`part/v` from
    /// `part/v/part_0`, `part/v/part_1`, ..): the parts must agree on every other dimension.
    pub fn partitioned(mut self, key: &str, axis: usize, parts: &[Variable]) -> Result<Saver, crate::Error> {
        let bad = |why: String| -> crate::Error {
            CheckpointError::InvalidRequest { reason: format!("cannot save `{key}` as a partitioned variable: {why}") }
                .into()
        };
        let first = parts.first().ok_or_else(|| bad("no parts given".into()))?;
        if axis >= first.shape().len() {
            return Err(bad(format!("axis {axis} is out of range for rank {}", first.shape().len())));
        }
        let mut full_shape = first.shape().to_vec();
        full_shape[axis] = 0;
        let mut slices = Vec::new();
        for p in parts {
            let s = p.shape();
            let other_dims_agree = s.len() == full_shape.len()
                && s.iter().zip(&full_shape).enumerate().all(|(d, (a, b))| d == axis || a == b);
            if !other_dims_agree || p.dtype() != first.dtype() {
                return Err(bad(format!(
                    "part `{}` differs in dtype or in a dimension other than {axis}",
                    p.op_name()
                )));
            }
            let ext =
                s.iter().enumerate().map(|(d, &n)| if d == axis { (full_shape[axis], n) } else { (0, n) }).collect();
            full_shape[axis] += s[axis];
            slices.push((TensorSlice::new(ext), p.clone()));
            self.items.remove(p.op_name());
        }
        self.items.insert(key.to_string(), Source::Parts { full_shape, parts: slices });
        Ok(self)
    }

    /// Saves `tensor` under `key` beside the variables: a value the runtime cannot hold as a
    /// variable, such as TF's int64 `global_step`. [`restore`](Self::restore) reads it back into
    /// the saver ([`tensor`](Self::tensor)).
    pub fn with_tensor(mut self, key: &str, tensor: impl Into<StoredTensor>) -> Saver {
        self.items.insert(key.to_string(), Source::Tensor(tensor.into()));
        self
    }

    /// A tensor added with [`with_tensor`](Self::with_tensor), as last saved or restored.
    pub fn tensor(&self, key: &str) -> Option<&StoredTensor> {
        match self.items.get(key) {
            Some(Source::Tensor(t)) => Some(t),
            _ => None,
        }
    }

    /// The checkpoint keys this saver writes, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.items.keys().map(String::as_str)
    }

    /// The expected dtype and shape per key.
    pub(crate) fn expected(&self) -> impl Iterator<Item = (&str, StoredDType, Vec<usize>)> {
        self.items.iter().map(|(k, s)| match s {
            Source::Var(v) => (k.as_str(), StoredDType::of(v.dtype()), v.shape().to_vec()),
            Source::Parts { full_shape, parts } => {
                (k.as_str(), StoredDType::of(parts[0].1.dtype()), full_shape.clone())
            }
            Source::Tensor(t) => (k.as_str(), t.dtype(), t.shape().to_vec()),
        })
    }

    /// The bundle of the current values.
    pub fn bundle(&self) -> Result<BundleWriter, crate::Error> {
        let mut w = BundleWriter::new();
        for (key, src) in &self.items {
            match src {
                Source::Var(v) => w.add(key, v.value())?,
                Source::Parts { full_shape, parts } => {
                    for (slice, v) in parts {
                        w.add_slice(key, full_shape, slice.clone(), v.value())?;
                    }
                }
                Source::Tensor(t) => w.add(key, t.clone())?,
            }
        }
        Ok(w)
    }

    /// Saves to `prefix` (`dir/model.ckpt`), or to `prefix-STEP` with a global step; updates
    /// `dir/checkpoint` and deletes the checkpoints beyond [`max_to_keep`](Self::max_to_keep).
    /// Returns the prefix written.
    ///
    /// Every file is written to a temporary, synced and renamed (data, then index, then the
    /// state file), so a crash or an error leaves the previous checkpoints and the state file as
    /// they were, each complete.
    pub fn save(&mut self, prefix: impl AsRef<Path>, global_step: Option<u64>) -> Result<PathBuf, crate::Error> {
        self.save_with(prefix.as_ref(), global_step, AtomicFiles::new())
    }

    pub(crate) fn save_with(
        &mut self,
        prefix: &Path,
        global_step: Option<u64>,
        mut files: AtomicFiles,
    ) -> Result<PathBuf, crate::Error> {
        let prefix = match global_step {
            Some(step) => PathBuf::from(format!("{}-{step}", prefix.display())),
            None => prefix.to_path_buf(),
        };
        let dir = match prefix.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| CheckpointError::io(dir.display(), "create directory", &e))?;
        self.bundle()?.write_into(&prefix, &mut files)?;
        let mut kept = self.last.clone();
        kept.retain(|p| *p != prefix);
        kept.push(prefix.clone());
        let dropped: Vec<PathBuf> = if self.max_to_keep > 0 && kept.len() > self.max_to_keep {
            kept.drain(..kept.len() - self.max_to_keep).collect()
        } else {
            Vec::new()
        };
        let rel = |p: &Path| match p.strip_prefix(&dir) {
            Ok(r) if p.parent() == Some(dir.as_path()) || dir == Path::new(".") => r.display().to_string(),
            _ => p.display().to_string(),
        };
        let state = CheckpointState {
            model_checkpoint_path: rel(&prefix),
            all_model_checkpoint_paths: kept.iter().map(|p| rel(p)).collect(),
        };
        state.write_into(&dir, &mut files)?;
        files.commit()?;
        self.last = kept;
        for old in dropped {
            remove_bundle(&old);
        }
        Ok(prefix)
    }

    /// The current values by key, partitioned variables assembled (what a safetensors file
    /// holds).
    pub fn tensors(&self) -> Result<BTreeMap<String, StoredTensor>, crate::Error> {
        let mut out = BTreeMap::new();
        for (key, src) in &self.items {
            let t = match src {
                Source::Var(v) => StoredTensor::from(v.value()),
                Source::Parts { full_shape, parts } => {
                    let mut full = super::bundle::zeros(StoredDType::of(parts[0].1.dtype()), full_shape);
                    for (slice, v) in parts {
                        super::bundle::place_part(&mut full, &StoredTensor::from(v.value()), slice);
                    }
                    full
                }
                Source::Tensor(t) => t.clone(),
            };
            out.insert(key.clone(), t);
        }
        Ok(out)
    }

    /// Saves every key as one safetensors file at `path` (partitioned variables whole),
    /// crash-safely.
    pub fn save_safetensors(&self, path: impl AsRef<Path>) -> Result<(), crate::Error> {
        super::safetensors::save_safetensors(path, self.tensors()?)
    }

    /// Compares the saver's keys with the checkpoint at `path` (a bundle prefix, a directory or
    /// a `.safetensors` file; headers only).
    pub fn check(&self, path: impl AsRef<Path>) -> Result<CheckpointReport, crate::Error> {
        let reader = CheckpointReader::open(path)?;
        Ok(compare(&reader, self.expected().map(|(k, d, s)| (k.to_string(), Some(d.name()), Some(s)))))
    }

    /// Restores every key from the checkpoint at `path` (a bundle prefix, a directory's latest
    /// checkpoint, or a `.safetensors` file). Names, dtypes and shapes are all
    /// checked before any value changes: a mismatch fails with the same report as
    /// [`check`](Self::check), and nothing is assigned. Values are then read one tensor at a
    /// time (each CRC checked) and assigned, so the peak memory stays near the model's size; a
    /// damaged tensor fails the restore at that tensor, naming it.
    pub fn restore(&mut self, path: impl AsRef<Path>) -> Result<(), crate::Error> {
        let reader = CheckpointReader::open(path)?;
        let report = compare(&reader, self.expected().map(|(k, d, s)| (k.to_string(), Some(d.name()), Some(s))));
        report.into_result()?;
        for (key, src) in &mut self.items {
            let t = reader.read(key)?;
            match src {
                Source::Var(v) => v.assign(t.into_value(key)?)?,
                Source::Parts { parts, .. } => {
                    let full = t.into_value(key)?;
                    for (slice, v) in parts.iter() {
                        v.assign(cut(&full, slice))?;
                    }
                }
                Source::Tensor(old) => *old = t,
            }
        }
        Ok(())
    }
}

/// The part `slice` of `full`.
fn cut(full: &Value, slice: &TensorSlice) -> Value {
    let ext = slice.extents();
    let f = |ax: ndarray::AxisDescription| {
        let (s, l) = ext[ax.axis.index()];
        Slice::from(s..s + l)
    };
    match full {
        Value::F32(a) => Value::F32(a.slice_each_axis(f).to_owned().into_shared()),
        Value::F64(a) => Value::F64(a.slice_each_axis(f).to_owned().into_shared()),
        Value::I32(a) => Value::I32(a.slice_each_axis(f).to_owned().into_shared()),
        Value::I64(a) => Value::I64(a.slice_each_axis(f).to_owned().into_shared()),
    }
}

/// What a comparison expects of one key: its name, dtype and shape (`None`: any).
pub(crate) type Expected = (String, Option<&'static str>, Option<Vec<usize>>);

/// The report of expected `(key, dtype, shape)` against a checkpoint.
pub(crate) fn compare(reader: &CheckpointReader, expected: impl Iterator<Item = Expected>) -> CheckpointReport {
    let mut report = CheckpointReport { checkpoint: reader.path().to_string(), ..Default::default() };
    let mut used = std::collections::HashSet::new();
    for (key, dtype, shape) in expected {
        let Some(info) = reader.info(&key) else {
            let suggestion = super::report::did_you_mean(&key, reader.keys());
            report.missing.push(MissingName { name: key, suggestion });
            continue;
        };
        let dtype_ok = dtype.is_none_or(|d| d == info.dtype_name());
        let shape_ok = shape.as_deref().is_none_or(|s| s == info.shape());
        if dtype_ok && shape_ok {
            report.matched += 1;
        } else {
            report.mismatched.push(MismatchedName {
                name: key.clone(),
                expected_shape: shape,
                stored_shape: info.shape().to_vec(),
                expected_dtype: dtype.map(str::to_string),
                stored_dtype: info.dtype_name().to_string(),
            });
        }
        used.insert(key);
    }
    report.unused = reader.keys().filter(|k| !used.contains(*k)).map(str::to_string).collect();
    report.missing.sort_by(|a, b| a.name.cmp(&b.name));
    report.mismatched.sort_by(|a, b| a.name.cmp(&b.name));
    report
}

/// Deletes the files of the bundle at `prefix` (an index and its data shards), ignoring ones
/// already gone.
fn remove_bundle(prefix: &Path) {
    let p = prefix.display().to_string();
    if let Ok(r) = BundleReader::open(prefix) {
        let n = r.num_shards();
        for shard in 0..n {
            let _ = std::fs::remove_file(data_path(&p, shard, n));
        }
    } else {
        let _ = std::fs::remove_file(data_path(&p, 0, 1));
    }
    let _ = std::fs::remove_file(index_path(&p));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::latest_checkpoint;
    use crate::{DType, Init, VarSpec};

    #[test]
    fn a_save_failing_at_any_step_leaves_the_previous_checkpoint_and_state_intact() {
        let dir = std::env::temp_dir().join(format!("varscope-unit-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let graph = Graph::new();
        let cx = graph.scope();
        let w = cx.get_variable("w", VarSpec::new().shape([3]).init(Init::Ones)).unwrap();
        let mut saver = Saver::new(&graph).max_to_keep(1);
        let first = saver.save(dir.join("model.ckpt"), Some(1)).unwrap();
        let state = std::fs::read(dir.join("checkpoint")).unwrap();
        w.assign(Value::filled(DType::F32, &[3], 2.0).unwrap()).unwrap();
        let mut failures = 0;
        for k in 0.. {
            let mut attempt = saver.clone();
            match attempt.save_with(&dir.join("model.ckpt"), Some(2), AtomicFiles::failing_at(k)) {
                Err(e) => {
                    failures += 1;
                    assert!(e.to_string().contains("injected failure"), "{e}");
                    // The state file and the first checkpoint are untouched and load.
                    assert_eq!(std::fs::read(dir.join("checkpoint")).unwrap(), state, "step {k}");
                    assert_eq!(latest_checkpoint(&dir).unwrap(), Some(first.clone()));
                    let r = BundleReader::open(&first).unwrap();
                    assert_eq!(r.read("w").unwrap().into_value("w").unwrap().to_f64_vec(), [1.0; 3]);
                    let mut names: Vec<String> = std::fs::read_dir(&dir)
                        .unwrap()
                        .flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect();
                    names.sort();
                    // No temporary is left behind; a failure after some renames leaves only
                    // complete new files, which the state file does not name yet.
                    assert!(names.iter().all(|n| !n.contains(".tmp-")), "step {k}: {names:?}");
                }
                Ok(p) => {
                    assert_eq!(latest_checkpoint(&dir).unwrap(), Some(p));
                    assert!(!Path::new(&format!("{}.index", first.display())).exists(), "max_to_keep 1 deleted it");
                    break;
                }
            }
        }
        // create x2 + sync x2 (data, index, state: 3 each) + renames: at least 9 steps.
        assert!(failures >= 9, "{failures} failure points");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
