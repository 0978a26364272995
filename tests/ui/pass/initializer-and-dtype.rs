// Checks: a scope's `initializer` and `dtype` apply to the variables inside it, and `var!`
// options override them.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn net(cx: &mut Scope) -> Result<(Variable, Variable)> {
    scope!(cx, "init", initializer = Init::constant(2.0), dtype = DType::F64 {
        let a = var!(cx, "a", [2])?;
        let b = var!(cx, "b", [2], init = Init::Ones, dtype = DType::F32, trainable = false)?;
        Ok((a, b))
    })
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let (a, b) = net(&mut graph.scope())?;
    assert_eq!(a.dtype(), DType::F64);
    assert_eq!(a.value().to_f64_vec(), vec![2.0, 2.0]);
    assert_eq!(b.dtype(), DType::F32);
    assert_eq!(b.value().to_f64_vec(), vec![1.0, 1.0]);
    assert!(!b.trainable());
    Ok(())
}
