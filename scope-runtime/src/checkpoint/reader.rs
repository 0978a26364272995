//! One way to open any checkpoint: a TF bundle prefix, its `.index`, a directory with a
//! `checkpoint` state file, or a `.safetensors` file.

use std::path::{Path, PathBuf};

use super::bundle::{BundleReader, TensorInfo};
use super::error::CheckpointError;
use super::safetensors::SafetensorsReader;
use super::state::latest_checkpoint;
use super::stored::StoredTensor;

/// An opened checkpoint of either format.
///
/// ```no_run
/// use varscope::checkpoint::CheckpointReader;
/// for path in ["train/", "train/model.ckpt-2", "export/model.safetensors"] {
///     let ckpt = CheckpointReader::open(path)?;
///     println!("{}: {} tensors", ckpt.path(), ckpt.keys().count());
/// }
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum CheckpointReader {
    /// A TensorFlow V2 bundle.
    Bundle(BundleReader),
    /// A safetensors file.
    Safetensors(SafetensorsReader),
}

impl CheckpointReader {
    /// Opens `path` by its form: `*.safetensors` is a safetensors file; a directory is the latest
    /// checkpoint its `checkpoint` file names; anything else is a bundle prefix (a trailing
    /// `.index` is dropped).
    pub fn open(path: impl AsRef<Path>) -> Result<CheckpointReader, crate::Error> {
        let path = path.as_ref();
        if path.extension().is_some_and(|e| e == "safetensors") {
            return Ok(CheckpointReader::Safetensors(SafetensorsReader::open(path)?));
        }
        let prefix: PathBuf = if path.is_dir() {
            latest_checkpoint(path)?.ok_or_else(|| CheckpointError::Io {
                path: path.display().to_string(),
                op: "find the latest checkpoint in",
                message: "no `checkpoint` file naming an existing checkpoint".into(),
            })?
        } else if path.extension().is_some_and(|e| e == "index") {
            path.with_extension("")
        } else {
            path.to_path_buf()
        };
        Ok(CheckpointReader::Bundle(BundleReader::open(prefix)?))
    }

    /// The bundle prefix or the file.
    pub fn path(&self) -> &str {
        match self {
            CheckpointReader::Bundle(b) => b.prefix(),
            CheckpointReader::Safetensors(s) => s.path(),
        }
    }

    /// The tensor names, sorted bytewise.
    pub fn keys(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            CheckpointReader::Bundle(b) => Box::new(b.keys()),
            CheckpointReader::Safetensors(s) => Box::new(s.keys()),
        }
    }

    /// The dtype and shape of `key`.
    pub fn info(&self, key: &str) -> Option<&TensorInfo> {
        match self {
            CheckpointReader::Bundle(b) => b.info(key),
            CheckpointReader::Safetensors(s) => s.info(key),
        }
    }

    /// Reads `key` (checked: CRCs for bundles, sizes for both).
    pub fn read(&self, key: &str) -> Result<StoredTensor, crate::Error> {
        match self {
            CheckpointReader::Bundle(b) => b.read(key),
            CheckpointReader::Safetensors(s) => s.read(key),
        }
    }
}

/// Converts the checkpoint at `src` (any form [`CheckpointReader::open`] takes) to `dst`: a
/// `.safetensors` file, or else a bundle prefix, written with a `checkpoint` state file naming
/// it. Keys and values are kept exactly; partitioned tensors are written whole.
///
/// ```no_run
/// varscope::checkpoint::convert("train/model.ckpt-2", "export/model.safetensors")?;
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn convert(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> Result<(), crate::Error> {
    let reader = CheckpointReader::open(src)?;
    let dst = dst.as_ref();
    let mut files = super::atomic::AtomicFiles::new();
    if dst.extension().is_some_and(|e| e == "safetensors") {
        let mut all = std::collections::BTreeMap::new();
        for key in reader.keys() {
            all.insert(key.to_string(), reader.read(key)?);
        }
        super::safetensors::write_into(dst, &all, &mut files)?;
    } else {
        let mut w = super::bundle::BundleWriter::new();
        for key in reader.keys() {
            w.add(key, reader.read(key)?)?;
        }
        w.write_into(dst, &mut files)?;
        let dir = dst.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = dst.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let state = super::state::CheckpointState {
            model_checkpoint_path: name.clone(),
            all_model_checkpoint_paths: vec![name],
        };
        state.write_into(dir, &mut files)?;
    }
    Ok(files.commit()?)
}
