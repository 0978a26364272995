// Checks: control flow that makes a second declaration unreachable, or a creation happen once,
// is not refused: a creation followed by `return` in an `if`, a diverging `let .. else`, a
// `loop` that breaks, a creation on the first iteration only, `match` arms, a
// `reuse_variables()` from the second iteration on, and a braced `opaque! { .. }` statement.
use varscope::prelude::*;
use varscope::{model, opaque, scope, var};

#[model]
fn early_return(cx: &mut Scope, flag: bool) -> Result<()> {
    if flag {
        var!(cx, "w", [1])?;
        return Ok(());
    }
    var!(cx, "w", [1])?;
    Ok(())
}

#[model]
fn let_else(cx: &mut Scope, x: Option<usize>) -> Result<()> {
    let Some(_n) = x else {
        var!(cx, "w", [1])?;
        return Ok(());
    };
    var!(cx, "w", [1])?;
    Ok(())
}

#[model]
fn loop_once(cx: &mut Scope) -> Result<()> {
    loop {
        var!(cx, "w", [1])?;
        break;
    }
    Ok(())
}

#[model]
fn first_iteration(cx: &mut Scope) -> Result<()> {
    for t in 0..3 {
        if t == 0 {
            var!(cx, "w", [1])?;
        }
    }
    Ok(())
}

#[model]
fn arms(cx: &mut Scope, k: u8) -> Result<()> {
    match k {
        0 => var!(cx, "w", [1])?,
        _ => var!(cx, "w", [1])?,
    };
    Ok(())
}

#[model]
fn unrolled(cx: &mut Scope) -> Result<()> {
    scope!(cx, "rnn" {
        for t in 0..3 {
            if t > 0 {
                cx.reuse_variables();
            }
            var!(cx, "w", [1])?;
        }
        Ok::<(), Error>(())
    })
}

fn helper(cx: &mut Scope) -> Result<()> {
    cx.get_variable("h", [1])?;
    Ok(())
}

#[model]
fn braced(cx: &mut Scope) -> Result<()> {
    opaque! { helper(cx)? }
    var!(cx, "w", [1])?;
    Ok(())
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    scope!(cx, "a" { early_return(cx, true) })?;
    scope!(cx, "b" { let_else(cx, None) })?;
    scope!(cx, "c" { loop_once(cx) })?;
    scope!(cx, "d" { first_iteration(cx) })?;
    scope!(cx, "e" { arms(cx, 1) })?;
    scope!(cx, "f" { unrolled(cx) })?;
    scope!(cx, "g" { braced(cx) })?;
    assert_eq!(graph.global_variables().len(), 8);
    Ok(())
}
