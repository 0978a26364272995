//! Variable scopes and name scopes: the per-thread part of the semantics.
//!
//! A [`Scope`] is what one thread holds: the current [`VariableScope`], the
//! current name scope, and the counters behind `default_name`
//! uniquification. It mirrors TensorFlow 1.x (`tf.compat.v1.variable_scope`,
//! `name_scope`, `get_variable`):
//!
//! - variable scopes name variables made by [`Scope::get_variable`]; name
//!   scopes name ops and plain [`Scope::variable`]s;
//! - entering a variable scope by name also opens a name scope of that name,
//!   uniquified graph-wide (`foo`, `foo_1`), unless
//!   [`VarScope::auxiliary_name_scope`] is off;
//! - reuse is inherited by sub-scopes and never switched back off;
//! - re-entering a captured [`VariableScope`] jumps out of the current
//!   variable scope to the captured one.
//!
//! Invariant: `frames` holds one entry per successful `push_*_scope`, and
//! popping a frame restores exactly the state before its push.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::graph::{Graph, GraphState};
use crate::init::Init;
use crate::regularizer::Regularizer;
use crate::store::Reuse;
use crate::store::{add_variable, create_variable, reuse_found};
use crate::variable::Variable;

struct VariableScopeInner {
    name: String,
    reuse: AtomicU8,
    initializer: Option<Init>,
    regularizer: Option<Regularizer>,
    dtype: DType,
    name_scope: String,
}

/// A variable scope as a value (what `with tf.variable_scope(...) as vs` binds).
///
/// Capture it with [`Scope::current_variable_scope`] or from
/// [`Scope::push_variable_scope`], and enter it again anywhere (also in another
/// thread) with [`VarScope::reenter`]. Clones share the reuse flag, which
/// [`Scope::reuse_variables`] sets.
#[derive(Clone)]
pub struct VariableScope {
    inner: Arc<VariableScopeInner>,
}

impl std::fmt::Debug for VariableScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VariableScope")
            .field("name", &self.name())
            .field("reuse", &self.reuse())
            .field("original_name_scope", &self.original_name_scope())
            .finish()
    }
}

impl VariableScope {
    fn new(name: String, reuse: Reuse, defaults: Defaults, name_scope: String) -> VariableScope {
        VariableScope {
            inner: Arc::new(VariableScopeInner {
                name,
                reuse: AtomicU8::new(reuse.to_u8()),
                initializer: defaults.initializer,
                regularizer: defaults.regularizer,
                dtype: defaults.dtype,
                name_scope,
            }),
        }
    }

    fn root() -> VariableScope {
        let defaults = Defaults { initializer: None, regularizer: None, dtype: DType::F32 };
        VariableScope::new(String::new(), Reuse::CreateOnly, defaults, String::new())
    }

    /// The defaults of a scope opened with `spec` inside `self` (or re-entering `self`).
    fn defaults_for(&self, spec: &VarScope) -> Defaults {
        Defaults {
            initializer: spec.initializer.or(self.initializer()),
            regularizer: spec.regularizer.clone().or_else(|| self.regularizer()),
            dtype: spec.dtype.unwrap_or(self.dtype()),
        }
    }

    /// The full name (`foo/bar`; empty for the root).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The reuse flag.
    pub fn reuse(&self) -> Reuse {
        Reuse::from_u8(self.inner.reuse.load(Ordering::Acquire))
    }

    /// The name scope the scope was first opened in, with a trailing `/`
    /// (`ns/vs/`; empty for the root).
    pub fn original_name_scope(&self) -> &str {
        &self.inner.name_scope
    }

    /// The default initializer of variables created inside.
    pub fn initializer(&self) -> Option<Init> {
        self.inner.initializer
    }

    /// The regularizer of variables created inside.
    pub fn regularizer(&self) -> Option<Regularizer> {
        self.inner.regularizer.clone()
    }

