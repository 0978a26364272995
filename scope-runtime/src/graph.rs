//! The graph: what every thread shares.
//!
//! A [`Graph`] owns the variables (the `get_variable` store and the global and
//! trainable collections), the set of names in use (op names and name scopes
//! share it, compared case-insensitively), the recorded nodes and the seeded
//! RNG that random initializers draw from. It is a cheap handle (`Arc`),
//! `Send + Sync`; each thread works through its own [`Scope`](crate::Scope).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::error::{Error, Result};
use crate::name;
use crate::tensor::{Origin, Tensor, Value};
use crate::variable::Variable;

/// A node recorded in the graph.
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) op_type: &'static str,
    pub(crate) inputs: Vec<Tensor>,
    /// Ops that must run before this one (TF's control inputs, `^name`).
    pub(crate) control: Vec<Tensor>,
    /// What reverse-mode autodiff needs to differentiate the op: its kind and
    /// attributes plus the input and output values it saw. `None` for
    /// variables (leaves).
    pub(crate) grad: Option<Box<crate::record::Recorded>>,
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
    names_in_use: HashMap<String, u64, FxBuild>,
    node_index: HashMap<String, usize, FxBuild>,
    /// Nodes by index; [`Graph::clear_ops`] removes op nodes, so indices are
    /// never reused and may have gaps.
    pub(crate) nodes: BTreeMap<usize, Node>,
    /// The index the next node gets.
    next_node: usize,
    /// The full names of the `get_variable` store by their last component
    /// (`v` -> `foo/v`, `bar/v`), for "did you mean" without a scan.
    leaves: HashMap<String, BTreeSet<String>, FxBuild>,
    pub(crate) globals: Vec<Variable>,
    pub(crate) trainables: Vec<Variable>,
    pub(crate) regularization_losses: Vec<Tensor>,
    /// User-named collections (`tf.add_to_collection`), by name.
    pub(crate) collections: BTreeMap<String, Vec<Tensor>>,
    /// How many times [`Graph::clear_ops`] ran: op outputs of an earlier
    /// epoch are refused as inputs.
    pub(crate) epoch: u64,
    /// Lower-cased node names taken by ops that are being computed and not
    /// yet recorded; `clear_ops` keeps them, so no other op gets them.
    in_flight: HashMap<String, usize, FxBuild>,
    /// Lower-cased names whose use count changed since the last `clear_ops`
    /// (and the name scopes new variables sit in): all it has to look at.
    touched: Vec<String>,
    /// Lower-cased node names of the variables, and every name scope above one.
    var_names: HashSet<String, FxBuild>,
    var_prefixes: HashSet<String, FxBuild>,
    /// Indices of the op nodes recorded since the last `clear_ops`.
    op_nodes: Vec<usize>,
}

impl GraphState {
    /// TF's `Graph.unique_name`: `stack/name`, suffixed `_1`, `_2`, ... until unused.
    pub(crate) fn unique_name(&mut self, stack: &str, name: &str) -> String {
        let name = if stack.is_empty() { name.to_string() } else { format!("{stack}/{name}") };
        let base_key = name.to_lowercase();
        let mut i = self.names_in_use.get(&base_key).copied().unwrap_or(0);
        self.names_in_use.insert(base_key.clone(), i + 1);
        self.touched.push(base_key.clone());
        if i == 0 {
            return name;
        }
        let mut key = base_key.clone();
        while self.names_in_use.contains_key(&key) {
            key = format!("{base_key}_{i}");
            i += 1;
        }
        self.names_in_use.insert(key.clone(), 1);
        self.touched.push(key);
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
        graph: crate::tensor::GraphRef,
        name: String,
        op_type: &'static str,
        inputs: Vec<Tensor>,
        origin: Origin,
        value: Value,
    ) -> Tensor {
        let index = self.next_node;
        self.next_node += 1;
        let output = Tensor::new(graph, self.epoch, index, &name, origin, value);
        self.node_index.insert(name.clone(), index);
        if op_type == "VariableV2" {
            let key = name.to_lowercase();
            for (i, _) in key.match_indices('/') {
                self.var_prefixes.insert(key[..i].to_string());
                self.touched.push(key[..i].to_string());
            }
            self.var_names.insert(key);
        } else {
            self.op_nodes.push(index);
        }
        self.nodes.insert(index, Node { name, op_type, inputs, control: Vec::new(), grad: None });
        output
    }

