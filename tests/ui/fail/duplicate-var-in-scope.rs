// Checks: the same literal variable declared twice in one non-reuse scope is an error on the
// second declaration, naming the full path, with a note on the first.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "conv1" {
        var!(cx, "weights", [3, 3])?;
        var!(cx, "weights", [3, 3])?;
        Ok(())
    })
}

fn main() {}
