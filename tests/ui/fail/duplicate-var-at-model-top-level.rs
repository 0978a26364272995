// Checks: a duplicate directly in the model's entry scope is found too.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, "bias", [4])?;
    var!(cx, "bias", [4])?;
    Ok(())
}

fn main() {}