    /// Forgets every op node (variables stay) and every name that only op
    /// nodes or emptied name scopes used; returns how many nodes went.
    pub(crate) fn clear_ops(&mut self) -> usize {
        let before = self.nodes.len();
        let mut records = Vec::new();
        for index in std::mem::take(&mut self.op_nodes) {
            if let Some(node) = self.nodes.remove(&index) {
                self.node_index.remove(&node.name);
                records.extend(node.grad);
            }
        }
        // Once every removed node's input handles are gone, the records may hold the last
        // handles of large activations: their buffers serve the next step's ops.
        for rec in records {
            rec.recycle();
        }
        self.epoch += 1;
        // A variable keeps its own name and every helper name below it
        // (`v/Assign`, `v/read`, `v/Initializer/...`), and the name scopes it
        // sits in keep one use; so does an op another thread is computing
        // right now. Every other name becomes free again. Only names touched
        // since the last clear can change, so only they are looked at.
        let in_flight: HashSet<&str, FxBuild> = self.in_flight.keys().map(String::as_str).collect();
        let mut in_flight_prefixes: HashSet<String, FxBuild> = HashSet::default();
        for k in &in_flight {
            for (i, _) in k.match_indices('/') {
                in_flight_prefixes.insert(k[..i].to_string());
            }
        }
        let kept = |k: &str| self.var_names.contains(k) || in_flight.contains(k);
        let under_kept = |k: &str| kept(k) || k.match_indices('/').any(|(i, _)| kept(&k[..i]));
        let under_in_flight =
            |k: &str| in_flight.contains(k) || k.match_indices('/').any(|(i, _)| in_flight.contains(&k[..i]));
        let touched: HashSet<String, FxBuild> = std::mem::take(&mut self.touched).into_iter().collect();
        let mut still = Vec::new();
        let mut changes = Vec::new();
        for k in touched {
            if under_kept(&k) {
                // Unchanged.
            } else if self.var_prefixes.contains(&k) || in_flight_prefixes.contains(&k) {
                changes.push((k.clone(), Some(1)));
            } else {
                changes.push((k.clone(), None));
            }
            if under_in_flight(&k) || in_flight_prefixes.contains(&k) {
                still.push(k);
            }
        }
        for (k, count) in changes {
            match count {
                Some(c) => {
                    self.names_in_use.insert(k, c);
                }
                None => {
                    self.names_in_use.remove(&k);
                }
            }
        }
        for p in in_flight_prefixes {
            self.names_in_use.entry(p.clone()).or_insert(1);
            still.push(p);
        }
        self.touched = still;
        before - self.nodes.len()
    }

    /// The first (in name order) existing `get_variable` name with the same
    /// last component as `wanted`, for "did you mean"; a lookup, not a scan.
    pub(crate) fn suggest(&self, wanted: &str) -> Option<String> {
        let leaf = wanted.rsplit('/').next().unwrap_or(wanted);
        self.leaves.get(leaf)?.iter().find(|k| k.as_str() != wanted).cloned()
    }

    /// Notes that the store now holds `full` (for [`suggest`](Self::suggest)).
    pub(crate) fn index_store_name(&mut self, full: &str) {
        let leaf = full.rsplit('/').next().unwrap_or(full);
        self.leaves.entry(leaf.to_string()).or_default().insert(full.to_string());
    }

    /// Reserves the node name of an op being computed (see `in_flight`).
    pub(crate) fn begin_op(&mut self, node: &str) {
        *self.in_flight.entry(node.to_lowercase()).or_insert(0) += 1;
    }

    /// Releases a reservation of [`begin_op`](Self::begin_op).
    pub(crate) fn end_op(&mut self, node: &str) {
        let key = node.to_lowercase();
        if let Some(n) = self.in_flight.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.in_flight.remove(&key);
            }
        }
    }

    /// Refuses an input of another graph, or an op output removed by
    /// [`Graph::clear_ops`]; `op` names the op (`op \`foo/add\` (AddV2)`).
    pub(crate) fn check_input(&self, graph: &Graph, op: &str, t: &Tensor) -> Result<()> {
        if !graph.owns(t) {
            return Err(Error::ForeignTensor { op: op.to_string(), tensor: t.name().to_string() });
        }
        if t.origin() == Origin::Op && t.epoch() != self.epoch {
            return Err(Error::StaleTensor { op: op.to_string(), tensor: t.name().to_string() });
        }
        Ok(())
    }
}

