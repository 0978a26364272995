// Checks: in a `#[checked]` fn, two sibling scopes creating one variable, and one in a loop,
// are reported like in a model body.
use varscope::prelude::*;
use varscope::{checked, scope, var};

#[checked]
fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    scope!(cx, "a" { var!(cx, "w", [1]) })?;
    scope!(cx, "a" { var!(cx, "w", [1]) })?;
    for _ in 0..2 {
        scope!(cx, "b" { var!(cx, "w", [1]) })?;
    }
    Ok(())
}
