// Checks: every malformed invocation of one model is reported in one compile, and nothing else
// (the model still expands, so there are no follow-on errors about types or missing items).
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "a", [1], colour = 3)?;
    scope!(cx, "b", dtype = DType::F32, dtype = DType::F64 { var!(cx, "c", [1]) })?;
    var!(cx, "bad name", [1])?;
    var!(cx)
}

fn main() {}
