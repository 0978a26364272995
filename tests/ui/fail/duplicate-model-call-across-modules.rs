// Checks: a model called through a module path is followed through its manifest.
use varscope::prelude::*;
use varscope::{model, scope};

mod layers {
    use varscope::prelude::*;
    use varscope::{model, var};

    #[model]
    pub fn dense(cx: &mut Scope) -> Result<Variable> {
        var!(cx, "kernel", [4, 4])
    }
}

#[model]
fn net(cx: &mut Scope) -> Result<()> {
    scope!(cx, "fc" {
        layers::dense(cx)?;
        layers::dense(cx)?;
        Ok(())
    })
}

fn main() {}
