// Checks: two declarations of one variable with different literal dtypes.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "emb" { var!(cx, "table", [10], dtype = DType::F32) })?;
    scope!(cx, "emb", reuse { var!(cx, "table", [10], dtype = DType::F64) })?;
    Ok(())
}

fn main() {}
