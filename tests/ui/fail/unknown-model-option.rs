// Checks: an unknown `#[model(..)]` option.
use varscope::prelude::*;
use varscope::{model, var};

#[model(inline)]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, "w", [2])?;
    Ok(())
}

fn main() {}
