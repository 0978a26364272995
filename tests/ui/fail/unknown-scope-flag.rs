// Checks: an unknown bare flag in `scope!`.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a", reuse_all { var!(cx, "w", [2]) })?;
    Ok(())
}

fn main() {}