/// The name of TF's `GraphKeys.UPDATE_OPS` collection.
const UPDATE_OPS: &str = "update_ops";

/// How many locks the `get_variable` store is split over.
const STORE_SHARDS: usize = 16;

/// FxHash (rustc's hasher: a rotate, xor and multiply per 8 bytes) for the `get_variable`
/// store and the graph's name tables. Its keys are the program's own variable names, not adversarial input, so SipHash's
/// resistance to chosen collisions buys nothing, while its cost was a large part of a reusing
/// lookup (which hashed the name twice: shard, then map). Hand-rolled: fifteen lines do not
/// justify a dependency.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// The hasher of the store and of the name tables.
pub(crate) type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

pub(crate) struct GraphInner {
    state: Mutex<GraphState>,
    /// The `get_variable` store, keyed by full variable name (`foo/v`), in
    /// shards by a hash of the name. Its own locks, so reusing lookups from
    /// many threads run side by side (on different locks for different
    /// names); written only with `state` held (lock order: `state`, then a
    /// shard).
    store: [RwLock<HashMap<String, Variable, FxBuild>>; STORE_SHARDS],
    /// The seed of every random initializer (see [`Graph::with_seed`]).
    seed: u64,
}

/// Everything the threads of a model share: variables, names in use, recorded
/// nodes and the seeded RNG.
///
/// ```
/// use varscope::{Graph, Reuse, VarScope};
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
/// # Ok::<(), varscope::Error>(())
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

    /// An empty graph whose random initializers use `seed`.
    ///
    /// Each variable draws its initial value from its own ChaCha8 stream,
    /// derived from `seed` and the variable's full name (`foo/v`) alone. So
    /// the same seed gives a variable the same value whatever else the
    /// program creates, in whatever order, from however many threads.
    ///
    /// ```
    /// use varscope::{Graph, Init, VarSpec};
    /// let spec = VarSpec::new().shape([3]).init(Init::random_normal(0.0, 1.0));
    /// let a = Graph::with_seed(7);
    /// let w1 = a.scope().get_variable("w", spec.clone())?;
    /// let b = Graph::with_seed(7);
    /// b.scope().get_variable("other", spec.clone())?; // created first here
    /// let w2 = b.scope().get_variable("w", spec)?;
    /// assert_eq!(w1.value(), w2.value());
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn with_seed(seed: u64) -> Graph {
        Graph {
            inner: Arc::new(GraphInner {
                state: Mutex::new(GraphState {
                    names_in_use: HashMap::default(),
                    node_index: HashMap::default(),
                    nodes: BTreeMap::new(),
                    next_node: 0,
                    leaves: HashMap::default(),
                    globals: Vec::new(),
                    trainables: Vec::new(),
                    regularization_losses: Vec::new(),
                    collections: BTreeMap::new(),
                    epoch: 0,
                    in_flight: HashMap::default(),
                    touched: Vec::new(),
                    var_names: HashSet::default(),
                    var_prefixes: HashSet::default(),
                    op_nodes: Vec::new(),
                }),
                store: std::array::from_fn(|_| RwLock::new(HashMap::default())),
                seed,
            }),
        }
    }

    /// The seed given to [`Graph::with_seed`] (0 for [`Graph::new`]).
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// Every variable, in creation order (TF's `global_variables()`).
    pub fn global_variables(&self) -> Vec<Variable> {
        self.state().globals.clone()
    }

    /// The trainable variables, in creation order.
    pub fn trainable_variables(&self) -> Vec<Variable> {
        self.state().trainables.clone()
    }

    /// Adds `t` to the collection `name` (TF's `tf.compat.v1.add_to_collection`; cifar10.py
    /// collects its losses in `losses`).
    ///
    /// ```
    /// use varscope::Graph;
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let decay = cx.constant(0.5f32)?;
    /// graph.add_to_collection("losses", &decay);
    /// assert_eq!(graph.get_collection("losses")[0].name(), "Const:0");
    /// assert!(graph.get_collection("other").is_empty());
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn add_to_collection(&self, name: &str, t: &Tensor) {
        self.state().collections.entry(name.to_string()).or_default().push(t.clone());
    }

    /// The collection `name` in the order tensors were added (TF's `tf.compat.v1.get_collection`).
    pub fn get_collection(&self, name: &str) -> Vec<Tensor> {
        self.state().collections.get(name).cloned().unwrap_or_default()
    }

    /// The losses regularizers computed for the variables created so far, in creation order
    /// (TF's `REGULARIZATION_LOSSES` collection); see [`Regularizer`](crate::Regularizer).
    pub fn regularization_losses(&self) -> Vec<Tensor> {
        self.state().regularization_losses.clone()
    }

    /// TF's `tf.compat.v1.GraphKeys.UPDATE_OPS` collection, in the order ops
    /// were added (batch normalization's `AssignMovingAvg` updates): run them
    /// with a training step.
    ///
    /// ```
    /// use varscope::Graph;
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let v = cx.get_variable("v", [1])?;
    /// let one = cx.constant(varscope::Value::from(vec![1.0f32]))?;
    /// let update = cx.assign_sub(v.tensor(), &one)?;
    /// graph.add_update_op(&update);
    /// assert_eq!(graph.update_ops()[0].name(), "AssignSub:0");
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn update_ops(&self) -> Vec<Tensor> {
        self.get_collection(UPDATE_OPS)
    }

    /// Adds `op` to [`Graph::update_ops`] unless it is there already.
    pub fn add_update_op(&self, op: &Tensor) {
        let mut state = self.state();
        let ops = state.collections.entry(UPDATE_OPS.to_string()).or_default();
        if !ops.iter().any(|t| t.same(op)) {
            ops.push(op.clone());
        }
    }

    /// The variable `get_variable` created under this full name (`foo/v`).
    pub fn get_variable_by_name(&self, full_name: &str) -> Option<Variable> {
        self.store_get(full_name)
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

    /// A weak handle for the tensors this graph makes (see `TensorInner::graph`).
    pub(crate) fn downgrade(&self) -> crate::tensor::GraphRef {
        let weak: std::sync::Weak<GraphInner> = Arc::downgrade(&self.inner);
        weak
    }

    /// Whether `t` was made by this graph.
    pub(crate) fn owns(&self, t: &Tensor) -> bool {
        std::ptr::eq(t.graph_ptr(), Arc::as_ptr(&self.inner) as *const ())
    }

    /// The shard of the `get_variable` store that holds `full_name`: bits of its FxHash that
    /// neither the shard's bucket index (low bits) nor its tags (top bits) use.
    fn shard(&self, full_name: &str) -> &RwLock<HashMap<String, Variable, FxBuild>> {
        use std::hash::BuildHasher;
        let h = FxBuild::default().hash_one(full_name);
        &self.inner.store[((h >> 32) as usize) % STORE_SHARDS]
    }

    /// The variable of the store under `full_name`, taking only its shard's read lock.
    pub(crate) fn store_get(&self, full_name: &str) -> Option<Variable> {
        // Writers insert one entry at a time: a poisoned lock is consistent.
        let shard = self.shard(full_name).read().unwrap_or_else(|p| p.into_inner());
        shard.get(full_name).cloned()
    }

    /// Adds a variable to the store; hold `state` while calling.
    pub(crate) fn store_insert(&self, full_name: String, var: Variable) {
        let mut shard = self.shard(&full_name).write().unwrap_or_else(|p| p.into_inner());
        shard.insert(full_name, var);
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

    #[test]
    fn the_store_hash_tells_names_apart_and_spreads_them_over_the_shards() {
        use std::hash::BuildHasher;
        let h = |s: &str| FxBuild::default().hash_one(s);
        // Trailing bytes and lengths count (a zero-padded tail must not collide).
        assert_ne!(h("conv1/w"), h("conv1/w\0"));
        assert_ne!(h("a"), h("a\0\0\0\0\0\0\0"));
        assert_ne!(h("layer_1/weights"), h("layer_2/weights"));
        let mut used = [0usize; STORE_SHARDS];
        for i in 0..1024 {
            used[((h(&format!("scope_{i}/weights")) >> 32) as usize) % STORE_SHARDS] += 1;
        }
        assert!(used.iter().all(|&n| (16..=128).contains(&n)), "{used:?}");
    }
}
