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

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::ops::{Deref, DerefMut};

use crate::error::{Error, Result};
use crate::graph::{FxBuild, Graph};
use crate::store::Reuse;
use crate::tensor::Tensor;
use crate::variable::Variable;

mod captured;
mod naming;
mod variables;

pub use captured::{VarScope, VariableScope};
pub use variables::VarSpec;

use captured::Target;

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
    /// The control inputs every op recorded now gets
    /// ([`Scope::control_dependencies`]).
    pub(crate) control: RefCell<Vec<Tensor>>,
    /// The store's variables this scope has looked up, by full name: the store never
    /// replaces or removes one, so a reusing `get_variable` finds it here without the
    /// store's lock (two atomic operations on a line all threads share) or a second hash.
    pub(crate) seen: RefCell<HashMap<String, Variable, FxBuild>>,
    /// Where `get_variable` joins a full name (kept, so a lookup allocates nothing).
    pub(crate) name_buf: RefCell<String>,
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
            control: RefCell::new(Vec::new()),
            seen: RefCell::new(HashMap::default()),
            name_buf: RefCell::new(String::new()),
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
