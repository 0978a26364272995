// Checks: `scope!` without a name or `default_name`.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, reuse { var!(cx, "w", [2]) })?;
    Ok(())
}

fn main() {}
