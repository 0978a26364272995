// Checks: a user macro that names the context is a call the checks cannot see into: the
// manifest lists it as not followed, and what follows it may reuse (no duplicate error for a
// variable the macro may have created or switched to reuse).
use varscope::prelude::*;
use varscope::{model, scope, var};

macro_rules! reuse_here {
    ($cx:expr) => {
        $cx.reuse_variables()
    };
}

macro_rules! layer {
    ($cx:expr) => {
        var!($cx, "w", [1])
    };
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "a" {
        var!(cx, "w", [1])?;
        reuse_here!(cx);
        var!(cx, "w", [1])
    })?;
    layer!(cx)?;
    Ok(())
}

fn main() -> Result<()> {
    let graph = Graph::new();
    net(&mut graph.scope())?;
    assert_eq!(graph.global_variables().len(), 2);
    let calls = net::MANIFEST.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls.iter().all(|c| !c.followed), "{calls:?}");
    assert_eq!(calls[1].callee, "layer!");
    let table = net::MANIFEST.to_string();
    assert!(table.contains("calls `reuse_here!` in `a` (line 23) (not followed: checked at run time)"), "{table}");
    Ok(())
}
