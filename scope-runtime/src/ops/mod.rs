//! Ops: computed eagerly on `ndarray` and recorded in the graph.
//!
//! Every op goes through `Scope::record_op`, which follows TensorFlow's
//! order of events: the name is taken first (so a refused op still uses up
//! its name), then the inputs' dtypes are validated, then the node name is
//! checked (valid, not a duplicate), then the value is computed (shape errors),
//! and finally the node is recorded with its inputs.
//!
//! Op methods live on [`Scope`]; an explicit name is given with
//! [`Scope::named`].

mod basic;

pub use basic::broadcast_shapes;

use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::tensor::{Origin, Tensor, Value};

/// How TensorFlow names an op.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Naming {
    /// Through `name_scope(name, default)` and `_apply_op_helper`, as almost
    /// every op: `op_type` is the name used if that scope resets to the root.
    Scoped {
        /// The default name (`add`, `MatMul`, ...).
        default: &'static str,
    },
    /// Directly by `Graph.unique_name`, as `tf.constant`.
    Direct {
        /// The default name (`Const`).
        default: &'static str,
    },
}

impl Scope {
    /// Records an op: names it, validates its inputs, checks the node name,
    /// computes its value and adds the node.
    ///
    /// `validate` and `compute` get the full node name, for error messages.
    pub(crate) fn record_op(
        &mut self,
        naming: Naming,
        op_type: &'static str,
        inputs: &[&Tensor],
        validate: impl FnOnce(&str) -> Result<()>,
        compute: impl FnOnce(&str) -> Result<Value>,
    ) -> Result<Tensor> {
        let graph = self.graph().clone();
        let graph_id = graph.id();
        let node = {
            let mut g = graph.state();
            if let Some(foreign) = inputs.iter().find(|t| t.graph_id() != graph_id) {
                self.next_name = None;
                return Err(Error::invalid(format!(
                    "input `{}` of a {op_type} op belongs to another graph: build every input in this graph",
                    foreign.name()
                )));
            }
            let node = match naming {
                Naming::Scoped { default } => self.scoped_op_name(&mut g, default, op_type)?,
                Naming::Direct { default } => self.direct_op_name(&mut g, default),
            };
            drop(g);
            validate(&node)?;
            graph.state().check_new_node(&node)?;
            node
        };
        let value = compute(&node)?;
        let mut g = graph.state();
        // Another thread may have taken an exact name meanwhile.
        g.check_new_node(&node)?;
        let inputs = inputs.iter().map(|t| (*t).clone()).collect();
        Ok(g.add_node(graph_id, node, op_type, inputs, Origin::Op, value))
    }
}

/// Refuses two inputs of different dtypes.
pub(crate) fn same_dtype(op: &'static str, node: &str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(Error::IncompatibleDTypes { op, node: node.to_string(), lhs: a.dtype(), rhs: b.dtype() });
    }
    Ok(())
}
