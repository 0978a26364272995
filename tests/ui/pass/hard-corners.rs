// Checks: the hard corners that are supported: a generic model, a call through a type
// parameter (not followed: the runtime checks it), a plain helper called through `opaque!`, a
// `#[model(opaque)]` helper, a model named through a fn-local `use`, a method in an `impl`
// block, direct recursion, mutual recursion with one call marked `opaque!` (without it,
// rustc reports a cycle through a static named after the fix), and a model called from another
// module.
use varscope::prelude::*;
use varscope::{model, opaque, scope, var};

mod layers {
    use varscope::prelude::*;
    use varscope::{model, var};

    #[model]
    pub fn dense(cx: &mut Scope) -> Result<Variable> {
        var!(cx, "kernel", [2, 2])
    }
}

trait Layer {
    fn forward(cx: &mut Scope) -> Result<Variable>;
}

struct Dense;

impl Layer for Dense {
    fn forward(cx: &mut Scope) -> Result<Variable> {
        layers::dense(cx)
    }
}

#[model]
fn generic<L: Layer>(cx: &mut Scope) -> Result<Variable> {
    scope!(cx, "generic" { L::forward(cx) })
}

fn plain_helper(cx: &mut Scope) -> Result<Variable> {
    cx.get_variable("helper_w", [1])
}

#[model(opaque)]
fn marked_helper(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "marked_w", [1])
}

#[model]
fn with_local_use(cx: &mut Scope) -> Result<Variable> {
    use layers::dense;
    scope!(cx, "local" { dense(cx) })
}

struct Net {
    width: usize,
}

impl Net {
    #[model]
    fn build(&self, cx: &mut Scope) -> Result<Variable> {
        scope!(cx, "method" { var!(cx, "w", [self.width]) })
    }
}

#[model]
fn countdown(cx: &mut Scope, n: usize) -> Result<()> {
    if n > 0 {
        scope!(cx, "down" {
            var!(cx, "w", [1])?;
            countdown(cx, n - 1)
        })?;
    }
    Ok(())
}

#[model]
fn ping(cx: &mut Scope, n: usize) -> Result<()> {
    if n > 0 {
        scope!(cx, "ping" { pong(cx, n - 1) })?;
    }
    Ok(())
}

#[model]
fn pong(cx: &mut Scope, n: usize) -> Result<()> {
    var!(cx, "w", [1])?;
    if n > 0 {
        scope!(cx, "pong" { opaque!(ping(cx, n - 1)) })?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let cx = &mut cx;
    generic::<Dense>(cx)?;
    opaque!(plain_helper(cx))?;
    marked_helper(cx)?;
    with_local_use(cx)?;
    Net { width: 3 }.build(cx)?;
    countdown(cx, 3)?;
    ping(cx, 3)?;
    let mut names: Vec<String> =
        graph.global_variables().iter().map(|v| v.op_name().to_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "down/down/down/w",
            "down/down/w",
            "down/w",
            "generic/kernel",
            "helper_w",
            "local/kernel",
            "marked_w",
            "method/w",
            "ping/pong/ping/w",
            "ping/w"
        ]
    );
    assert!(!generic::MANIFEST.to_string().is_empty());
    Ok(())
}
