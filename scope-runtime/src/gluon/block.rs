//! Gluon blocks: a prefix, a parameter dict, per-hint counters for the blocks created in
//! its scope, registered children, and the state of its name scope.
//!
//! Invariant: the child graph is acyclic ([`Block::register_child`] refuses cycles), so
//! `collect_params` terminates and no `Arc` cycle leaks through `children`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use super::dict::ParameterDict;
use super::lock;
use super::select::Select;
use crate::error::{Error, Result};
use crate::{Graph, Init, Variable};

/// Serialises [`Block::register_child`], so two threads cannot together close a cycle that
/// each check alone would have refused.
static REGISTER: Mutex<()> = Mutex::new(());

/// A Gluon-style block: a cheap, thread-safe handle (`Arc` inside) to a named unit of a
/// model that owns a [`ParameterDict`] and child blocks.
///
/// Blocks are made by a thread's [`GluonScope`](super::GluonScope), named as MXNet Gluon
/// 1.9.1 names them: `dense0_` at top level (the thread's counter for the hint `dense`),
/// `model0_dense1_` inside the scope of block `model0_` (that block's own counter, which
/// all threads share), or an explicit prefix that takes no count. Parameters are named
/// dict prefix + name (`model0_dense1_weight`).
///
/// # Two naming styles
///
/// The TensorFlow style names variables by the scopes open while they are created, and
/// shares them by reopening a scope with reuse:
///
/// ```
/// use varscope::{Graph, Reuse, VarScope};
///
/// let graph = Graph::new();
/// let mut cx = graph.scope(); // this thread's scope stacks
/// let w = cx.variable_scope("dense")?.get_variable("weight", [4, 3])?;
/// assert_eq!(w.name(), "dense/weight:0");
/// let shared = cx
///     .variable_scope(VarScope::new("dense").reuse(Reuse::ReuseOnly))?
///     .get_variable("weight", [4, 3])?;
/// assert!(shared.same(&w));
/// # Ok::<(), varscope::Error>(())
/// ```
///
/// The Gluon style names parameters by the block that owns them, numbers blocks per
/// hint, and shares parameters by handing one block's dict to another:
///
/// ```
/// use varscope::gluon::{Block, BlockSpec, GluonScope, Parameter};
///
/// /// A fully connected layer: `weight` (units × inputs) and `bias` (units).
/// struct Dense {
///     block: Block,
///     weight: Parameter,
///     bias: Parameter,
/// }
///
/// impl Dense {
///     /// `share`: a block whose parameters this layer uses (Gluon's `params=`).
///     fn new(cx: &mut GluonScope, units: usize, inputs: usize, share: Option<&Block>)
///         -> varscope::Result<Dense> {
///         let spec = match share {
///             Some(owner) => BlockSpec::new("dense").share(owner),
///             None => BlockSpec::new("dense"),
///         };
///         let block = cx.block(spec)?;
///         let weight = block.params().get("weight", &[units, inputs])?;
///         let bias = block.params().get("bias", &[units])?;
///         Ok(Dense { block, weight, bias })
///     }
/// }
///
/// let mut cx = GluonScope::new(); // this thread's naming state
/// let model = cx.block("model")?;
/// let (first, second) = {
///     let mut inside = cx.name_scope(&model); // `with model.name_scope():`
///     let first = Dense::new(&mut inside, 4, 3, None)?;
///     let second = Dense::new(&mut inside, 4, 3, Some(&first.block))?;
///     (first, second)
/// };
/// assert_eq!(first.block.prefix(), "model0_dense0_");
/// assert_eq!(second.block.prefix(), "model0_dense1_");
/// assert_eq!(second.weight.name(), "model0_dense0_weight");
/// assert!(second.weight.same(&first.weight) && second.bias.same(&first.bias));
/// let names = model.collect_params(None)?.keys();
/// assert_eq!(names, ["model0_dense0_weight", "model0_dense0_bias"]);
/// assert_eq!(model.collect_params(Some(".*bias"))?.keys(), ["model0_dense0_bias"]);
/// // The parameters live in the same variable store as TF-style variables.
/// let graph = varscope::Graph::new();
/// let vars = model.initialize(&graph, varscope::Init::Ones)?;
/// assert_eq!(vars[0].name(), "model0_dense0_weight:0");
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Clone)]
pub struct Block {
    inner: Arc<BlockInner>,
}

struct BlockInner {
    prefix: String,
    hint: String,
    /// Made with an explicit empty prefix: entering its scope changes nothing.
    empty_prefix: bool,
    params: ParameterDict,
    state: Mutex<BlockState>,
}

