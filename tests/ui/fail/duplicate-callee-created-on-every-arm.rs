// Checks: a variable a callee creates on every arm of a `match` (or `if`/`else`) is created,
// and a later creation in the caller's scope is a duplicate.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn layer(cx: &mut Scope, k: u8) -> Result<()> {
    match k {
        0 => var!(cx, "m", [1])?,
        _ => var!(cx, "m", [1])?,
    };
    if k > 3 {
        var!(cx, "n", [1])?;
    } else {
        var!(cx, "n", [1])?;
    }
    Ok(())
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    layer(cx, 0)?;
    var!(cx, "m", [1])?;
    var!(cx, "n", [1])?;
    Ok(())
}

fn main() {}
