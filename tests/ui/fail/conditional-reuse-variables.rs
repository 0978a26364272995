// Checks: a `reuse_variables()` that may not run (in an `if`) or that switches a sub-scope
// only cannot silence an error that happens whatever it does: a shape conflict, a duplicate
// next to the sub-scope, a loop whose reuse is in a sub-scope.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope, flag: bool) -> Result<()> {
    scope!(cx, "s" {
        var!(cx, "w", [1])?;
        if flag {
            cx.reuse_variables();
        }
        var!(cx, "w", [2])
    })?;
    scope!(cx, "t" {
        var!(cx, "w", [1])?;
        scope!(cx, "sub" { cx.reuse_variables() });
        var!(cx, "w", [1])
    })?;
    scope!(cx, "u" {
        for _ in 0..2 {
            scope!(cx, "sub" { cx.reuse_variables() });
            var!(cx, "w", [1])?;
        }
        Ok::<(), Error>(())
    })?;
    Ok(())
}

fn main() {}
