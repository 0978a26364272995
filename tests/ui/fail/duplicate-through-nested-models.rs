// Checks: duplicates three models deep are found, with the full relative path.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn leaf(cx: &mut Scope) -> Result<Variable> {
    scope!(cx, "leaf" { var!(cx, "w", [2]) })
}

#[model]
fn middle(cx: &mut Scope) -> Result<Variable> {
    scope!(cx, "middle" { leaf(cx) })
}

#[model]
fn top(cx: &mut Scope) -> Result<()> {
    scope!(cx, "top" {
        middle(cx)?;
        middle(cx)?;
        Ok(())
    })
}

fn main() {}