    /// The default dtype of variables created inside.
    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    /// Whether both handles are the same scope object.
    pub fn same(&self, other: &VariableScope) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Makes every later `get_variable` in this scope reuse (TF's
    /// `scope.reuse_variables()`).
    pub fn reuse_variables(&self) {
        self.inner.reuse.store(Reuse::ReuseOnly.to_u8(), Ordering::Release);
    }
}

#[derive(Debug, Clone)]
enum Target {
    Name(String),
    Captured(VariableScope),
    Unnamed,
}

/// How to open a variable scope: by name, by a captured scope, or by a
/// default name made unique, plus options.
///
/// ```
/// use varscope::{DType, Init, Reuse, VarScope};
/// let by_name: VarScope = "conv1".into();
/// let numbered = VarScope::default_name("layer"); // layer, layer_1, ...
/// let shared = VarScope::new("tower").reuse(Reuse::Auto).initializer(Init::constant(0.5));
/// # let _ = (by_name, numbered, shared);
/// ```
#[derive(Debug, Clone)]
pub struct VarScope {
    target: Target,
    default_name: Option<String>,
    reuse: Option<Reuse>,
    initializer: Option<Init>,
    regularizer: Option<Regularizer>,
    dtype: Option<DType>,
    auxiliary_name_scope: bool,
}

/// What a variable scope passes on to the variables created inside and to sub-scopes.
struct Defaults {
    initializer: Option<Init>,
    regularizer: Option<Regularizer>,
    dtype: DType,
}

impl VarScope {
    fn with_target(target: Target) -> VarScope {
        VarScope {
            target,
            default_name: None,
            reuse: None,
            initializer: None,
            regularizer: None,
            dtype: None,
            auxiliary_name_scope: true,
        }
    }

    /// A scope with this name, relative to the current one (`""` is the
    /// current scope itself at the root, and makes `foo/` inside `foo`).
    pub fn new(name: impl Into<String>) -> VarScope {
        VarScope::with_target(Target::Name(name.into()))
    }

    /// A scope named `prefix`, made unique among the current scope's
    /// sub-scopes (`layer`, `layer_1`, ...).
    pub fn default_name(prefix: impl Into<String>) -> VarScope {
        VarScope { default_name: Some(prefix.into()), ..VarScope::with_target(Target::Unnamed) }
    }

    /// A captured scope, entered again: variables go to its name wherever it
    /// is entered; its reuse flag, initializer and dtype come with it.
    pub fn reenter(scope: &VariableScope) -> VarScope {
        VarScope::with_target(Target::Captured(scope.clone()))
    }

    /// Also sets a default name; it is ignored when a name or scope is given,
    /// as in TensorFlow.
    pub fn with_default_name(mut self, prefix: impl Into<String>) -> VarScope {
        self.default_name = Some(prefix.into());
        self
    }

    /// Sets the reuse mode. `ReuseOnly` and `Auto` are inherited by
    /// sub-scopes; `CreateOnly` means "inherit", so reuse is never switched off.
    pub fn reuse(mut self, reuse: Reuse) -> VarScope {
        self.reuse = Some(reuse);
        self
    }

    /// Sets the default initializer inside (inherited by sub-scopes).
    pub fn initializer(mut self, init: Init) -> VarScope {
        self.initializer = Some(init);
        self
    }

    /// Sets the regularizer of the variables created inside (inherited by sub-scopes).
    pub fn regularizer(mut self, regularizer: Regularizer) -> VarScope {
        self.regularizer = Some(regularizer);
        self
    }

    /// Sets the default dtype inside (inherited by sub-scopes).
    pub fn dtype(mut self, dtype: DType) -> VarScope {
        self.dtype = Some(dtype);
        self
    }

