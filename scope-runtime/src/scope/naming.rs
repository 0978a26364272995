//! How ops are named: an explicit name for the next op, TF's wrapper scopes, direct names.

use super::Scope;
use crate::error::Result;
use crate::graph::GraphState;

impl Scope {
    /// Gives the next op this explicit name instead of its default one. It is
    /// made unique like a name scope; a name ending in `/` is used exactly.
    ///
    /// "Next" is the next op *built*: Rust evaluates `cx.named("y")` before
    /// the arguments of the call it starts, so in `cx.named("y").add(&cx.matmul(a, b)?, c)`
    /// the `MatMul` takes the name. Build nested ops first (`let p = cx.matmul(a, b)?;
    /// cx.named("y").add(&p, c)`).
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
