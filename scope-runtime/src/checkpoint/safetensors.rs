//! safetensors files (`.safetensors`) through the `safetensors` crate, keys = full variable
//! names. Writing goes through `safetensors::serialize_to_file` into a temporary that is synced
//! and renamed. Reading parses and validates the header with the crate's `Metadata`, then reads
//! only the tensors asked for, each straight from the file into its array in chunks: random
//! access like a memory map, with no `unsafe` and a peak memory of the tensors read.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use ::safetensors::Dtype;
use ::safetensors::tensor::{Metadata, View};

use super::atomic::AtomicFiles;
use super::bundle::TensorInfo;
use super::error::CheckpointError;
use super::stored::{StoredDType, StoredTensor};

/// The crate's limit on the header (`MAX_HEADER_SIZE`).
const MAX_HEADER: u64 = 100_000_000;

fn dtype_of(d: StoredDType) -> Dtype {
    match d {
        StoredDType::F32 => Dtype::F32,
        StoredDType::F64 => Dtype::F64,
        StoredDType::I32 => Dtype::I32,
        StoredDType::I64 => Dtype::I64,
        StoredDType::Bool => Dtype::BOOL,
    }
}

fn stored_of(d: Dtype) -> Result<StoredDType, String> {
    match d {
        Dtype::F32 => Ok(StoredDType::F32),
        Dtype::F64 => Ok(StoredDType::F64),
        Dtype::I32 => Ok(StoredDType::I32),
        Dtype::I64 => Ok(StoredDType::I64),
        Dtype::BOOL => Ok(StoredDType::Bool),
        other => Err(format!("{other:?}").to_lowercase()),
    }
}

struct Viewed<'a>(&'a StoredTensor);

impl View for Viewed<'_> {
    fn dtype(&self) -> Dtype {
        dtype_of(self.0.dtype())
    }

    fn shape(&self) -> &[usize] {
        self.0.shape()
    }

    fn data(&self) -> Cow<'_, [u8]> {
        let mut out = Vec::with_capacity(self.0.byte_len());
        let _ = self.0.for_each_chunk(|b| {
            out.extend_from_slice(b);
            Ok(())
        });
        Cow::Owned(out)
    }

    fn data_len(&self) -> usize {
        self.0.byte_len()
    }
}

/// Writes `tensors` (full name -> tensor) as a safetensors file at `path`, crash-safely.
///
/// ```
/// use varscope::checkpoint::{SafetensorsReader, StoredTensor, save_safetensors};
/// use varscope::Value;
///
/// let path = std::env::temp_dir().join(format!("varscope-doc-{}.safetensors", std::process::id()));
/// save_safetensors(&path, [("dense/bias".to_string(), StoredTensor::from(Value::from(0.5f32)))])?;
/// let r = SafetensorsReader::open(&path)?;
/// assert_eq!(r.keys().collect::<Vec<_>>(), ["dense/bias"]);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn save_safetensors(
    path: impl AsRef<Path>,
    tensors: impl IntoIterator<Item = (String, StoredTensor)>,
) -> Result<(), crate::Error> {
    let path = path.as_ref();
    let tensors: BTreeMap<String, StoredTensor> = tensors.into_iter().collect();
    let mut files = AtomicFiles::new();
    write_into(path, &tensors, &mut files)?;
    Ok(files.commit()?)
}

pub(crate) fn write_into(
    path: &Path,
    tensors: &BTreeMap<String, StoredTensor>,
    files: &mut AtomicFiles,
) -> Result<(), CheckpointError> {
    let tmp = files.reserve(path)?;
    ::safetensors::serialize_to_file(tensors.iter().map(|(k, t)| (k.as_str(), Viewed(t))), None, &tmp)
        .map_err(|e| CheckpointError::Io { path: path.display().to_string(), op: "write", message: e.to_string() })?;
    files.sync_path(path, &tmp)
}

/// A safetensors file opened for reading: header parsed and validated, tensors read on demand.
#[derive(Debug, Clone)]
pub struct SafetensorsReader {
    path: String,
    data_start: u64,
    tensors: BTreeMap<String, (TensorInfo, (usize, usize))>,
}

