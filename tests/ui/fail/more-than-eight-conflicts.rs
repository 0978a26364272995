// Checks: every conflict of a body is reported, here ten duplicate calls.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn layer(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [1])
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    layer(cx)?;
    Ok(())
}

fn main() {}
