// Checks: a captured `VariableScope` can be re-entered (with `reuse`) through a non-literal
// name, the dynamic escape hatch.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<bool> {
    let (captured, w) = scope!(cx, "enc" {
        let w = var!(cx, "w", [2])?;
        Ok::<_, Error>((cx.current_variable_scope(), w))
    })?;
    let again = scope!(cx, &captured, reuse { var!(cx, "w", [2]) })?;
    Ok(w.same(&again))
}

fn main() -> Result<()> {
    let graph = Graph::new();
    assert!(net(&mut graph.scope())?);
    Ok(())
}
