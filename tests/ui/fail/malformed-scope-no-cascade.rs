// Checks: a malformed `scope!(..)?` reports its own error only: the body still expands, so
// the value's type flows on and no follow-on errors appear.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    let w = scope!(cx, "a" "b" { var!(cx, "w", [1]) })?;
    let _ = w.name();
    scope!(cx, "c", bogus bogus { var!(cx, "w", [1]) })?;
    Ok(())
}

fn main() {}
