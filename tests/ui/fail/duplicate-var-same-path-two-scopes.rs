// Checks: `scope!("a") { scope!("b") { w } }` and `scope!("a/b") { w }` name the same variable.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a" { scope!(cx, "b" { var!(cx, "w", [1]) }) })?;
    scope!(cx, "a/b" { var!(cx, "w", [1]) })?;
    Ok(())
}

fn main() {}
