//! What the runtime does with a `#[model]`'s [`Manifest`] before any tensor exists. The
//! manifest itself is defined in `scope-core` (shared with the macros, which cannot depend on
//! the runtime), so these methods come as an extension trait, in the prelude. It sits at the top
//! of the runtime's layers: it only calls down into the exporters.

use crate::manifest::Manifest;

/// A `#[model]`'s manifest, drawn as a graph (`my_model::MANIFEST.to_dot()`).
pub trait ManifestExt {
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
    fn to_dot(&self) -> String {
        crate::dot::manifest_dot(self)
    }
}
