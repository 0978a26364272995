// Checks: a scope name TensorFlow refuses (`'a b' is not a valid scope name`).
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a b" { var!(cx, "w", [2]) })?;
    Ok(())
}

fn main() {}