    /// Whether entering also opens a name scope (default `true`).
    pub fn auxiliary_name_scope(mut self, open: bool) -> VarScope {
        self.auxiliary_name_scope = open;
        self
    }
}

impl From<&str> for VarScope {
    fn from(name: &str) -> VarScope {
        VarScope::new(name)
    }
}

impl From<String> for VarScope {
    fn from(name: String) -> VarScope {
        VarScope::new(name)
    }
}

impl From<&String> for VarScope {
    fn from(name: &String) -> VarScope {
        VarScope::new(name.clone())
    }
}

impl From<&VariableScope> for VarScope {
    fn from(scope: &VariableScope) -> VarScope {
        VarScope::reenter(scope)
    }
}

impl From<VariableScope> for VarScope {
    fn from(scope: VariableScope) -> VarScope {
        VarScope::with_target(Target::Captured(scope))
    }
}

/// What leaving a variable scope does to the `default_name` counters.
enum CountsOnExit {
    /// Entered by name: reset the counters of its sub-scopes.
    CloseSubscopes(String),
    /// Entered by a captured scope: restore the counters as they were on
    /// entry, by undoing the changes logged since (this length of the log).
    Restore(usize),
}

enum Frame {
    Name { old_stack: String },
    Variable { old_stack: String, old_scope: VariableScope, counts: CountsOnExit },
}

/// One thread's view of a [`Graph`]: the current variable scope, the current
/// name scope and the `default_name` counters.
///
/// Create one per thread with [`Graph::scope`]; a new one starts at the root.
/// Scopes open either with an RAII guard ([`Scope::variable_scope`],
/// [`Scope::name_scope`]) that derefs to the `Scope`, or with the low-level
/// [`Scope::push_variable_scope`] / [`Scope::pop_scope`].
///
/// ```
/// use varscope::{Graph, Init, VarScope, VarSpec};
///
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let mut foo = cx.variable_scope(VarScope::new("foo").initializer(Init::constant(0.4)))?;
/// let v = foo.get_variable("v", [1])?;
/// let w = foo.get_variable("w", VarSpec::new().shape([1]).init(Init::constant(0.5)))?;
/// let one = foo.constant(1.0f32)?;
/// let x = foo.add(&one, &v)?;
/// assert_eq!((v.name(), w.name(), x.name()), ("foo/v:0", "foo/w:0", "foo/add:0"));
/// assert_eq!(v.value().to_f64_vec(), vec![0.4f32 as f64]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub struct Scope {
    graph: Graph,
    current: VariableScope,
    name_stack: String,
    /// `default_name` counters by full variable-scope name (absent = 0). A
    /// `BTreeMap`, so a scope's sub-scopes are one range.
    counts: BTreeMap<String, u64>,
    /// Previous values of the counters changed while a captured scope is
    /// open, so leaving it undoes exactly those changes (no copy of the map).
    undo: Vec<(String, Option<u64>)>,
    /// How many frames of captured scopes are open.
    restoring: usize,
    frames: Vec<Frame>,
    /// The explicit name of the next op ([`Scope::named`]); a `Cell`, so ops
    /// take `&self` and compose (`cx.add(&cx.matmul(&x, &w)?, &b)?`).
    pub(crate) next_name: Cell<Option<String>>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("variable_scope", &self.current.name())
            .field("name_scope", &self.name_stack)
            .field("depth", &self.frames.len())
            .finish()
    }
}

impl Graph {
    /// A fresh per-thread context at the root variable scope and root name
    /// scope, with its own `default_name` counters. (Defined here, with the
    /// scope, so the graph needs nothing above it.)
    pub fn scope(&self) -> Scope {
        Scope::new(self.clone())
    }
}

impl Scope {
    pub(crate) fn new(graph: Graph) -> Scope {
        Scope {
            graph,
            current: VariableScope::root(),
            name_stack: String::new(),
            counts: BTreeMap::new(),
            undo: Vec::new(),
            restoring: 0,
            frames: Vec::new(),
            next_name: Cell::new(None),
        }
    }

