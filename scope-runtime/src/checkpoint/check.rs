//! `ManifestExt::check_checkpoint`: a `#[model]`'s variables, known at compile time, compared with
//! a checkpoint's index before any tensor exists.

use std::path::Path;

use crate::manifest::Manifest;

use super::reader::CheckpointReader;
use super::report::CheckpointReport;
use super::saver::{Expected, compare};

/// TensorFlow's name of a dtype as the manifest spells it (`f32` -> `float32`).
fn tf_dtype(manifest_dtype: &str) -> Option<&'static str> {
    match manifest_dtype {
        "f32" => Some("float32"),
        "f64" => Some("float64"),
        "i32" => Some("int32"),
        _ => None,
    }
}

/// [`ManifestExt::check_checkpoint_in`](crate::ManifestExt::check_checkpoint_in): the model's
/// literal variables under `scope`, compared with the index or header of the checkpoint at `path`.
pub(crate) fn check_manifest(manifest: &Manifest, scope: &str, path: &Path) -> Result<CheckpointReport, crate::Error> {
    let reader = CheckpointReader::open(path)?;
    let prefix = scope.trim_end_matches('/');
    let mut seen = std::collections::HashSet::new();
    let expected: Vec<Expected> = manifest
        .variables()
        .into_iter()
        .filter(|v| !v.dynamic && !v.conditional)
        .filter_map(|v| {
            let name = if prefix.is_empty() { v.name } else { format!("{prefix}/{}", v.name) };
            seen.insert(name.clone()).then(|| {
                let dtype = v.dtype.and_then(tf_dtype);
                (name, dtype, v.shape)
            })
        })
        .collect();
    Ok(compare(&reader, expected.into_iter()))
}
