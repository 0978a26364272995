// Checks: `default_name` scopes are numbered automatically, so a literal variable inside one
// may repeat in a loop.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for _ in 0..3 {
        let v = scope!(cx, default_name = "layer" { var!(cx, "w", [1]) })?;
        names.push(v.op_name().to_owned());
    }
    Ok(names)
}

fn main() -> Result<()> {
    let graph = Graph::new();
    assert_eq!(net(&mut graph.scope())?, ["layer/w", "layer_1/w", "layer_2/w"]);
    Ok(())
}
