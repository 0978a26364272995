// Checks: `default_name` with `reuse` is refused (the runtime always refuses it).
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, default_name = "layer", reuse { var!(cx, "w", [1]) })?;
    Ok(())
}

fn main() {}
