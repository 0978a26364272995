// Checks: a `#[model]` fn declared inside a fn body cannot get its manifest module (a module
// in a block sees only the enclosing module); the error names the fix: move it out.
use varscope::prelude::*;
use varscope::{model, var};

fn main() -> Result<()> {
    #[model]
    fn layer(cx: &mut Scope) -> Result<Variable> {
        var!(cx, "w", [2])
    }
    let graph = Graph::new();
    layer(&mut graph.scope())?;
    Ok(())
}
