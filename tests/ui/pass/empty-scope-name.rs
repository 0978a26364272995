// Checks: an empty literal scope name is accepted, as TensorFlow and the runtime accept it; it
// names a path of its own (`outer//w`), so it does not clash with `outer/w`.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "" { var!(cx, "w", [2]) })?;
    var!(cx, "w", [2])?;
    Ok(())
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    scope!(cx, "outer" { net(cx) })?;
    let names: Vec<String> = graph.global_variables().iter().map(|v| v.op_name().to_owned()).collect();
    assert_eq!(names, ["outer//w", "outer/w"]);
    Ok(())
}