    /// The graph this scope works on.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The current variable scope object (TF's `get_variable_scope()`).
    pub fn current_variable_scope(&self) -> VariableScope {
        self.current.clone()
    }

    /// The current name scope without a trailing `/` (empty at the root).
    pub fn current_name_scope(&self) -> &str {
        &self.name_stack
    }

    /// How many scopes are open.
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    /// Makes every later `get_variable` in the current variable scope reuse.
    /// It changes the scope object itself, so a captured copy of it reuses too.
    pub fn reuse_variables(&mut self) {
        self.current.reuse_variables();
    }

    /// Opens a variable scope until the returned guard is dropped.
    pub fn variable_scope(&mut self, spec: impl Into<VarScope>) -> Result<ScopeGuard<'_>> {
        let depth = self.frames.len();
        self.push_variable_scope(spec)?;
        Ok(ScopeGuard { scope: self, depth })
    }

    /// Opens a name scope until the returned guard is dropped (see
    /// [`Scope::push_name_scope`] for the meaning of `name`).
    pub fn name_scope(&mut self, name: &str) -> Result<ScopeGuard<'_>> {
        let depth = self.frames.len();
        self.push_name_scope(name)?;
        Ok(ScopeGuard { scope: self, depth })
    }

    /// Opens a name scope and returns its string (`a_1/`). `name` is made
    /// unique graph-wide; a name ending in `/` re-enters that exact scope; `""`
    /// switches to the root. Close it with [`Scope::pop_scope`]. On error
    /// nothing is opened.
    pub fn push_name_scope(&mut self, name: &str) -> Result<String> {
        let old_stack = self.name_stack.clone();
        let returned = self.open_name_scope(name)?;
        self.frames.push(Frame::Name { old_stack });
        Ok(returned)
    }

    /// Opens a variable scope and returns it (what TF's `as` binds). Close it
    /// with [`Scope::pop_scope`]. On error nothing is opened.
    pub fn push_variable_scope(&mut self, spec: impl Into<VarScope>) -> Result<VariableScope> {
        let spec = spec.into();
        let old_stack = self.name_stack.clone();
        let result = self.enter_variable_scope(spec, old_stack.clone());
        if result.is_err() {
            self.name_stack = old_stack;
        }
        result
    }

    /// Closes the innermost open scope of either kind.
    pub fn pop_scope(&mut self) -> Result<()> {
        match self.frames.pop() {
            None => Err(Error::NoOpenScope),
            Some(Frame::Name { old_stack }) => {
                self.name_stack = old_stack;
                Ok(())
            }
            Some(Frame::Variable { old_stack, old_scope, counts }) => {
                match counts {
                    CountsOnExit::CloseSubscopes(name) => {
                        // The keys `name/..` sort between `name/` and `name0`
                        // ('0' follows '/'): only the sub-scopes opened inside.
                        let inside: Vec<String> =
                            self.counts.range(format!("{name}/")..format!("{name}0")).map(|(k, _)| k.clone()).collect();
                        for key in inside {
                            self.set_count(key, None);
                        }
                    }
                    CountsOnExit::Restore(mark) => {
                        while self.undo.len() > mark {
                            let Some((key, old)) = self.undo.pop() else { break };
                            match old {
                                Some(c) => self.counts.insert(key, c),
                                None => self.counts.remove(&key),
                            };
                        }
                        self.restoring -= 1;
                        if self.restoring == 0 {
                            self.undo.clear();
                        }
                    }
                }
                self.current = old_scope;
                self.name_stack = old_stack;
                Ok(())
            }
        }
    }

    fn enter_variable_scope(&mut self, spec: VarScope, old_stack: String) -> Result<VariableScope> {
        let reuse = match spec.reuse {
            None | Some(Reuse::CreateOnly) => None,
            other => other,
        };
        match spec.target.clone() {
            Target::Unnamed => {
                let Some(prefix) = spec.default_name.clone() else {
                    return Err(Error::invalid(
                        "a variable scope needs a name or a default name: use `VarScope::new(name)` or \
                         `VarScope::default_name(prefix)`",
                    ));
                };
                if reuse.is_some() {
                    return Err(Error::invalid(format!(
                        "reuse cannot be set on a scope that only has the default name `{prefix}`: it gets a new \
                         unique name, so there is nothing to reuse; give the scope a name instead"
                    )));
                }
                let returned = self.open_or_keep_name_scope(&prefix, spec.auxiliary_name_scope)?;
                let unique = self.unique_variable_scope_name(&prefix);
                Ok(self.enter_by_name(&unique, None, &spec, Some(returned), old_stack))
            }
            Target::Name(name) => {
                let returned = if !name.is_empty() || !spec.auxiliary_name_scope {
                    Some(self.open_or_keep_name_scope(&name, spec.auxiliary_name_scope)?)
                } else {
                    None
                };
                Ok(self.enter_by_name(&name, reuse, &spec, returned, old_stack))
            }
            Target::Captured(captured) => {
                let last = captured.name().rsplit('/').next().unwrap_or_default().to_string();
                if !last.is_empty() || !spec.auxiliary_name_scope {
                    self.open_or_keep_name_scope(&last, spec.auxiliary_name_scope)?;
                }
                let scope = VariableScope::new(
                    captured.name().to_string(),
                    reuse.unwrap_or(captured.reuse()),
                    captured.defaults_for(&spec),
                    captured.original_name_scope().to_string(),
                );
                self.bump_count(captured.name());
                self.restoring += 1;
                let mark = self.undo.len();
                Ok(self.enter(scope, old_stack, CountsOnExit::Restore(mark)))
            }
        }
    }

    /// TF's `_pure_variable_scope` entered with a string.
    fn enter_by_name(
        &mut self,
        name: &str,
        reuse: Option<Reuse>,
        spec: &VarScope,
        name_scope: Option<String>,
        old_stack: String,
    ) -> VariableScope {
        let old = &self.current;
        let full = if old.name().is_empty() { name.to_string() } else { format!("{}/{name}", old.name()) };
        let scope = VariableScope::new(
            full.clone(),
            reuse.unwrap_or(old.reuse()),
            old.defaults_for(spec),
            name_scope.unwrap_or_else(|| name.to_string()),
        );
        self.bump_count(&full);
        self.enter(scope, old_stack, CountsOnExit::CloseSubscopes(full))
    }

    /// Counts one more entry of the variable scope `name`.
    fn bump_count(&mut self, name: &str) {
        let next = self.counts.get(name).copied().unwrap_or(0) + 1;
        self.set_count(name.to_string(), Some(next));
    }

    /// Sets (or with `None` clears) a counter, logging its old value while a
    /// captured scope is open.
    fn set_count(&mut self, key: String, count: Option<u64>) {
        let old = match count {
            Some(c) => self.counts.insert(key.clone(), c),
            None => self.counts.remove(&key),
        };
        if self.restoring > 0 {
            self.undo.push((key, old));
        }
    }

    fn enter(&mut self, scope: VariableScope, old_stack: String, counts: CountsOnExit) -> VariableScope {
        let old_scope = std::mem::replace(&mut self.current, scope.clone());
        self.frames.push(Frame::Variable { old_stack, old_scope, counts });
        scope
    }

    /// TF's `_get_unique_variable_scope`.
    fn unique_variable_scope_name(&self, prefix: &str) -> String {
        let base = if self.current.name().is_empty() {
            prefix.to_string()
        } else {
            format!("{}/{prefix}", self.current.name())
        };
        let count = |name: &str| self.counts.get(name).copied().unwrap_or(0);
        if count(&base) == 0 {
            return prefix.to_string();
        }
        let mut idx = 1;
        while count(&format!("{base}_{idx}")) > 0 {
            idx += 1;
        }
        format!("{prefix}_{idx}")
    }

    /// Opens a name scope without a frame (the caller's frame restores the
    /// stack) and returns its string.
    fn open_name_scope(&mut self, name: &str) -> Result<String> {
        let (stack, returned) = self.graph.state().name_scope(&self.name_stack, name)?;
        self.name_stack = stack;
        Ok(returned)
    }

    /// With `open`, opens the name scope `name`; otherwise stays in the
    /// current one. Returns the scope string either way.
    fn open_or_keep_name_scope(&mut self, name: &str, open: bool) -> Result<String> {
        if open {
            self.open_name_scope(name)
        } else if self.name_stack.is_empty() {
            Ok(String::new())
        } else {
            Ok(format!("{}/", self.name_stack))
        }
    }

    /// Gets the variable `name` of the current variable scope, or creates it
    /// (TF's `tf.get_variable`).
    ///
    /// Whether it may create or reuse follows the scope's [`Reuse`]. Reusing
    /// checks the shape (if one is given) and the dtype (the given one, else
    /// the scope's). Creating needs a shape; the initializer is the given one,
    /// else the scope's, else TF's default. Name scopes play no part in the
    /// name.
    pub fn get_variable(&self, name: &str, spec: impl Into<VarSpec>) -> Result<Variable> {
        let spec = spec.into();
        // Borrowed, not cloned: a clone of a shared `Arc` is a write to a
        // cache line every thread's lookups would share.
        let scope = &self.current;
        // The full name is joined on the stack when it fits (the common case), so a reusing
        // lookup allocates nothing for it; only creation and errors own a copy.
        let mut buf = [0u8; 256];
        let heap;
        let full: &str = match join_name(&mut buf, scope.name(), name) {
            Some(joined) => joined,
            None => {
                heap = format!("{}/{name}", scope.name());
                &heap
            }
        };
        let dtype = spec.dtype.unwrap_or(scope.dtype());
        let reuse = scope.reuse();
        let graph = &self.graph;
        // The reusing path reads the store alone, so lookups from many
        // threads do not wait for one another.
        let found = graph.store_get(full);
        if let Some(found) = found {
            return reuse_found(full, reuse, spec.shape.as_deref(), dtype, found);
        }
        let full = full.to_string();
        if reuse == Reuse::ReuseOnly {
            let suggestion = graph.state().suggest(&full);
            return Err(Error::NotFound { name: full, suggestion });
        }
        let Some(shape) = spec.shape.clone() else {
            return Err(Error::invalid(format!(
                "variable `{full}` does not exist yet and needs a shape to be created: pass one \
                 (`get_variable(\"{name}\", [..])`), or reuse an existing variable"
            )));
        };
        let init = spec.init.or(scope.initializer()).unwrap_or(Init::default_for(dtype));
        let var = {
            let mut g = graph.state();
            // Another thread may have created it since the lookup above.
            let found = graph.store_get(&full);
            if let Some(found) = found {
                return reuse_found(&full, reuse, spec.shape.as_deref(), dtype, found);
            }
            let var = create_variable(&mut g, graph, "", &full, &shape, dtype, init, spec.trainable)?;
            graph.store_insert(full.clone(), var.clone());
            g.index_store_name(&full);
            var
        };
        if let Some(regularizer) = spec.regularizer.or_else(|| scope.regularizer()) {
            // Its ops go to the exact name scope `<variable>/Regularizer/`, on
            // a scope of its own, so the caller's scope stacks stay untouched.
            let mut cx = graph.scope();
            cx.push_name_scope(&format!("{full}/Regularizer/"))?;
            let loss = regularizer.apply(&mut cx, &var)?;
            graph.state().regularization_losses.push(loss);
        }
        Ok(var)
    }

    /// Creates a plain variable (TF's `tf.Variable`): named by the current
    /// *name* scope, made unique instead of ever being refused, never shared
    /// and not in the `get_variable` store. `None` names it `Variable`. The
    /// spec needs a shape; the initializer defaults to zeros.
    pub fn variable(&self, name: Option<&str>, spec: impl Into<VarSpec>) -> Result<Variable> {
        let spec = spec.into();
        let dtype = spec.dtype.unwrap_or_default();
        let init = spec.init.unwrap_or(Init::Zeros);
        let shape = spec.shape.ok_or_else(|| {
            Error::invalid(format!(
                "plain variable `{}` needs a shape: pass `VarSpec::new().shape(..)`",
                name.unwrap_or("Variable")
            ))
        })?;
        let graph = self.graph.clone();
        let mut g = graph.state();
        create_variable(
            &mut g,
            &graph,
            &self.name_stack,
            name.unwrap_or("Variable"),
            &shape,
            dtype,
            init,
            spec.trainable,
        )
    }

    /// Like [`Scope::variable`], with the initial value computed by `initial`
    /// once the name is taken (TF's callable `initial_value`). If it fails,
    /// the name stays used, as in TensorFlow. `initial` runs without any lock
    /// of the graph held, so it may use the graph (another scope of it, its
    /// variables) freely.
    pub fn variable_with(
        &self,
        name: Option<&str>,
        trainable: bool,
        initial: impl FnOnce(&str) -> Result<crate::Value>,
    ) -> Result<Variable> {
        let graph = self.graph.clone();
        let names = graph.state().variable_names(&self.name_stack, name.unwrap_or("Variable"))?;
        let value = initial(names.label(name.unwrap_or("Variable")))?;
        let mut g = graph.state();
        add_variable(&mut g, &graph, &names, trainable, value)
    }

    /// Gives the next op this explicit name instead of its default one. It is
    /// made unique like a name scope; a name ending in `/` is used exactly.
    ///
    /// ```
    /// # let graph = varscope::Graph::new();
    /// # let mut cx = graph.scope();
    /// let c = cx.named("c").constant(1.0f32)?;
    /// let d = cx.identity(&c)?;
    /// assert_eq!((c.name(), d.name()), ("c:0", "Identity:0"));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn named(&self, name: &str) -> &Scope {
        self.next_name.set(Some(name.to_string()));
        self
    }

    /// The node name of an op that TF names through `name_scope(name)`: the
    /// explicit name if one was set with [`Scope::named`], else `default`, made
    /// unique. An explicit `""` gives `op_type`: at the root when the op has a
    /// Python `wrapper` scope (which `""` resets), else in the current scope
    /// (`_apply_op_helper`'s `name if name else op_type`).
    pub(crate) fn scoped_op_name(
        &self,
        g: &mut GraphState,
        default: &str,
        op_type: &str,
        wrapper: bool,
    ) -> Result<String> {
        let explicit = self.next_name.take();
        let name = match explicit.as_deref() {
            Some("") if !wrapper => op_type,
            Some(name) => name,
            None => default,
        };
        let (stack, returned) = g.name_scope(&self.name_stack, name)?;
        if returned.is_empty() {
            let (stack, _) = g.name_scope("", op_type)?;
            return Ok(stack);
        }
        Ok(stack)
    }

    /// The node name of an op that TF names directly (`Const`): made unique
    /// in the current name scope, or exact when it ends in `/`.
    pub(crate) fn direct_op_name(&self, g: &mut GraphState, default: &str) -> String {
        let name = self.next_name.take().unwrap_or_else(|| default.to_string());
        match name.strip_suffix('/') {
            Some(exact) => exact.to_string(),
            None => g.unique_name(&self.name_stack, &name),
        }
    }
}

