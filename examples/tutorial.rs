//! The seed tutorial's variable-scope examples, replayed on varscope.
//!
//! ```text
//! cargo run --example tutorial
//! ```

use varscope::{Graph, Init, Result, Reuse, VarScope, VarSpec};

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();

    // with tf.variable_scope("foo"): v = tf.get_variable("v", [1])
    let v = cx.variable_scope("foo")?.get_variable("v", [1])?;
    println!("foo/v                     -> {}", v.name());

    // Nested scopes compose like directories.
    {
        let mut foo_scope = cx.variable_scope("foo")?;
        let bar = foo_scope.variable_scope("bar")?;
        println!("foo/bar/v                 -> {}", bar.get_variable("v", [1])?.name());
    }

    // Asking for foo/v again without reuse is an error...
    let err = cx.variable_scope("foo")?.get_variable("v", [1]).unwrap_err();
    println!("foo/v again, no reuse     -> error: {err}");
    // ...and so is reusing a variable that was never created.
    let err = cx.variable_scope(VarScope::new("bar").reuse(Reuse::ReuseOnly))?.get_variable("v", [1]).unwrap_err();
    println!("bar/v with reuse          -> error: {err}");

    // reuse=True hands back the very same variable.
    let v1 = cx.variable_scope(VarScope::new("foo").reuse(Reuse::ReuseOnly))?.get_variable("v", [1])?;
    println!("foo/v with reuse          -> {} (same object: {})", v1.name(), v1.same(&v));

    // reuse_variables() part-way through a scope.
    {
        let mut s = cx.variable_scope("baz")?;
        let a = s.get_variable("v", [1])?;
        s.reuse_variables();
        let b = s.get_variable("v", [1])?;
        println!("baz/v after reuse_variables -> {} (same object: {})", b.name(), a.same(&b));
    }

    // Initializers are inherited by sub-scopes and can be overridden.
    {
        let mut foo_scope = cx.variable_scope(VarScope::new("init").initializer(Init::constant(0.4)))?;
        let v = foo_scope.get_variable("v", [1])?;
        let w = foo_scope.get_variable("w", VarSpec::new().shape([1]).init(Init::constant(0.5)))?;
        let v1 = foo_scope.variable_scope("bar")?.get_variable("v", [1])?;
        let v2 =
            foo_scope.variable_scope(VarScope::new("baz").initializer(Init::constant(0.6)))?.get_variable("v", [1])?;
        for var in [&v, &w, &v1, &v2] {
            println!(
                "{:<25} -> {:?}",
                var.name(),
                var.value().to_f64_vec().iter().map(|x| *x as f32).collect::<Vec<_>>()
            );
        }
    }

    // Name scopes name ops, not get_variable variables.
    {
        let mut foo_scope = cx.variable_scope("ops")?;
        let bar = foo_scope.name_scope("bar")?;
        let v = bar.get_variable("v", [1])?;
        let one = bar.constant(1.0f32)?;
        let x = bar.add(&one, &v)?;
        println!("variable in name scope    -> {}", v.name());
        println!("op in name scope          -> {}", x.name());
    }

    println!(
        "\nglobal variables: {}",
        graph.global_variables().iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
