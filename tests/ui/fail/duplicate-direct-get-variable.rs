// Checks: direct runtime calls in a model body are recorded: `cx.get_variable("w", ..)` and a
// scope guard opened by hand (`cx.variable_scope("a")?`).
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    cx.get_variable("d", [1])?;
    var!(cx, "d", [1])?;
    {
        let g = cx.variable_scope("h")?;
        g.get_variable("w", [1])?;
    }
    scope!(cx, "h" { var!(cx, "w", [1]) })?;
    cx.variable_scope("k")?.get_variable("w", [1])?;
    scope!(cx, "k" { var!(cx, "w", [1]) })?;
    Ok(())
}

fn main() {}