/// Drops a deep child chain without recursion: children (and saved scopes) whose last
/// handle this is are taken apart on an explicit stack.
impl Drop for BlockInner {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        let mut todo: Vec<Block> = std::mem::take(&mut state.children);
        todo.extend(state.saved.take());
        while let Some(block) = todo.pop() {
            if let Ok(mut inner) = Arc::try_unwrap(block.inner) {
                let state = inner.state.get_mut().unwrap_or_else(|p| p.into_inner());
                todo.append(&mut state.children);
                todo.extend(state.saved.take());
                // `inner` drops here, holding no block any more.
            }
        }
    }
}

#[derive(Default)]
struct BlockState {
    /// Per-hint counters for automatic prefixes of blocks created in this block's scope.
    counters: HashMap<String, usize>,
    children: Vec<Block>,
    /// Whether the scope is entered and not yet ended (Gluon: `_name_scope is not None`).
    open: bool,
    /// The block scope current in the entering thread when the scope was entered.
    saved: Option<Block>,
}

impl Block {
    pub(crate) fn new(prefix: String, hint: String, empty_prefix: bool, params: ParameterDict) -> Block {
        Block {
            inner: Arc::new(BlockInner {
                prefix,
                hint,
                empty_prefix,
                params,
                state: Mutex::new(BlockState::default()),
            }),
        }
    }

    /// The full prefix, such as `model0_dense1_` (may be empty).
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The prefix without its trailing `_`, as Gluon's `Block.name`.
    pub fn name(&self) -> &str {
        self.inner.prefix.strip_suffix('_').unwrap_or(&self.inner.prefix)
    }

    /// The hint the block was made with (Gluon's lowercased class name).
    pub fn hint(&self) -> &str {
        &self.inner.hint
    }

    /// This block's own parameter dict (Gluon's `block.params`): not its children's.
    pub fn params(&self) -> &ParameterDict {
        &self.inner.params
    }

    /// Whether `self` and `other` are the same block object.
    pub fn same(&self, other: &Block) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The registered children, in registration order (a block registered twice is
    /// listed twice).
    pub fn children(&self) -> Vec<Block> {
        lock(&self.inner.state).children.clone()
    }

    /// Makes `child` a child of this block (Gluon's `register_child`), so
    /// [`collect_params`](Self::collect_params) includes its parameters. A block may be
    /// registered twice, or under several parents, and may come from another thread.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `child` is this block or contains it: a block
    /// cannot be its own descendant.
    pub fn register_child(&self, child: &Block) -> Result<()> {
        let _serial = lock(&REGISTER);
        if child.contains(self) {
            return Err(Error::invalid(format!(
                "cannot register block `{}` as a child of `{}`: `{}` is already inside `{}`, and a \
                 block cannot contain itself; register a new block instead",
                child.prefix(),
                self.prefix(),
                self.prefix(),
                child.prefix()
            )));
        }
        self.push_child(child.clone());
        Ok(())
    }

    pub(crate) fn push_child(&self, child: Block) {
        lock(&self.inner.state).children.push(child);
    }

    /// Whether `other` is this block or one of its descendants.
    fn contains(&self, other: &Block) -> bool {
        let mut seen = HashSet::new();
        let mut todo = vec![self.clone()];
        while let Some(block) = todo.pop() {
            if block.same(other) {
                return true;
            }
            if seen.insert(Arc::as_ptr(&block.inner)) {
                todo.extend(block.children());
            }
        }
        false
    }

    /// The parameters of this block and of all its descendants, as Gluon's
    /// `collect_params(select)`: a new dict with this block's dict prefix holding this
    /// block's own entries, then each child's collection in registration order.
    ///
    /// `select` keeps only the full names that the regex matches at their start (Python's
    /// `re.match`: `"dense0"` does not select `model0_dense0_weight`, `".*dense0"` does);
    /// `None` or `""` keeps everything.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRegex`] when `select` does not compile; [`Error::DuplicateName`]
    /// when two different parameters have the same full name.
    pub fn collect_params(&self, select: Option<&str>) -> Result<ParameterDict> {
        let select = Select::new(select)?;
        let out = ParameterDict::new(self.params().prefix());
        // Pre-order, children in registration order, with an explicit stack so that deep
        // models cannot overflow the call stack. A block met again adds nothing (its
        // entries are already in `out`, unchanged), so it is skipped: shared subtrees
        // are walked once.
        let mut seen = HashSet::new();
        let mut todo = vec![self.clone()];
        while let Some(block) = todo.pop() {
            if !seen.insert(Arc::as_ptr(&block.inner)) {
                continue;
            }
            let own = block.params().parameters();
            out.extend(own.into_iter().filter(|p| select.matches(p.name())).collect())?;
            todo.extend(block.children().into_iter().rev());
        }
        Ok(out)
    }

    /// Initialises every parameter of this block and its descendants as variables of
    /// `graph` (Gluon's `block.initialize(init)`), in [`collect_params`](Self::collect_params)
    /// order; see [`Parameter::initialize`](super::Parameter::initialize).
    ///
    /// # Errors
    ///
    /// What `collect_params(None)` or [`Parameter::initialize`](super::Parameter::initialize)
    /// fails with.
    pub fn initialize(&self, graph: &Graph, init: Init) -> Result<Vec<Variable>> {
        self.collect_params(None)?.initialize(graph, init)
    }

    /// Next automatic part for a block with `hint` made in this block's scope: `dense0_`,
    /// `dense1_`, ...
    pub(crate) fn next_part(&self, hint: &str) -> String {
        next_auto_part(&mut lock(&self.inner.state).counters, hint)
    }

    pub(crate) fn has_empty_prefix(&self) -> bool {
        self.inner.empty_prefix
    }

    /// Opens this block's scope, remembering the entering thread's current scope.
    pub(crate) fn open_scope(&self, saved: Option<Block>) {
        let mut state = lock(&self.inner.state);
        state.open = true;
        state.saved = saved;
    }

    /// Closes this block's scope and returns the scope to go back to.
    pub(crate) fn close_scope(&self) -> Result<Option<Block>> {
        let mut state = lock(&self.inner.state);
        if !state.open {
            return Err(Error::ReenteredScope { prefix: self.inner.prefix.clone() });
        }
        state.open = false;
        Ok(state.saved.take())
    }
}

/// `HINT` + n + `_`, n read from and advanced in `counters`.
pub(crate) fn next_auto_part(counters: &mut HashMap<String, usize>, hint: &str) -> String {
    let count = counters.entry(hint.to_string()).or_insert(0);
    let part = format!("{hint}{count}_");
    *count += 1;
    part
}

impl fmt::Debug for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let children: Vec<String> = self.children().iter().map(|c| c.prefix().to_string()).collect();
        f.debug_struct("Block")
            .field("prefix", &self.inner.prefix)
            .field("hint", &self.inner.hint)
            .field("params", &self.inner.params)
            .field("children", &children)
            .finish()
    }
}

