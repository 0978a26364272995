// Checks: a `#[model]` fn must take the context first.
use varscope::prelude::*;
use varscope::model;

#[model]
fn net(x: (f32, f32)) -> Result<()> {
    let _ = x;
    Ok(())
}

fn main() {}
