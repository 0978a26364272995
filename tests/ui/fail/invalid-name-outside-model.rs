// Checks: `var!` and `scope!` outside a model check literal names too.
use varscope::prelude::*;
use varscope::{scope, var};

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let cx = &mut cx;
    var!(cx, "w:0", [1])?;
    scope!(cx, "layer#1" { Ok(()) })
}
