// Checks: `format!` scope names and non-literal variable names are the dynamic escape hatch:
// checked at run time only.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope, depth: usize) -> Result<usize> {
    for i in 0..depth {
        scope!(cx, format!("layer{i}") { var!(cx, "w", [1]) })?;
        let name = format!("extra{i}");
        var!(cx, name, [1])?;
    }
    Ok(cx.graph().global_variables().len())
}

fn main() -> Result<()> {
    let graph = Graph::new();
    assert_eq!(net(&mut graph.scope(), 3)?, 6);
    Ok(())
}
