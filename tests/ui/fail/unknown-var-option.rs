// Checks: an unknown `var!` option names the option and lists the valid ones.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, "w", [2], initializer = Init::Zeros)?;
    Ok(())
}

fn main() {}
