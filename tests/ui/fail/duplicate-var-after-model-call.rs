// Checks: a literal variable that a preceding model call already created.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn bias(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "b", [4])
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    bias(cx)?;
    var!(cx, "b", [4])?;
    Ok(())
}

fn main() {}
