// Checks: a dynamic scope opened outside the loop does not help: the path is fixed across
// iterations.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope, name: &str) -> Result<()> {
    scope!(cx, format!("{name}_block") {
        for _ in 0..2 {
            var!(cx, "w", [1])?;
        }
        Ok(())
    })
}

fn main() {}
