// Checks: calls that take the context but are not model calls compile and are left to the
// runtime: an associated fn or constructor (`Dense::new(cx, 3)`), `Scope::reuse_variables(cx)`,
// a call through an `impl`'s type parameter, a closure and a fn-pointer parameter; `var!` on a
// hand-opened guard and on another context; and a model named with a raw identifier.
use varscope::prelude::*;
use varscope::{model, scope, var};

struct Dense;

impl Dense {
    fn new(cx: &mut Scope, n: usize) -> Result<Dense> {
        cx.get_variable("dense_w", [n])?;
        Ok(Dense)
    }
}

trait Layer {
    fn forward(cx: &mut Scope) -> Result<()>;
}

impl Layer for Dense {
    fn forward(cx: &mut Scope) -> Result<()> {
        cx.get_variable("forward_w", [1])?;
        Ok(())
    }
}

struct Net<L>(L);

impl<L: Layer> Net<L> {
    #[model(method)]
    fn build(cx: &mut Scope) -> Result<()> {
        scope!(cx, "net" { L::forward(cx) })
    }
}

#[model]
fn r#type(cx: &mut Scope) -> Result<Variable> {
    var!(cx, "t", [1])
}

#[model]
fn calls(cx: &mut Scope, layer: fn(&mut Scope) -> Result<()>, other: &mut Scope) -> Result<()> {
    scope!(cx, "a" {
        Dense::new(cx, 3)?;
        Scope::reuse_variables(cx);
        Dense::new(cx, 3)?;
        Ok::<(), Error>(())
    })?;
    let f = |cx: &mut Scope| cx.get_variable("c", [1]).map(|_| ());
    f(cx)?;
    layer(cx)?;
    var!(cx, "w", [1])?;
    {
        let mut g = cx.variable_scope("g")?;
        var!(g, "w", [1])?;
    }
    var!(other, "w", [1])?;
    r#type(cx)?;
    Ok(())
}

fn plain(cx: &mut Scope) -> Result<()> {
    cx.get_variable("p", [1])?;
    Ok(())
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let other_graph = Graph::new();
    let mut other = other_graph.scope();
    calls(&mut cx, plain, &mut other)?;
    Net::<Dense>::build(&mut cx)?;
    let mut names: Vec<String> = graph.global_variables().iter().map(|v| v.op_name().to_owned()).collect();
    names.sort();
    assert_eq!(names, ["a/dense_w", "c", "g/w", "net/forward_w", "p", "t", "w"]);
    assert_eq!(other_graph.global_variables().len(), 1);
    dropped()
}

/// `drop(guard)` and other std functions taking the context are no model calls; a context made
/// as `&mut graph.scope()` is a root of a `#[checked]` fn.
#[varscope::checked]
fn dropped() -> Result<()> {
    let graph = Graph::new();
    let cx = &mut graph.scope();
    let g = cx.variable_scope("a")?;
    drop(g);
    std::mem::drop(cx.variable_scope("b")?);
    var!(cx, "w", [1])?;
    Ok(())
}