/// What `get_variable` (or a plain `variable`) is asked for.
///
/// A shape is needed to create a variable; without one, `get_variable` only
/// looks an existing variable up. Shapes convert directly:
///
/// ```
/// use varscope::{DType, Init, VarSpec};
/// let spec: VarSpec = [5, 5, 32, 32].into();
/// let spec = VarSpec::new().shape([32]).init(Init::constant(0.0)).dtype(DType::F32);
/// # let _ = spec;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VarSpec {
    pub(crate) shape: Option<Vec<usize>>,
    pub(crate) dtype: Option<DType>,
    pub(crate) init: Option<Init>,
    pub(crate) regularizer: Option<Regularizer>,
    pub(crate) trainable: bool,
}

impl Default for VarSpec {
    fn default() -> VarSpec {
        VarSpec::new()
    }
}

impl VarSpec {
    /// No shape (a lookup), the scope's dtype and initializer, trainable.
    pub fn new() -> VarSpec {
        VarSpec { shape: None, dtype: None, init: None, regularizer: None, trainable: true }
    }

    /// A lookup of an existing variable: same as [`VarSpec::new`].
    pub fn lookup() -> VarSpec {
        VarSpec::new()
    }

    /// Sets the shape.
    pub fn shape(mut self, shape: impl AsRef<[usize]>) -> VarSpec {
        self.shape = Some(shape.as_ref().to_vec());
        self
    }

