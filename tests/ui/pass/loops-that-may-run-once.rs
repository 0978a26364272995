// Checks: a loop body that may run only once (or not at all) is not refused for creating a
// variable: a `while` loop, a `for` loop over one element or over a count or collection
// known only at run time, a loop that breaks or returns, an iteration that `continue`s
// before the creation, a loop around a user macro (which may expand to `break`), and a literal
// loop around a loop that may not run.
use varscope::prelude::*;
use varscope::{model, scope, var};

#[model]
fn while_loop(cx: &mut Scope, mut n: usize) -> Result<()> {
    while n > 0 {
        var!(cx, "step", [1])?;
        n -= 1;
    }
    Ok(())
}

#[model]
fn one_element(cx: &mut Scope, a: usize) -> Result<()> {
    for _ in [a] {
        var!(cx, "w", [1])?;
    }
    for _ in 0..1 {
        var!(cx, "v", [1])?;
    }
    Ok(())
}

#[model]
fn unknown_count(cx: &mut Scope, n: usize, names: &[&str]) -> Result<()> {
    for _ in 0..n {
        var!(cx, "w", [1])?;
    }
    for _ in names {
        var!(cx, "v", [1])?;
    }
    for _ in names.iter().take(2) {
        var!(cx, "u", [1])?;
    }
    Ok(())
}

#[model]
fn leaves_early(cx: &mut Scope, stop: bool) -> Result<()> {
    loop {
        var!(cx, "w", [1])?;
        break;
    }
    for _ in 0..3 {
        var!(cx, "v", [1])?;
        if stop {
            break;
        }
    }
    for _ in 0..3 {
        var!(cx, "u", [1])?;
        return Ok(());
    }
    Ok(())
}

macro_rules! stop {
    () => {
        break
    };
}

#[model]
fn user_macro_may_break(cx: &mut Scope) -> Result<()> {
    for t in 0..3 {
        var!(cx, "w", [1])?;
        if t != 5 {
            stop!();
        }
    }
    Ok(())
}

#[model]
fn first_iteration_only(cx: &mut Scope) -> Result<()> {
    for t in 0..3 {
        if t > 0 {
            continue;
        }
        var!(cx, "w", [1])?;
    }
    Ok(())
}

#[model]
fn inner_may_not_run(cx: &mut Scope, names: &[&str]) -> Result<()> {
    scope!(cx, "outer" {
        for _ in 0..3 {
            for _ in names {
                var!(cx, "w", [1])?;
            }
        }
        Ok(())
    })
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    scope!(cx, "a" { while_loop(cx, 1) })?;
    scope!(cx, "b" { one_element(cx, 7) })?;
    scope!(cx, "c" { unknown_count(cx, 1, &["x"]) })?;
    scope!(cx, "d" { leaves_early(cx, true) })?;
    scope!(cx, "e" { first_iteration_only(cx) })?;
    scope!(cx, "f" { inner_may_not_run(cx, &[]) })?;
    scope!(cx, "j" { user_macro_may_break(cx) })?;
    let names: Vec<String> = graph.global_variables().iter().map(|v| v.op_name().to_owned()).collect();
    assert_eq!(
        names,
        ["a/step", "b/w", "b/v", "c/w", "c/v", "c/u", "d/w", "d/v", "d/u", "e/w", "j/w"],
    );
    // The same loops running twice fail at run time, as TensorFlow does.
    assert!(scope!(cx, "g" { while_loop(cx, 2) }).is_err());
    assert!(scope!(cx, "h" { unknown_count(cx, 2, &[]) }).is_err());
    assert!(scope!(cx, "i" { inner_may_not_run(cx, &["x"]) }).is_err());
    Ok(())
}
