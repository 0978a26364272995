// Checks: model calls in both arms of an `if` do not conflict with each other, but a later
// call in the same scope conflicts with them.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn layer(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [2])
}

#[model]
fn net(cx: &mut Scope, flag: bool) -> Result<()> {
    if flag {
        layer(cx)?;
    } else {
        layer(cx)?;
    }
    layer(cx)?;
    Ok(())
}

fn main() {}
