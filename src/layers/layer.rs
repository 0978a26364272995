//! The scoping of TF's legacy `Layer` (`tf_keras/src/legacy_tf_layers/base.py`),
//! which every layer and `LayerRNNCell` shares: the variable scope is
//! captured once (on construction for a named functional layer, else on the
//! first call) and re-entered on every call without a new name scope, and
//! ops go into the name scope the capture opened.

use std::cell::{Cell, RefCell};

use crate::{DType, Error, Result, Reuse, Scope, Tensor, Value, VarScope, VariableScope};

/// An `InvalidArgument` error.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidArgument { message: message.into() }
}

/// A scalar constant of `dtype` (Python's `x` beside a tensor).
pub(crate) fn scalar(cx: &Scope, x: f64, dtype: DType) -> Result<Tensor> {
    cx.constant(Value::filled(dtype, &[], x)?)
}

/// A layer's captured scope and whether it has built its variables.
#[derive(Debug)]
pub(crate) struct LayerScope {
    base: String,
    reuse: bool,
    scope: RefCell<Option<VariableScope>>,
    built: Cell<bool>,
}

impl LayerScope {
    /// A layer whose scope is captured on its first call: `name` (or the
    /// class's `base` name) numbered by `default_name`, or used exactly when
    /// `reuse` is set.
    pub(crate) fn lazy(base: &str, name: Option<&str>, reuse: bool) -> LayerScope {
        let base = name.unwrap_or(base).to_string();
        LayerScope { base, reuse, scope: RefCell::new(None), built: Cell::new(false) }
    }

    /// A functional layer (`tf.compat.v1.layers.dense(.., name=..)`): a name
    /// is captured now, as `variable_scope(name)`, without numbering.
    pub(crate) fn functional(cx: &mut Scope, base: &str, name: Option<&str>, reuse: bool) -> Result<LayerScope> {
        let layer = LayerScope::lazy(base, name, reuse);
        if let Some(name) = name {
            let captured = cx.push_variable_scope(VarScope::new(name))?;
            cx.pop_scope()?;
            *layer.scope.borrow_mut() = Some(captured);
        }
        Ok(layer)
    }

    /// Runs `body` inside the layer's scopes (`Layer.__call__`): captures the
    /// scope if not yet done (in `scope` if given), re-enters it (reusing
    /// once built) and its first name scope.
    pub(crate) fn call<R>(
        &self,
        cx: &mut Scope,
        scope: Option<VarScope>,
        body: impl FnOnce(&mut Scope) -> Result<R>,
    ) -> Result<R> {
        if self.scope.borrow().is_none() {
            let spec = match scope {
                Some(spec) => spec,
                None if self.reuse => VarScope::new(self.base.clone()),
                None => VarScope::default_name(self.base.clone()),
            };
            let captured = cx.push_variable_scope(spec)?;
            cx.pop_scope()?;
            *self.scope.borrow_mut() = Some(captured);
        }
        let captured = self.scope.borrow().clone().ok_or_else(|| invalid("a layer without a scope"))?;
        let mut spec = VarScope::reenter(&captured).auxiliary_name_scope(false);
        if self.built.get() || self.reuse {
            spec = spec.reuse(Reuse::ReuseOnly);
        }
        let entered = cx.push_variable_scope(spec)?;
        let result = match cx.push_name_scope(entered.original_name_scope()) {
            Ok(_) => {
                let r = body(cx);
                cx.pop_scope()?;
                r
            }
            Err(e) => Err(e),
        };
        cx.pop_scope()?;
        if result.is_ok() {
            self.built.set(true);
        }
        result
    }
}
