// Checks: `if`/`else` and `match` arms are exclusive: the same variable or model call in two
// arms is no error.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn layer(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [2])
}

#[model]
fn net(cx: &mut Scope, kind: u8) -> Result<Variable> {
    if kind == 0 {
        var!(cx, "v", [1])?;
    } else if kind == 1 {
        var!(cx, "v", [1])?;
    } else {
        var!(cx, "v", [1])?;
    }
    match kind {
        0 => layer(cx),
        1 => layer(cx),
        _ => var!(cx, "w", [2]),
    }
}

fn main() -> Result<()> {
    for kind in 0..3 {
        let graph = Graph::new();
        net(&mut graph.scope(), kind)?;
        assert_eq!(graph.global_variables().len(), 2);
    }
    Ok(())
}