/// How to make a block: Gluon's constructor arguments `prefix=` and `params=`.
///
/// Converts from a hint (`"dense"`), so `cx.block("dense")` is the common case.
#[derive(Clone, Debug)]
pub struct BlockSpec {
    pub(crate) hint: String,
    pub(crate) prefix: Option<String>,
    pub(crate) params: ParamsSpec,
}

/// Where a new block's parameters come from.
#[derive(Clone, Debug)]
pub(crate) enum ParamsSpec {
    /// A dict of its own (named from the scope).
    Own,
    /// `params=dict`: share with that dict, under its prefix.
    Dict(ParameterDict),
    /// `params=block.collect_params()`: a snapshot taken when the block is made.
    ShareAll(Block),
}

impl BlockSpec {
    /// A block with hint `hint` (Gluon's lowercased class name, such as `dense`) and an
    /// automatic prefix.
    pub fn new(hint: impl Into<String>) -> BlockSpec {
        BlockSpec { hint: hint.into(), prefix: None, params: ParamsSpec::Own }
    }

    /// An explicit prefix part (Gluon's `prefix=`): takes no count and is never checked
    /// for clashes. `""` also makes entering the block's scope a no-op.
    pub fn prefix(mut self, prefix: impl Into<String>) -> BlockSpec {
        self.prefix = Some(prefix.into());
        self
    }

    /// Shares `params` (Gluon's `params=`): the block's dict takes `params`' prefix and
    /// finds what `params` holds itself, now and later.
    pub fn params(mut self, params: ParameterDict) -> BlockSpec {
        self.params = ParamsSpec::Dict(params);
        self
    }

    /// Shares `owner`'s own parameters (Gluon's `params=owner.params`): not those of its
    /// children.
    pub fn share(self, owner: &Block) -> BlockSpec {
        self.params(owner.params().clone())
    }

    /// Shares everything `owner` collects, children included (Gluon's
    /// `params=owner.collect_params()`), as a snapshot taken when the block is made:
    /// parameters `owner` gains later are not seen.
    pub fn share_all(mut self, owner: &Block) -> BlockSpec {
        self.params = ParamsSpec::ShareAll(owner.clone());
        self
    }
}

impl From<&str> for BlockSpec {
    fn from(hint: &str) -> BlockSpec {
        BlockSpec::new(hint)
    }
}

impl From<String> for BlockSpec {
    fn from(hint: String) -> BlockSpec {
        BlockSpec::new(hint)
    }
}
