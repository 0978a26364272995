// Checks: a loop that provably runs at least twice (an array literal of two elements, an
// inclusive literal range, a `loop` that never breaks, a literal loop around a loop that
// runs once) creating a literal-named variable in a fixed non-reuse scope; and a creation in
// a loop that surely runs once counts after the loop.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn array_of_two(cx: &mut Scope, a: usize, b: usize) -> Result<()> {
    for _ in [a, b] {
        var!(cx, "w", [1])?;
    }
    Ok(())
}

#[model]
fn inclusive_range(cx: &mut Scope) -> Result<()> {
    for _ in (1..=2).rev() {
        var!(cx, "w", [1])?;
    }
    Ok(())
}

#[model]
fn endless(cx: &mut Scope) -> Result<()> {
    loop {
        var!(cx, "w", [1])?;
    }
}

#[model]
fn nested(cx: &mut Scope, a: usize) -> Result<()> {
    for _ in 0..2 {
        for _ in &[a] {
            var!(cx, "w", [1])?;
        }
    }
    Ok(())
}

#[model]
fn after_a_loop_that_runs_once(cx: &mut Scope, a: usize) -> Result<()> {
    for _ in [a] {
        var!(cx, "w", [1])?;
    }
    var!(cx, "w", [1])?;
    Ok(())
}

fn main() {}
