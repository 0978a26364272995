//! The graph: what every thread shares.
//!
//! A [`Graph`] owns the variables (the `get_variable` store and the global and
//! trainable collections), the set of names in use (op names and name scopes
//! share it, compared case-insensitively), the recorded nodes and the seeded
//! RNG that random initializers draw from. It is a cheap handle (`Arc`),
//! `Send + Sync`; each thread works through its own [`Scope`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::name;
use crate::scope::Scope;
use crate::tensor::{Origin, Tensor, Value};
use crate::variable::Variable;

/// A node recorded in the graph.
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) op_type: &'static str,
    pub(crate) inputs: Vec<Tensor>,
    /// What reverse-mode autodiff needs to differentiate the op: its kind and
    /// attributes plus the input and output values it saw. `None` for
    /// variables (leaves).
    pub(crate) grad: Option<Box<crate::autodiff::Recorded>>,
}

/// A read-only description of a recorded node, for inspection and export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The full node name, such as `foo/add`.
    pub name: String,
    /// TensorFlow's op type, such as `AddV2` or `VariableV2`.
    pub op_type: String,
    /// The names of the input tensors (`foo/v:0`).
    pub inputs: Vec<String>,
}

pub(crate) struct GraphState {
    /// Lower-cased names (op names and name scopes) with their use counts.
    names_in_use: HashMap<String, u64>,
    node_index: HashMap<String, usize>,
    /// Nodes by index; [`Graph::clear_ops`] removes op nodes, so indices are
    /// never reused and may have gaps.
    pub(crate) nodes: BTreeMap<usize, Node>,
    /// The index the next node gets.
    next_node: usize,
    /// The `get_variable` store, keyed by full variable name (`foo/v`).
    pub(crate) store: HashMap<String, Variable>,
    pub(crate) globals: Vec<Variable>,
    pub(crate) trainables: Vec<Variable>,
    pub(crate) regularization_losses: Vec<Tensor>,
    pub(crate) rng: ChaCha8Rng,
}

impl GraphState {
    /// TF's `Graph.unique_name`: `stack/name`, suffixed `_1`, `_2`, ... until unused.
    pub(crate) fn unique_name(&mut self, stack: &str, name: &str) -> String {
        let name = if stack.is_empty() { name.to_string() } else { format!("{stack}/{name}") };
        let base_key = name.to_lowercase();
        let mut i = self.names_in_use.get(&base_key).copied().unwrap_or(0);
        self.names_in_use.insert(base_key.clone(), i + 1);
        if i == 0 {
            return name;
        }
        let mut key = base_key.clone();
        while self.names_in_use.contains_key(&key) {
            key = format!("{base_key}_{i}");
            i += 1;
        }
        self.names_in_use.insert(key, 1);
        format!("{name}_{}", i - 1)
    }

    /// TF's `Graph.name_scope(name)` opened while the name stack is `stack`:
    /// returns the new stack and the scope string TF hands back (`a_1/`, or
    /// `""` for the root).
    pub(crate) fn name_scope(&mut self, stack: &str, name: &str) -> Result<(String, String)> {
        if name.is_empty() {
            return Ok((String::new(), String::new()));
        }
        name::check_scope_name(name, stack.is_empty())?;
        if name.ends_with('/') {
            Ok((name::name_from_scope_name(name).to_string(), name.to_string()))
        } else {
            let unique = self.unique_name(stack, name);
            let returned = format!("{unique}/");
            Ok((unique, returned))
        }
    }

    /// Whether `name` (a node name or a name scope, compared case-insensitively) is in use.
    pub(crate) fn is_name_in_use(&self, name: &str) -> bool {
        self.names_in_use.contains_key(&name.to_lowercase())
    }

    /// Checks that a node called `name` could be added.
    pub(crate) fn check_new_node(&self, name: &str) -> Result<()> {
        name::check_node_name(name)?;
        if self.node_index.contains_key(name) {
            return Err(Error::DuplicateNode { name: name.to_string() });
        }
        Ok(())
    }

    /// Records a node whose name passed [`check_new_node`](Self::check_new_node)
    /// and returns its output tensor.
    pub(crate) fn add_node(
        &mut self,
        graph_id: u64,
        name: String,
        op_type: &'static str,
        inputs: Vec<Tensor>,
        origin: Origin,
        value: Value,
    ) -> Tensor {
        let index = self.next_node;
        self.next_node += 1;
        let output = Tensor::new(graph_id, index, &name, origin, value);
        self.node_index.insert(name.clone(), index);
        self.nodes.insert(index, Node { name, op_type, inputs, grad: None });
        output
    }

    /// Forgets every op node (variables stay) and every name that only op
    /// nodes or emptied name scopes used; returns how many nodes went.
    pub(crate) fn clear_ops(&mut self) -> usize {
        let before = self.nodes.len();
        self.nodes.retain(|_, n| n.op_type == "VariableV2");
        let nodes = &self.nodes;
        self.node_index.retain(|_, i| nodes.contains_key(i));
        // A variable keeps its own name and every helper name below it
        // (`v/Assign`, `v/read`, `v/Initializer/...`), plus the name scopes
        // it sits in; every other name becomes free again.
        let kept: std::collections::HashSet<String> = self.nodes.values().map(|n| n.name.to_lowercase()).collect();
        let under_kept = |k: &str| kept.contains(k) || k.match_indices('/').any(|(i, _)| kept.contains(&k[..i]));
        self.names_in_use.retain(|k, _| under_kept(k));
        for name in &kept {
            for (i, _) in name.match_indices('/') {
                self.names_in_use.entry(name[..i].to_string()).or_insert(1);
            }
        }
        before - self.nodes.len()
    }

