//! Gluon parameters: a full name, a shape whose `0` dimensions are not known yet, and
//! an identity.
//!
//! Invariant: a parameter is created only by [`ParameterDict::get`](super::ParameterDict::get);
//! every other holder (a sharing dict, a collected dict, a user) holds the same `Arc`, so
//! [`Parameter::same`] is pointer identity, like Python's `is`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::Mutex;

use super::lock;
use crate::error::{Error, Result, fmt_shape};
use crate::{Graph, Init, VarSpec, Variable};

/// A parameter of a Gluon-style block, shared by every dict that holds it.
///
/// Its name is the full Gluon name (dict prefix + name, such as `model0_dense0_weight`).
/// Names are not unique: two blocks given the same explicit prefix make distinct
/// parameters of the same name, which [`Block::collect_params`](super::Block::collect_params)
/// then refuses to merge. Equality (`==`) and hashing are by identity, as in Gluon.
///
/// ```
/// use varscope::gluon::ParameterDict;
///
/// let params = ParameterDict::new("dense0_");
/// let w = params.get("weight", &[0, 3])?; // 0: the number of rows is not known yet
/// assert_eq!(w.name(), "dense0_weight");
/// params.get("weight", &[4, 0])?; // each get merges what it knows
/// assert_eq!(w.shape(), vec![4, 3]);
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Clone)]
pub struct Parameter {
    inner: Arc<ParamInner>,
}

struct ParamInner {
    name: String,
    shape: Mutex<Vec<usize>>,
    /// The graph variable holding the data, once initialised.
    data: Mutex<Option<(Graph, Variable)>>,
}

impl Parameter {
    /// Makes a new parameter; only dicts call this.
    pub(crate) fn new(name: String, shape: &[usize]) -> Parameter {
        Parameter { inner: Arc::new(ParamInner { name, shape: Mutex::new(shape.to_vec()), data: Mutex::new(None) }) }
    }

    /// The full Gluon name, such as `model0_dense0_weight`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The current shape; a `0` is a dimension not known yet (`[]` for a scalar).
    pub fn shape(&self) -> Vec<usize> {
        lock(&self.inner.shape).clone()
    }

    /// Whether the shape still has unknown (`0`) dimensions.
    pub fn has_unknown_dims(&self) -> bool {
        lock(&self.inner.shape).contains(&0)
    }

    /// Whether `self` and `other` are the same parameter object.
    pub fn same(&self, other: &Parameter) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Materialises the parameter as a variable of `graph`'s store, named by its full
    /// Gluon name (`model0_dense0_weight:0`), with a first value from `init` drawn from the
    /// graph's seeded RNG (Gluon's default initializer is
    /// `Init::random_uniform(-0.07, 0.07)`). Initialising again in the same
    /// graph returns the same variable.
    ///
    /// ```
    /// use varscope::gluon::ParameterDict;
    /// use varscope::{Graph, Init};
    ///
    /// let graph = Graph::new();
    /// let w = ParameterDict::new("dense0_").get("weight", &[2, 3])?;
    /// let var = w.initialize(&graph, Init::Ones)?;
    /// assert_eq!(var.name(), "dense0_weight:0");
    /// assert!(graph.get_variable_by_name("dense0_weight").is_some_and(|v| v.same(&var)));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] while the shape has unknown (`0`) dimensions, or when
    /// the parameter already lives in another graph; [`Error::AlreadyExists`] when another
    /// variable of the store (say, a different parameter of the same name) has the name;
    /// [`Error::InvalidName`] when the name is not a valid TensorFlow name (`_bias`).
    pub fn initialize(&self, graph: &Graph, init: Init) -> Result<Variable> {
        let mut data = lock(&self.inner.data);
        if let Some((owner, var)) = data.as_ref() {
            if owner.same(graph) {
                return Ok(var.clone());
            }
            return Err(Error::InvalidArgument {
                message: format!(
                    "Gluon parameter `{}` is already initialised in another graph: use that graph, \
                     or make a new block for this one",
                    self.inner.name
                ),
            });
        }
        let shape = self.shape();
        if shape.contains(&0) {
            return Err(Error::InvalidArgument {
                message: format!(
                    "Gluon parameter `{}` has unknown dimensions (shape {}, 0 = unknown): get it with \
                     its full shape before initialising it",
                    self.inner.name,
                    fmt_shape(&shape)
                ),
            });
        }
        let var = graph.scope().get_variable(&self.inner.name, VarSpec::new().shape(&shape).init(init))?;
        *data = Some((graph.clone(), var.clone()));
        Ok(var)
    }

    /// The graph variable holding the data, once [`initialize`](Self::initialize)d.
    pub fn variable(&self) -> Option<Variable> {
        lock(&self.inner.data).as_ref().map(|(_, var)| var.clone())
    }

    /// Merges `desired` into the stored shape, as Gluon's `ParameterDict.get` does for an
    /// existing parameter; on a mismatch nothing changes.
    pub(crate) fn merge_shape(&self, desired: &[usize]) -> Result<()> {
        let mut stored = lock(&self.inner.shape);
        match merged_shape(desired, &stored) {
            Some(merged) => {
                *stored = merged;
                Ok(())
            }
            None => Err(Error::GluonShapeMismatch {
                name: self.inner.name.clone(),
                desired: desired.to_vec(),
                stored: stored.clone(),
            }),
        }
    }
}

/// Gluon's shape merge: equal rank and, per dimension, equal sizes or a `0` on either
/// side, which takes the other size. `None` when the shapes do not fit.
pub(crate) fn merged_shape(desired: &[usize], stored: &[usize]) -> Option<Vec<usize>> {
    if desired.len() != stored.len() {
        return None;
    }
    desired
        .iter()
        .zip(stored)
        .map(|(&want, &have)| match (want, have) {
            _ if want == have => Some(want),
            (0, _) => Some(have),
            (_, 0) => Some(want),
            _ => None,
        })
        .collect()
}

impl PartialEq for Parameter {
    fn eq(&self, other: &Parameter) -> bool {
        self.same(other)
    }
}

impl Eq for Parameter {}

impl Hash for Parameter {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.inner).hash(state);
    }
}

impl fmt::Debug for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parameter").field("name", &self.inner.name).field("shape", &self.shape()).finish()
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Parameter {} (shape {:?})", self.inner.name, self.shape())
    }
}

#[cfg(test)]
mod tests {
    use super::merged_shape;

    #[test]
    fn unknown_dims_take_the_other_side() {
        assert_eq!(merged_shape(&[0, 3], &[5, 0]), Some(vec![5, 3]));
        assert_eq!(merged_shape(&[5, 3], &[5, 3]), Some(vec![5, 3]));
        assert_eq!(merged_shape(&[], &[]), Some(vec![]));
    }

    #[test]
    fn known_dims_and_rank_must_agree() {
        assert_eq!(merged_shape(&[4, 3], &[2, 3]), None);
        assert_eq!(merged_shape(&[2], &[2, 3]), None);
        assert_eq!(merged_shape(&[0], &[]), None);
    }
}
