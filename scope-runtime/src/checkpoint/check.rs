//! `Manifest::check_checkpoint`: a `#[model]`'s variables, known at compile time, compared with
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

impl Manifest {
    /// Compares the variables this model creates when called at the root scope with the
    /// checkpoint at `path` (a bundle prefix, a directory or a `.safetensors` file), reading only
    /// its index or header: names missing from the checkpoint (with did-you-mean suggestions),
    /// names it holds that the model does not use, and literal shapes or dtypes that differ.
    /// Variables whose name is only known at run time, or that a condition may skip, are not
    /// checked; a shape or dtype left to run time matches any.
    ///
    /// ```no_run
    /// use scope_runtime::Manifest;
    /// # fn check(my_model_manifest: &Manifest) -> scope_runtime::Result<()> {
    /// let report = my_model_manifest.check_checkpoint("pretrained/model.ckpt-1000")?;
    /// assert!(report.is_compatible(), "{report}");
    /// # Ok(()) }
    /// ```
    pub fn check_checkpoint(&self, path: impl AsRef<Path>) -> Result<CheckpointReport, crate::Error> {
        self.check_checkpoint_in("", path)
    }

    /// [`check_checkpoint`](Self::check_checkpoint) for the model called inside the variable
    /// scope `scope` (`"tower"` prefixes every name with `tower/`).
    pub fn check_checkpoint_in(&self, scope: &str, path: impl AsRef<Path>) -> Result<CheckpointReport, crate::Error> {
        let reader = CheckpointReader::open(path)?;
        let prefix = scope.trim_end_matches('/');
        let mut seen = std::collections::HashSet::new();
        let expected: Vec<Expected> = self
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
}
