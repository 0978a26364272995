//! Regularizers: a function of a newly created variable whose result joins the graph's
//! regularization losses (TF's `regularizer=` of `get_variable` and `variable_scope`).
//! The type sits with the scopes that carry it; the built-in regularizers are written with
//! the ops, a layer above, in `ops/regularizers.rs`.

use std::fmt;
use std::sync::Arc;

use crate::{Result, Scope, Tensor};

type RegularizerFn = dyn Fn(&mut Scope, &Tensor) -> Result<Tensor> + Send + Sync;

/// A regularizer for the variables a scope (or one `get_variable`) creates.
///
/// When `get_variable` creates a variable `w` whose spec or scope has one, the regularizer
/// runs on it inside the name scope `w/Regularizer/` and its result is added to
/// [`Graph::regularization_losses`](crate::Graph::regularization_losses), as TensorFlow adds it
/// to `REGULARIZATION_LOSSES`. Reusing a variable does not run it again. Scopes pass their
/// regularizer on to sub-scopes.
///
/// ```
/// use varscope::{Graph, Regularizer, VarScope};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let mut layer = cx.variable_scope(VarScope::new("dense").regularizer(Regularizer::l2(0.01)))?;
/// let w = layer.get_variable("w", [2, 2])?;
/// drop(layer);
/// let losses = graph.regularization_losses();
/// assert_eq!(losses.len(), 1);
/// assert_eq!(losses[0].name(), "dense/w/Regularizer/l2_regularizer:0");
/// # let _ = w;
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Clone)]
pub struct Regularizer {
    f: Arc<RegularizerFn>,
    what: &'static str,
}

impl Regularizer {
    /// A regularizer computed by `f` from the new variable.
    pub fn new(f: impl Fn(&mut Scope, &Tensor) -> Result<Tensor> + Send + Sync + 'static) -> Regularizer {
        Regularizer { f: Arc::new(f), what: "custom" }
    }

    /// A regularizer computed by `f`, shown as `what` in `Debug` (the built-in
    /// ones, defined with the ops: [`Regularizer::l2`]).
    pub(crate) fn builtin(
        what: &'static str,
        f: impl Fn(&mut Scope, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Regularizer {
        Regularizer { f: Arc::new(f), what }
    }

    /// Runs the regularizer on `w`.
    pub(crate) fn apply(&self, cx: &mut Scope, w: &Tensor) -> Result<Tensor> {
        (self.f)(cx, w)
    }
}

impl fmt::Debug for Regularizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regularizer({})", self.what)
    }
}

/// Two regularizers are equal when they are the same function (clones of one another).
impl PartialEq for Regularizer {
    fn eq(&self, other: &Regularizer) -> bool {
        Arc::ptr_eq(&self.f, &other.f)
    }
}
