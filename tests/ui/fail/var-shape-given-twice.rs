// Checks: a shape given positionally and as `shape = ..`.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, "w", shape = [2], [3])?;
    Ok(())
}

fn main() {}
