// Checks: a third positional argument to `var!`.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, "w", [2], Init::Zeros)?;
    Ok(())
}

fn main() {}
