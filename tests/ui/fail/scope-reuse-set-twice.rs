// Checks: `reuse` and `auto_reuse` together set reuse twice.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a", reuse, auto_reuse { var!(cx, "w", [2]) })?;
    Ok(())
}

fn main() {}
