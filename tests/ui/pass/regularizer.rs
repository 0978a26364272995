// Checks: a scope's `regularizer` runs on every variable created inside it (sub-scopes
// inherit it), a `var!`'s own `regularizer` wins, and reusing runs none.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn dense(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "kernel", [2, 2], init = Init::constant(1.0))?;
    var!(cx, "bias", [2], init = Init::constant(1.0), regularizer = Regularizer::new(|cx, w| cx.add(w, w)))
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "layer", regularizer = Regularizer::l2(0.1) {
        dense(cx)?;
        scope!(cx, "inner" { var!(cx, "w", [1], init = Init::constant(2.0)) })?;
        Ok::<(), Error>(())
    })?;
    scope!(cx, "layer", reuse { dense(cx) })?;
    Ok(())
}

fn main() -> Result<()> {
    let graph = Graph::new();
    net(&mut graph.scope())?;
    let losses = graph.regularization_losses();
    let names: Vec<&str> = losses.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "layer/kernel/Regularizer/l2_regularizer:0",
            "layer/bias/Regularizer/add:0",
            "layer/inner/w/Regularizer/l2_regularizer:0"
        ]
    );
    let values: Vec<f64> = losses.iter().map(|t| t.value().to_f64_vec()[0]).collect();
    // 0.1 * 4 / 2 (rounded in f32), 1 + 1 per element, 0.1 * 4 / 2.
    assert!((values[0] - 0.2).abs() < 1e-6 && (values[2] - 0.2).abs() < 1e-6, "{values:?}");
    assert_eq!(losses[1].value().to_f64_vec(), [2.0, 2.0]);
    Ok(())
}
