//! What the runtime does with a `#[model]`'s [`Manifest`] before any tensor exists. The
//! manifest itself is defined in `scope-core` (shared with the macros, which cannot depend on
//! the runtime), so these methods come as an extension trait, in the prelude. It sits at the top
//! of the runtime's layers: it only calls down into `checkpoint` and `dot`.

use std::path::Path;

use crate::checkpoint::CheckpointReport;
use crate::manifest::Manifest;

/// A `#[model]`'s manifest, checked against a checkpoint or drawn as a graph
/// (`my_model::MANIFEST.check_checkpoint(path)`, `my_model::MANIFEST.to_dot()`).
pub trait ManifestExt {
    /// Compares the variables this model creates when called at the root scope with the
    /// checkpoint at `path` (a bundle prefix, a directory or a `.safetensors` file), reading only
    /// its index or header: names missing from the checkpoint (with did-you-mean suggestions),
    /// names it holds that the model does not use, and literal shapes or dtypes that differ.
    /// Variables whose name is only known at run time, or that a condition may skip, are not
    /// checked; a shape or dtype left to run time matches any.
    ///
    /// ```no_run
    /// use varscope::prelude::*;
    /// use varscope::{model, var};
    ///
    /// #[model]
    /// fn dense(cx: &mut Scope) -> Result<Variable> {
    ///     var!(cx, "kernel", [4, 2])
    /// }
    ///
    /// # fn main() -> Result<()> {
    /// let report = dense::MANIFEST.check_checkpoint("pretrained/model.ckpt-1000")?;
    /// assert!(report.is_compatible(), "{report}");
    /// # Ok(()) }
    /// ```
    fn check_checkpoint(&self, path: impl AsRef<Path>) -> crate::Result<CheckpointReport> {
        self.check_checkpoint_in("", path)
    }

    /// [`check_checkpoint`](Self::check_checkpoint) for the model called inside the variable
    /// scope `scope` (`"tower"` prefixes every name with `tower/`).
    fn check_checkpoint_in(&self, scope: &str, path: impl AsRef<Path>) -> crate::Result<CheckpointReport>;

    /// The model's manifest as DOT, known at compile time: the model as a node, its variables
    /// (relative to the scope it is called in) in one `cluster_<scope>` per variable scope,
    /// each labelled with its shape and reuse mode and joined (dashed) to the model whose body
    /// declares it, and an edge to every model it calls, labelled with the scope of the call.
    ///
    /// ```
    /// use varscope::prelude::*;
    /// use varscope::{model, var};
    ///
    /// #[model]
    /// fn dense(cx: &mut Scope) -> Result<Variable> {
    ///     var!(cx, "kernel", [4, 2])
    /// }
    ///
    /// fn main() {
    ///     let dot = dense::MANIFEST.to_dot();
    ///     assert!(dot.contains("\"var:kernel\""));
    ///     assert!(dot.contains("[4, 2]"));
    /// }
    /// ```
    fn to_dot(&self) -> String;
}

impl ManifestExt for Manifest {
    fn check_checkpoint_in(&self, scope: &str, path: impl AsRef<Path>) -> crate::Result<CheckpointReport> {
        crate::checkpoint::check_manifest(self, scope, path.as_ref())
    }

    fn to_dot(&self) -> String {
        crate::dot::manifest_dot(self)
    }
}
