//! Checkpoints: save and restore variables by their scoped names, in TensorFlow's V2 format
//! (what `tf.compat.v1.train.Saver` writes, byte for byte) and in safetensors.
//!
//! - [`BundleWriter`] / [`BundleReader`]: the V2 bundle (`PREFIX.index` + data shards), whole
//!   and partitioned tensors ([`TensorSlice`]), every CRC checked on read.
//! - [`StoredTensor`]: a stored tensor, also of the int64/bool dtypes the runtime lacks.
//! - [`Saver`]: TF's `Saver` (save / restore all or a set, `max_to_keep`, the `checkpoint`
//!   state file, the global step in the name), [`latest_checkpoint`], and the validated
//!   [`init_from_checkpoint`] remapping.
//! - [`save_safetensors`] / [`SafetensorsReader`]: safetensors files, keys = full names.
//! - [`CheckpointReader`]: opens either format (by extension), or a directory's latest;
//!   [`convert`] between them; [`to_json`] for looking inside.
//! - `Manifest::check_checkpoint`: a `#[model]`'s names, shapes and dtypes against a
//!   checkpoint's index, before any tensor exists ([`CheckpointReport`]).
//!
//! Hostile files give an [`Error::Checkpoint`](crate::Error::Checkpoint) naming the file and
//! key, never a panic or an allocation larger than the files.

mod atomic;
mod bundle;
mod check;
mod error;
#[cfg(test)]
mod fuzz;
mod json;
mod reader;
mod remap;
mod report;
mod safetensors;
mod saver;
mod slice;
mod snappy;
mod state;
mod stored;
mod table;

pub use bundle::{BundleReader, BundleWriter, TensorInfo};
pub(crate) use check::check_manifest;
pub use error::CheckpointError;
pub use json::{python_float, to_json};
pub use reader::{CheckpointReader, convert};
pub use remap::{RemapReport, init_from_checkpoint};
pub use report::{CheckpointReport, MismatchedName, MissingName};
pub use safetensors::{SafetensorsReader, save_safetensors};
pub use saver::Saver;
pub use slice::TensorSlice;
pub use state::{CheckpointState, STATE_FILE, latest_checkpoint};
pub use stored::{StoredDType, StoredTensor};
