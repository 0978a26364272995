// Checks: a literal `dtype =` of a scope is the dtype of the variables declared without one.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a", dtype = DType::F64 { var!(cx, "w", [1]) })?;
    scope!(cx, "a", reuse, dtype = DType::F32 { var!(cx, "w", [1]) })?;
    Ok(())
}

fn main() {}
