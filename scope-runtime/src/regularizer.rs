//! Regularizers: a function of a newly created variable whose result joins the graph's
//! regularization losses (TF's `regularizer=` of `get_variable` and `variable_scope`).

use std::fmt;
use std::sync::Arc;

use crate::ops::Axes;
use crate::{Result, Scope, Tensor, Value};

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

    /// `scale * sum(w * w) / 2` (TF's `l2_regularizer`: `scale * tf.nn.l2_loss(w)`), its ops in
    /// the name scope `l2_regularizer`.
    pub fn l2(scale: f64) -> Regularizer {
        Regularizer {
            f: Arc::new(move |cx: &mut Scope, w: &Tensor| {
                let g = cx.name_scope("l2_regularizer")?;
                let squares = g.mul(w, w)?;
                let sum = g.reduce_sum(&squares, Axes::All, false)?;
                let half_scale = g.named("scale").constant(Value::filled(w.dtype(), &[], scale / 2.0))?;
                // The result takes the name of the scope itself, as TF names it.
                let name = format!("{}/", g.current_name_scope());
                g.named(&name).mul(&half_scale, &sum)
            }),
            what: "l2",
        }
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
