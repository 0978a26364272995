// Checks: a variable made by an `auto_reuse` scope exists afterwards, so creating it again in a
// create-only scope fails.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "shared", auto_reuse { var!(cx, "w", [2]) })?;
    scope!(cx, "shared" { var!(cx, "w", [2]) })?;
    Ok(())
}

fn main() {}
