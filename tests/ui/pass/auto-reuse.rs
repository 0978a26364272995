// Checks: `auto_reuse` creates on first use and reuses afterwards, also in a loop.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "shared", auto_reuse {
        for _ in 0..3 {
            var!(cx, "w", [2])?;
        }
        Ok(())
    })
}

fn main() -> Result<()> {
    let graph = Graph::new();
    net(&mut graph.scope())?;
    net(&mut graph.scope())?;
    assert_eq!(graph.global_variables().len(), 1);
    Ok(())
}
