//! Runtime of varscope: TensorFlow-style variable scopes, name scopes and
//! `get_variable` over eagerly computed `ndarray` tensors.
//!
//! - [`Graph`]: what every thread shares (variables, names in use, nodes).
//! - [`Scope`]: one thread's scope stacks; all scoped calls go through it.
//! - [`VarScope`] / [`VariableScope`] / [`Reuse`]: opening and capturing
//!   variable scopes.
//! - [`Variable`], [`VarSpec`], [`Init`]: variables and how they are made.
//! - [`Tensor`], [`Value`]: values with names; ops are methods of [`Scope`].
//! - [`Graph::gradients`], [`Graph::minimize`], [`Graph::clear_ops`]:
//!   reverse-mode autodiff over the recorded ops, gradient descent, and
//!   releasing the record between training steps.
//!
//! ```
//! use varscope::{Graph, Reuse, VarScope};
//!
//! let graph = Graph::new();
//! let mut cx = graph.scope();
//! cx.push_variable_scope("foo")?;
//! let v = cx.get_variable("v", [1])?;
//! cx.pop_scope()?;
//! // Asking again without reuse is refused, naming the variable and the fix.
//! cx.push_variable_scope("foo")?;
//! let err = cx.get_variable("v", [1]).unwrap_err();
//! assert!(err.to_string().contains("`foo/v` already exists"));
//! cx.pop_scope()?;
//! cx.push_variable_scope(VarScope::new("foo").reuse(Reuse::ReuseOnly))?;
//! assert!(cx.get_variable("v", [1])?.same(&v));
//! # Ok::<(), varscope::Error>(())
//! ```

mod autodiff;
pub mod checkpoint;
mod crc;
pub mod dot;
mod dtype;
mod error;
pub mod gluon;
mod graph;
mod init;
pub mod kernels;
pub mod manifest;
mod manifest_ext;
mod name;
pub mod ops;
mod private;
mod proto;
mod record;
mod regularizer;
mod scope;
mod session;
mod store;
pub mod summary;
mod tensor;
pub mod train;
mod variable;
#[doc(hidden)]
pub use private::__private;

/// The `ndarray` crate that [`Value`] is built on, re-exported so callers
/// build values with the same version.
pub use ndarray;

pub use dtype::DType;
pub use error::{Error, ErrorKind, Result};
pub use graph::{Graph, NodeInfo};
pub use init::{Init, Scalar};
pub use manifest::Manifest;
pub use manifest_ext::ManifestExt;
pub use regularizer::Regularizer;
pub use scope::{Scope, ScopeGuard, VarScope, VarSpec, VariableScope};
pub use session::Session;
pub use store::Reuse;
pub use tensor::{MAX_ELEMENTS, Tensor, Value};
pub use variable::Variable;

/// The names most programs need, for `use varscope::prelude::*`.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        DType, Error, Graph, Init, ManifestExt, Regularizer, Result, Reuse, Scope, Session, Tensor, Value, VarScope,
        VarSpec, Variable, VariableScope,
    };
}
