// Checks: the seed's headline mistake at the top of `main`: the model called twice without
// reuse. `#[checked]` gives `main` the checks of a model body.
use varscope::prelude::*;
use varscope::{checked, model, scope, var};

#[model]
fn my_image_filter(cx: &mut Scope) -> Result<()> {
    scope!(cx, "conv1" { var!(cx, "weights", [5, 5, 32, 32]) })?;
    Ok(())
}

#[checked]
fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let cx = &mut cx;
    my_image_filter(cx)?;
    my_image_filter(cx)?;
    Ok(())
}
