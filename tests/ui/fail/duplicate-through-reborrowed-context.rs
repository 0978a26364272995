// Checks: a call with a reborrowed context (`&mut *cx`) is a model call like `layer(cx)`.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn layer(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [2])
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    layer(&mut *cx)?;
    layer(cx)?;
    Ok(())
}

fn main() {}
