//! Gluon parameter dictionaries: a prefix, an optional shared dict looked at one level
//! deep, and the dict's own entries in insertion order.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::lock;
use super::param::Parameter;
use crate::error::{Error, Result};
use crate::{Graph, Init, Variable};

/// The parameters of one block, as Gluon's `ParameterDict`.
///
/// A dict is a cheap handle (`Arc` inside): cloning it gives the same dict, which is how
/// a block made with [`BlockSpec::share`](super::BlockSpec::share) sees parameters its
/// owner creates later. Keys are full names (prefix + name) and unique within one dict.
///
/// ```
/// use varscope::gluon::ParameterDict;
///
/// let owner = ParameterDict::new("dense0_");
/// let w = owner.get("weight", &[2, 3])?;
/// // A dict sharing `owner` under the owner's prefix finds the same parameter.
/// let user = ParameterDict::with_shared(owner.prefix(), owner.clone());
/// assert!(user.get("weight", &[2, 3])?.same(&w));
/// assert_eq!(user.keys(), ["dense0_weight"]);
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Clone)]
pub struct ParameterDict {
    inner: Arc<DictInner>,
}

struct DictInner {
    prefix: String,
    shared: Option<ParameterDict>,
    entries: Mutex<Entries>,
}

/// Own entries: insertion order plus an index by full name.
#[derive(Default)]
struct Entries {
    order: Vec<Parameter>,
    index: HashMap<String, usize>,
}

impl Entries {
    fn find(&self, name: &str) -> Option<Parameter> {
        self.index.get(name).and_then(|&i| self.order.get(i)).cloned()
    }

    /// Inserts `param` unless its name is taken; returns the entry now under that name
    /// and whether it is `param`.
    fn insert_if_absent(&mut self, param: Parameter) -> (Parameter, bool) {
        if let Some(existing) = self.find(param.name()) {
            return (existing, false);
        }
        self.index.insert(param.name().to_string(), self.order.len());
        self.order.push(param.clone());
        (param, true)
    }
}

impl ParameterDict {
    /// An empty dict whose parameters are named `prefix` + name.
    pub fn new(prefix: impl Into<String>) -> ParameterDict {
        ParameterDict::from_parts(prefix.into(), None)
    }

    /// An empty dict that also finds the parameters `shared` holds itself (one level:
    /// not those of `shared`'s own shared dict), as Gluon's `ParameterDict(prefix, shared)`.
    pub fn with_shared(prefix: impl Into<String>, shared: ParameterDict) -> ParameterDict {
        ParameterDict::from_parts(prefix.into(), Some(shared))
    }

    pub(crate) fn from_parts(prefix: String, shared: Option<ParameterDict>) -> ParameterDict {
        ParameterDict { inner: Arc::new(DictInner { prefix, shared, entries: Mutex::new(Entries::default()) }) }
    }

    /// The prefix of every name this dict creates (may be empty).
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The dict this one shares parameters with, if any.
    pub fn shared(&self) -> Option<&ParameterDict> {
        self.inner.shared.as_ref()
    }

    /// Gets or creates the parameter `prefix + name`, as Gluon's `ParameterDict.get(name,
    /// shape=shape)`.
    ///
    /// An own entry of that name is returned; else an entry of the shared dict, which is
    /// also added to the own entries; else a new parameter of shape `shape` is added. For
    /// an existing parameter the shapes are merged (`0` = unknown dimension) and the
    /// stored shape becomes the merged one.
    ///
    /// # Errors
    ///
    /// [`Error::GluonShapeMismatch`] when an existing parameter has another rank or
    /// another known size in some dimension; its shape is left as it was.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Parameter> {
        let full = format!("{}{name}", self.inner.prefix);
        let own = lock(&self.inner.entries).find(&full);
        if let Some(param) = own {
            param.merge_shape(shape)?;
            return Ok(param);
        }
        // Looked up before taking our own lock again, so no two dict locks are ever held
        // at once.
        let from_shared = self.inner.shared.as_ref().and_then(|s| s.lookup(&full));
        let fresh = from_shared.is_none();
        let candidate = from_shared.unwrap_or_else(|| Parameter::new(full, shape));
        let (param, inserted) = lock(&self.inner.entries).insert_if_absent(candidate);
        // A fresh parameter already has the desired shape. Gluon adopts a shared parameter
        // before checking its shape, so a mismatch still leaves it among the own entries.
        if !(fresh && inserted) {
            param.merge_shape(shape)?;
        }
        Ok(param)
    }

    /// The own entry named `full_name` (a full name, prefix included), as Gluon's
    /// `params[full_name]`; the shared dict is not consulted.
    pub fn lookup(&self, full_name: &str) -> Option<Parameter> {
        lock(&self.inner.entries).find(full_name)
    }

    /// The full names of the own entries, in insertion order.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.inner.entries).order.iter().map(|p| p.name().to_string()).collect()
    }

    /// The own entries, in insertion order.
    pub fn parameters(&self) -> Vec<Parameter> {
        lock(&self.inner.entries).order.clone()
    }

    /// The number of own entries.
    pub fn len(&self) -> usize {
        lock(&self.inner.entries).order.len()
    }

    /// Whether there are no own entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `self` and `other` are the same dict object.
    pub fn same(&self, other: &ParameterDict) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Initialises every own entry in insertion order (Gluon's
    /// `ParameterDict.initialize`); see [`Parameter::initialize`]. Entries already
    /// initialised in `graph` keep their variable.
    ///
    /// # Errors
    ///
    /// The first error of [`Parameter::initialize`]; entries before it stay initialised.
    pub fn initialize(&self, graph: &Graph, init: Init) -> Result<Vec<Variable>> {
        self.parameters().iter().map(|p| p.initialize(graph, init)).collect()
    }

    /// Copies every entry of `other` into this dict, as Gluon's `ParameterDict.update`: a
    /// key already present keeps its place when it holds the same parameter.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateName`] when a key of `other` is present here with a different
    /// parameter; then nothing is copied.
    pub fn update(&self, other: &ParameterDict) -> Result<()> {
        if self.same(other) {
            return Ok(());
        }
        self.extend(other.parameters())
    }

    /// [`update`](Self::update) with a list of parameters.
    pub(crate) fn extend(&self, params: Vec<Parameter>) -> Result<()> {
        let mut entries = lock(&self.inner.entries);
        for param in &params {
            if let Some(existing) = entries.find(param.name())
                && !existing.same(param)
            {
                return Err(Error::DuplicateName { name: param.name().to_string() });
            }
        }
        for param in params {
            entries.insert_if_absent(param);
        }
        Ok(())
    }
}

impl fmt::Debug for ParameterDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParameterDict")
            .field("prefix", &self.inner.prefix)
            .field("keys", &self.keys())
            .field("shared", &self.inner.shared.as_ref().map(|s| s.prefix().to_string()))
            .finish()
    }
}
