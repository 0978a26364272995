// Checks: the forms of the context that rustc's own help suggests are accepted: a `Scope`
// value (`cx`), `&mut cx`, `&mut *cx`, and a scope guard opened by hand.
use varscope::prelude::*;
use varscope::{scope, var};

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    scope!(&mut cx, "a" { var!(cx, "w", [1]) })?;
    var!(&mut cx, "v", [1])?;
    var!(cx, "u", [1])?;
    let mut guard = cx.variable_scope("g")?;
    var!(guard, "w", [1])?;
    let inner = &mut guard;
    var!(&mut *inner, "x", [1])?;
    drop(guard);
    let mut names: Vec<String> = graph.global_variables().iter().map(|v| v.op_name().to_owned()).collect();
    names.sort();
    assert_eq!(names, ["a/w", "g/w", "g/x", "u", "v"]);
    Ok(())
}
