// Checks: `var!` inside the arguments of std macros (`vec!`, `println!`, `assert!`) is walked
// like any expression, also for a model whose only variable is there.
use varscope::prelude::*;
use varscope::{model, var};

#[model]
fn in_macros(cx: &mut Scope) -> Result<()> {
    let v = vec![var!(cx, "a", [1])?, var!(cx, "a", [1])?];
    println!("{}", var!(cx, "b", [1])?.name());
    assert!(var!(cx, "b", [1]).is_ok());
    drop(v);
    Ok(())
}

#[model]
fn printed(cx: &mut Scope) -> Result<()> {
    println!("{}", var!(cx, "p", [1])?.name());
    Ok(())
}

#[model]
fn twice(cx: &mut Scope) -> Result<()> {
    printed(cx)?;
    printed(cx)?;
    Ok(())
}

fn main() {}
