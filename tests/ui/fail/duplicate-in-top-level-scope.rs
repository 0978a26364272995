// Checks: a `scope!` outside any model checks the model calls in its body too.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn layer(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "weights", [3])
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let cx = &mut cx;
    scope!(cx, "image_filters" {
        layer(cx)?;
        layer(cx)?;
        Ok(())
    })
}
