//! Captured variable scopes (`VariableScope`, what `with tf.variable_scope(..) as vs` binds)
//! and how to open one (`VarScope`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::dtype::DType;
use crate::init::Init;
use crate::regularizer::Regularizer;
use crate::store::Reuse;

pub(super) struct VariableScopeInner {
    pub(super) name: String,
    pub(super) reuse: AtomicU8,
    pub(super) initializer: Option<Init>,
    pub(super) regularizer: Option<Regularizer>,
    pub(super) dtype: DType,
    pub(super) name_scope: String,
}

/// A variable scope as a value (what `with tf.variable_scope(...) as vs` binds).
///
/// Capture it with [`Scope::current_variable_scope`](crate::Scope::current_variable_scope) or from
/// [`Scope::push_variable_scope`](crate::Scope::push_variable_scope), and enter it again anywhere (also in another
/// thread) with [`VarScope::reenter`]. Clones share the reuse flag, which
/// [`Scope::reuse_variables`](crate::Scope::reuse_variables) sets.
#[derive(Clone)]
pub struct VariableScope {
    pub(super) inner: Arc<VariableScopeInner>,
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
    pub(super) fn new(name: String, reuse: Reuse, defaults: Defaults, name_scope: String) -> VariableScope {
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

    pub(super) fn root() -> VariableScope {
        let defaults = Defaults { initializer: None, regularizer: None, dtype: DType::F32 };
        VariableScope::new(String::new(), Reuse::CreateOnly, defaults, String::new())
    }

    /// The defaults of a scope opened with `spec` inside `self` (or re-entering `self`).
    pub(super) fn defaults_for(&self, spec: &VarScope) -> Defaults {
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
pub(super) enum Target {
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
    pub(super) target: Target,
    pub(super) default_name: Option<String>,
    pub(super) reuse: Option<Reuse>,
    pub(super) initializer: Option<Init>,
    pub(super) regularizer: Option<Regularizer>,
    pub(super) dtype: Option<DType>,
    pub(super) auxiliary_name_scope: bool,
}

/// What a variable scope passes on to the variables created inside and to sub-scopes.
pub(super) struct Defaults {
    pub(super) initializer: Option<Init>,
    pub(super) regularizer: Option<Regularizer>,
    pub(super) dtype: DType,
}

impl VarScope {
    pub(super) fn with_target(target: Target) -> VarScope {
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
