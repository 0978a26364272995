// Checks: two reuse declarations of one variable with different literal shapes, through
// calls: whichever shape the variable has, one of them fails.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn small(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [3])
}

#[model]
fn big(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "w", [5])
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a", reuse { small(cx) })?;
    scope!(cx, "a", reuse { big(cx) })?;
    Ok(())
}

fn main() {}