impl SafetensorsReader {
    /// Opens `path`, reading only its header.
    pub fn open(path: impl AsRef<Path>) -> Result<SafetensorsReader, crate::Error> {
        let shown = path.as_ref().display().to_string();
        let mut f = File::open(path.as_ref()).map_err(|e| CheckpointError::io(&shown, "open", &e))?;
        let len = f.metadata().map_err(|e| CheckpointError::io(&shown, "stat", &e))?.len();
        Ok(SafetensorsReader::from_source(shown, &mut f, len)?)
    }

    /// Parses the header of a file of `len` bytes read from `src`; `path` names it.
    pub(crate) fn from_source(
        path: String,
        src: &mut impl Read,
        len: u64,
    ) -> Result<SafetensorsReader, CheckpointError> {
        let mut n = [0u8; 8];
        src.read_exact(&mut n)
            .map_err(|_| CheckpointError::corrupt(&path, None, "shorter than its 8-byte header length"))?;
        let n = u64::from_le_bytes(n);
        if n > MAX_HEADER || n > len.saturating_sub(8) {
            return Err(CheckpointError::corrupt(
                &path,
                None,
                format!("header length {n} exceeds the file or the limit"),
            ));
        }
        let mut header = vec![0u8; n as usize];
        src.read_exact(&mut header).map_err(|e| CheckpointError::io(&path, "read", &e))?;
        let meta: Metadata = serde_json::from_slice(&header)
            .map_err(|e| CheckpointError::corrupt(&path, None, format!("bad safetensors header: {e}")))?;
        if (meta.data_len() as u64).checked_add(8 + n) != Some(len) {
            return Err(CheckpointError::corrupt(
                &path,
                None,
                format!("the header describes {} data bytes, the file has {}", meta.data_len(), len - 8 - n),
            ));
        }
        let tensors = meta
            .tensors()
            .into_iter()
            .map(|(k, info)| {
                let t = TensorInfo::new(stored_of(info.dtype), info.shape.clone(), false);
                (k, (t, info.data_offsets))
            })
            .collect();
        Ok(SafetensorsReader { path, data_start: 8 + n, tensors })
    }

    /// The file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tensor names, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The dtype and shape of `key`.
    pub fn info(&self, key: &str) -> Option<&TensorInfo> {
        self.tensors.get(key).map(|(i, _)| i)
    }

    /// Reads the tensor `key`.
    pub fn read(&self, key: &str) -> Result<StoredTensor, crate::Error> {
        let mut f = File::open(&self.path).map_err(|e| CheckpointError::io(&self.path, "open", &e))?;
        Ok(self.read_in(key, &mut f)?)
    }

    /// Reads the tensor `key` from `src`, the file's contents.
    pub(crate) fn read_in(&self, key: &str, src: &mut (impl Read + Seek)) -> Result<StoredTensor, CheckpointError> {
        let Some((info, (start, end))) = self.tensors.get(key) else {
            return Err(CheckpointError::MissingKey {
                path: self.path.clone(),
                key: key.to_string(),
                suggestion: super::report::did_you_mean(key, self.keys()),
            });
        };
        let dtype = info.dtype().ok_or_else(|| CheckpointError::Unsupported {
            key: key.to_string(),
            dtype: info.dtype_name().to_string(),
            hint: "varscope reads F32, F64, I32, I64 and BOOL safetensors",
        })?;
        src.seek(SeekFrom::Start(self.data_start + *start as u64))
            .map_err(|e| CheckpointError::io(&self.path, "seek", &e))?;
        let size = end - start;
        let (t, _) = StoredTensor::read_from(dtype, info.shape(), size, &mut src.take(size as u64))
            .map_err(|e| CheckpointError::io(&self.path, "read", &e))?;
        t.ok_or_else(|| CheckpointError::corrupt(&self.path, Some(key), "bool tensor holds a byte other than 0 or 1"))
    }
}