    /// Existing `get_variable` names close to `wanted`, for "did you mean".
    pub(crate) fn suggest(&self, wanted: &str) -> Option<String> {
        let leaf = wanted.rsplit('/').next().unwrap_or(wanted);
        let mut candidates: Vec<&String> = self
            .store
            .keys()
            .filter(|k| k.as_str() != wanted && (k.rsplit('/').next() == Some(leaf) || k.ends_with(wanted)))
            .collect();
        candidates.sort();
        candidates.first().map(|s| s.to_string())
    }
}

struct GraphInner {
    state: Mutex<GraphState>,
}

/// Everything the threads of a model share: variables, names in use, recorded
/// nodes and the seeded RNG.
///
/// ```
/// use scope_runtime::{Graph, Reuse, VarScope};
///
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let v = {
///     let mut foo = cx.variable_scope("foo")?;
///     foo.get_variable("v", [1])?
/// };
/// assert_eq!(v.name(), "foo/v:0");
/// let again = {
///     let mut foo = cx.variable_scope(VarScope::new("foo").reuse(Reuse::ReuseOnly))?;
///     foo.get_variable("v", [1])?
/// };
/// assert!(v.same(&again));
/// # Ok::<(), scope_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct Graph {
    inner: Arc<GraphInner>,
}

impl Default for Graph {
    fn default() -> Graph {
        Graph::new()
    }
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("Graph").field("nodes", &state.nodes.len()).field("variables", &state.globals.len()).finish()
    }
}

impl Graph {
    /// An empty graph whose random initializers use seed 0.
    pub fn new() -> Graph {
        Graph::with_seed(0)
    }

    /// An empty graph whose random initializers draw from a ChaCha8 RNG seeded
    /// with `seed`: the same program with the same seed makes the same values.
    pub fn with_seed(seed: u64) -> Graph {
        Graph {
            inner: Arc::new(GraphInner {
                state: Mutex::new(GraphState {
                    names_in_use: HashMap::new(),
                    node_index: HashMap::new(),
                    nodes: BTreeMap::new(),
                    next_node: 0,
                    store: HashMap::new(),
                    globals: Vec::new(),
                    trainables: Vec::new(),
                    regularization_losses: Vec::new(),
                    rng: ChaCha8Rng::seed_from_u64(seed),
                }),
            }),
        }
    }

    /// A fresh per-thread context at the root variable scope and root name
    /// scope, with its own `default_name` counters.
    pub fn scope(&self) -> Scope {
        Scope::new(self.clone())
    }

    /// Every variable, in creation order (TF's `global_variables()`).
    pub fn global_variables(&self) -> Vec<Variable> {
        self.state().globals.clone()
    }

    /// The trainable variables, in creation order.
    pub fn trainable_variables(&self) -> Vec<Variable> {
        self.state().trainables.clone()
    }

    /// The losses regularizers computed for the variables created so far, in creation order
    /// (TF's `REGULARIZATION_LOSSES` collection); see [`Regularizer`](crate::Regularizer).
    pub fn regularization_losses(&self) -> Vec<Tensor> {
        self.state().regularization_losses.clone()
    }

    /// The variable `get_variable` created under this full name (`foo/v`).
    pub fn get_variable_by_name(&self, full_name: &str) -> Option<Variable> {
        self.state().store.get(full_name).cloned()
    }

    /// The recorded nodes, in creation order.
    pub fn nodes(&self) -> Vec<NodeInfo> {
        self.state()
            .nodes
            .values()
            .map(|n| NodeInfo {
                name: n.name.clone(),
                op_type: n.op_type.to_string(),
                inputs: n.inputs.iter().map(|t| t.name().to_string()).collect(),
            })
            .collect()
    }

    /// Whether both handles are the same graph.
    pub fn same(&self, other: &Graph) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// An identifier of this graph, stable while it lives.
    pub(crate) fn id(&self) -> u64 {
        Arc::as_ptr(&self.inner) as usize as u64
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, GraphState> {
        // A panic while the lock was held cannot leave the maps half-updated in
        // a way later calls rely on, so a poisoned lock is still usable.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_follow_tf() {
        let g = Graph::new();
        let mut s = g.state();
        assert_eq!(s.unique_name("", "foo"), "foo");
        assert_eq!(s.unique_name("", "foo"), "foo_1");
        assert_eq!(s.unique_name("", "foo_1"), "foo_1_1");
        assert_eq!(s.unique_name("", "foo"), "foo_2");
        assert_eq!(s.unique_name("", "Foo"), "Foo_3");
        assert_eq!(s.unique_name("a", "Const"), "a/Const");
    }
}