    /// Sets the dtype (default: the scope's, else `float32`).
    pub fn dtype(mut self, dtype: DType) -> VarSpec {
        self.dtype = Some(dtype);
        self
    }

    /// Sets the initializer (default: the scope's, else TF's default).
    pub fn init(mut self, init: Init) -> VarSpec {
        self.init = Some(init);
        self
    }

    /// Sets the regularizer run when `get_variable` creates the variable (default: the
    /// scope's); see [`Regularizer`].
    pub fn regularizer(mut self, regularizer: Regularizer) -> VarSpec {
        self.regularizer = Some(regularizer);
        self
    }

    /// Whether the variable joins the trainable collection (default `true`).
    pub fn trainable(mut self, trainable: bool) -> VarSpec {
        self.trainable = trainable;
        self
    }
}

impl<const N: usize> From<[usize; N]> for VarSpec {
    fn from(shape: [usize; N]) -> VarSpec {
        VarSpec::new().shape(shape)
    }
}

impl From<&[usize]> for VarSpec {
    fn from(shape: &[usize]) -> VarSpec {
        VarSpec::new().shape(shape)
    }
}

impl From<Vec<usize>> for VarSpec {
    fn from(shape: Vec<usize>) -> VarSpec {
        VarSpec { shape: Some(shape), ..VarSpec::new() }
    }
}

