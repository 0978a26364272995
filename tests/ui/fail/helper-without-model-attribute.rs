// Checks: a plain helper that takes the context first is taken for a model call and has no
// manifest; the error points at the call (the fix: `#[model]`/`#[model(opaque)]` on the helper,
// or `opaque!(helper(cx, ..))` at the call).
use varscope::prelude::*;
use varscope::model;

fn helper(cx: &mut Scope) -> Result<Variable> {
    cx.get_variable("w", [2])
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    helper(cx)?;
    Ok(())
}

fn main() {}
