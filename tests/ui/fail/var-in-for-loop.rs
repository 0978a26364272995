// Checks: a literal-named variable in a loop body, in a non-reuse literal scope.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "rnn" {
        for _ in 0..4 {
            var!(cx, "cell", [16])?;
        }
        Ok(())
    })
}

fn main() {}
