// Checks: a model that creates variables, called in a loop in a fixed non-reuse scope, fails
// on the second iteration.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn layer(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [3])
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "stack" {
        for _ in 0..3 {
            layer(cx)?;
        }
        Ok(())
    })
}

fn main() {}
