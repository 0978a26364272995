// Checks: the first argument of `scope!` must be the context variable.
use varscope::prelude::*;
use varscope::scope;

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    scope!(&mut cx, "a" { Ok(()) })
}
