// Checks: two declarations of one variable with different literal shapes (the reuse would fail
// with a shape mismatch).
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "fc" { var!(cx, "w", [4, 8]) })?;
    scope!(cx, "fc", reuse { var!(cx, "w", [8, 4]) })?;
    Ok(())
}

fn main() {}
