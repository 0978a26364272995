// Checks: a variable name TensorFlow refuses (a space).
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    var!(cx, "my weights", [2])?;
    Ok(())
}

fn main() {}
