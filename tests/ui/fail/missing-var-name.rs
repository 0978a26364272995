// Checks: `var!` without a name.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, init = Init::Zeros)?;
    Ok(())
}

fn main() {}
