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
/// use scope_runtime::checkpoint::CheckpointReader;
/// for path in ["train/", "train/model.ckpt-2", "export/model.safetensors"] {
///     let ckpt = CheckpointReader::open(path)?;
///     println!("{}: {} tensors", ckpt.path(), ckpt.keys().count());
/// }
/// # Ok::<(), scope_runtime::Error>(())
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
