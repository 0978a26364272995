// Checks: messages that say what to write: an option before the name, a missing comma, and
// `#[model(opaque = true)]`.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, shape = [1], "w")?;
    Ok(())
}

#[model]
fn comma(cx: &mut Scope) -> Result<()> {
    var!(cx, "w" [1])?;
    Ok(())
}

#[model(opaque = true)]
fn marked(cx: &mut Scope) -> Result<()> {
    var!(cx, "w", [1])?;
    Ok(())
}

fn main() {}
