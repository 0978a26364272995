// Checks: `reuse_variables()` at a model's top level would switch the caller's scope, so it is
// refused with the fix.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    cx.reuse_variables();
    var!(cx, "w", [2])?;
    Ok(())
}

fn main() {}
