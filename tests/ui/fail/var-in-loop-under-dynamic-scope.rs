// Checks: a dynamic scope opened outside the loop does not help: the path is fixed across
// iterations.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope, name: &str) -> Result<()> {
    scope!(cx, format!("{name}_block") {
        loop {
            var!(cx, "w", [1])?;
            break;
        }
        Ok(())
    })
}

fn main() {}
