// Checks: if/else arms are exclusive with each other, but not with what follows the `if`.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope, wide: bool) -> Result<()> {
    if wide {
        var!(cx, "w", [8])?;
    } else {
        var!(cx, "w", [8])?;
    }
    var!(cx, "w", [8])?;
    Ok(())
}

fn main() {}
