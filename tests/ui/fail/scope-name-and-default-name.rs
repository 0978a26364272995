// Checks: a name and `default_name` together.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a", default_name = "layer" { var!(cx, "w", [2]) })?;
    Ok(())
}

fn main() {}
