// Checks: an empty literal scope name.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "" { var!(cx, "w", [2]) })?;
    Ok(())
}

fn main() {}
