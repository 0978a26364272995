// Checks: `while` loops count as loops too.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope, mut n: usize) -> Result<()> {
    while n > 0 {
        var!(cx, "step", [1])?;
        n -= 1;
    }
    Ok(())
}

fn main() {}
