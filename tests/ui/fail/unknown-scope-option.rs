// Checks: an unknown `scope!` option names the option and lists the valid ones.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a", partitioner = 0.1 { var!(cx, "w", [2]) })?;
    Ok(())
}

fn main() {}