/// `prefix/name` (or `name` when `prefix` is empty) written into `buf`, or `None` when it does
/// not fit (then the caller joins it on the heap).
fn join_name<'a>(buf: &'a mut [u8], prefix: &'a str, name: &'a str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(name);
    }
    let len = prefix.len() + 1 + name.len();
    let dst = buf.get_mut(..len)?;
    dst[..prefix.len()].copy_from_slice(prefix.as_bytes());
    dst[prefix.len()] = b'/';
    dst[prefix.len() + 1..].copy_from_slice(name.as_bytes());
    // Two valid strings joined by an ASCII byte are valid UTF-8; this never fails.
    std::str::from_utf8(dst).ok()
}

/// An open scope; dropping it closes the scope (and anything opened inside
/// it and left open). It derefs to the [`Scope`].
pub struct ScopeGuard<'a> {
    scope: &'a mut Scope,
    depth: usize,
}

impl Deref for ScopeGuard<'_> {
    type Target = Scope;
    fn deref(&self) -> &Scope {
        self.scope
    }
}

impl DerefMut for ScopeGuard<'_> {
    fn deref_mut(&mut self) -> &mut Scope {
        self.scope
    }
}

impl Drop for ScopeGuard<'_> {
    fn drop(&mut self) {
        while self.scope.frames.len() > self.depth {
            // Cannot fail: a frame is open.
            let _ = self.scope.pop_scope();
        }
    }
}
