// Checks: a variable name with a `/` is split into scopes for the duplicate check.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "block" { var!(cx, "w", [1]) })?;
    var!(cx, "block/w", [1])?;
    Ok(())
}

fn main() {}
