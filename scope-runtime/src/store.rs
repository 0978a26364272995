//! The variable store: the only place that creates variables. It looks
//! existing ones up for reuse, takes a new variable's names as TF's
//! `RefVariable._init_from_args` does, draws its value from its own stream and
//! adds its node. Scopes decide the full name and the reuse mode; the store
//! never sees a scope.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::graph::{Graph, GraphState};
use crate::init::Init;
use crate::tensor::Origin;
use crate::variable::Variable;

/// Whether `get_variable` creates, reuses, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reuse {
    /// Create only: asking for an existing variable is an error (TF's
    /// `reuse=False`). As a scope option it means "inherit".
    #[default]
    CreateOnly,
    /// Reuse only: asking for a missing variable is an error (TF's `reuse=True`).
    ReuseOnly,
    /// Create the variable if it is missing, else reuse it (TF's `AUTO_REUSE`).
    Auto,
}

impl Reuse {
    /// TF's spelling of the flag: `false`, `true` or `auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reuse::CreateOnly => "false",
            Reuse::ReuseOnly => "true",
            Reuse::Auto => "auto",
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_u8(x: u8) -> Reuse {
        match x {
            1 => Reuse::ReuseOnly,
            2 => Reuse::Auto,
            _ => Reuse::CreateOnly,
        }
    }
}

/// The reusing answer of `get_variable` for the existing variable `found`.
pub(crate) fn reuse_found(
    full: &str,
    reuse: Reuse,
    shape: Option<&[usize]>,
    dtype: DType,
    found: Variable,
) -> Result<Variable> {
    // The name is copied only into an error: the reusing path allocates nothing here.
    if reuse == Reuse::CreateOnly {
        return Err(Error::AlreadyExists { name: full.to_string() });
    }
    if let Some(shape) = shape
        && shape != found.shape()
    {
        return Err(Error::ShapeMismatch {
            name: full.to_string(),
            requested: shape.to_vec(),
            found: found.shape().to_vec(),
        });
    }
    if dtype != found.dtype() {
        return Err(Error::DTypeMismatch { name: full.to_string(), requested: dtype, found: found.dtype() });
    }
    Ok(found)
}

/// Creates a variable named by the name scope `name` opened at `stack`; its
/// random values come from the stream of (graph seed, its full name).
#[allow(clippy::too_many_arguments)]
pub(crate) fn create_variable(
    g: &mut GraphState,
    graph: &Graph,
    stack: &str,
    name: &str,
    shape: &[usize],
    dtype: DType,
    init: Init,
    trainable: bool,
) -> Result<Variable> {
    if crate::tensor::checked_len(shape).is_none() {
        // Refused before any name is taken: nothing of it reaches the graph.
        let full = if stack.is_empty() { name.to_string() } else { format!("{stack}/{name}") };
        return Err(crate::tensor::too_large(&format!("variable `{full}`"), shape));
    }
    let names = g.variable_names(stack, name)?;
    let label = names.label(name).to_string();
    let mut rng = crate::init::stream(graph.seed(), &label);
    let value = init.build(&label, shape, dtype, &mut rng)?;
    let var = add_variable(g, graph, &names, trainable, value)?;
    // The ops TF's initializer made inside `<variable>/Initializer/` take their names.
    let (scope, inner) = crate::init::helper_names(&init, shape.iter().product());
    let inner_stack = match scope {
        Some(scope) => g.unique_name(&names.init_stack, scope),
        None => names.init_stack,
    };
    for op in inner {
        g.unique_name(&inner_stack, op);
    }
    Ok(var)
}

/// The names TF's `RefVariable._init_from_args` takes for a new variable,
/// before its initial value is built.
pub(crate) struct VariableNames {
    /// The variable's name scope (`foo/v`; empty for the name `""`).
    var_stack: String,
    /// What the variable's name scope returned (`foo/v/`, or `""`).
    returned: String,
    /// `<variable>/Initializer`.
    init_stack: String,
}

impl VariableNames {
    /// The name the variable is known by in messages and streams.
    pub(crate) fn label<'a>(&'a self, name: &'a str) -> &'a str {
        if self.var_stack.is_empty() { name } else { &self.var_stack }
    }
}

impl GraphState {
    /// Opens the name scope `name` at `stack` (taken even if a later step
    /// fails) and `<name>/Initializer` inside it.
    pub(crate) fn variable_names(&mut self, stack: &str, name: &str) -> Result<VariableNames> {
        let (var_stack, returned) = self.name_scope(stack, name)?;
        let (init_stack, _) = self.name_scope(&var_stack, "Initializer")?;
        Ok(VariableNames { var_stack, returned, init_stack })
    }
}

/// Adds the node of a variable whose names `names` took, and its helper names.
pub(crate) fn add_variable(
    g: &mut GraphState,
    graph: &Graph,
    names: &VariableNames,
    trainable: bool,
    value: crate::Value,
) -> Result<Variable> {
    // `variable_op_v2(name=returned)`: an empty scope (name `""`) names the
    // node by its op type at the root.
    let node = if names.returned.is_empty() { g.name_scope("", "VariableV2")?.0 } else { names.var_stack.clone() };
    g.check_new_node(&node)?;
    let tensor = g.add_node(graph.downgrade(), node, "VariableV2", Vec::new(), Origin::Variable { trainable }, value);
    // `Assign` and `read` are made in the variable's name scope (the root
    // for name `""`), like any op there.
    g.unique_name(&names.var_stack, "Assign");
    g.unique_name(&names.var_stack, "read");
    let var = Variable { tensor };
    g.globals.push(var.clone());
    if trainable {
        g.trainables.push(var.clone());
    }
    Ok(var)
}
