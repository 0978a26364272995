// Checks: a `var!` option given twice.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, "w", [2], init = Init::Zeros, init = Init::Ones)?;
    Ok(())
}

fn main() {}
