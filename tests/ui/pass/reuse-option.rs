// Checks: `scope!(cx, "name", reuse { .. })` re-opens a scope to share its variables, and a
// model called in a reuse scope shares too.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn layer(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [2])
}

#[model]
fn net(cx: &mut Scope) -> Result<bool> {
    let a = scope!(cx, "fc" { layer(cx) })?;
    let b = scope!(cx, "fc", reuse { layer(cx) })?;
    let c = scope!(cx, "fc", reuse { var!(cx, "w") })?;
    Ok(a.same(&b) && b.same(&c))
}

fn main() -> Result<()> {
    let graph = Graph::new();
    assert!(net(&mut graph.scope())?);
    assert_eq!(graph.global_variables().len(), 1);
    Ok(())
}
