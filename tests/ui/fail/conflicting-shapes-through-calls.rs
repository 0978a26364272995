// Checks: a model call that declares a variable with another literal shape than the one an
// earlier call created fails at compile time, also in a reuse scope (at run time: a shape
// mismatch).
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn small(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [3, 3])
}

#[model]
fn big(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [5, 5])
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "layer" { small(cx) })?;
    scope!(cx, "layer", reuse { big(cx) })?;
    Ok(())
}

fn main() {}
