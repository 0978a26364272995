// Checks: `#[model]` on an associated fn whose body names `Self` (a constructor taking the
// context, `Ok(Self { .. })`) needs no `(method)`: it gets the in-body checks and no manifest.
// A free model whose body nests an `impl` naming `Self` is still a model with a manifest.
use varscope::prelude::*;
use varscope::{model, scope, var};

struct Dense {
    w: Variable,
}

impl Dense {
    #[model]
    fn new(cx: &mut Scope, units: usize) -> Result<Dense> {
        Ok(Self { w: var!(cx, "w", [units])? })
    }

    #[model]
    fn twice(cx: &mut Scope) -> Result<(Dense, Dense)> {
        scope!(cx, "pair" {
            let a = Self::new(cx, 2)?;
            cx.reuse_variables();
            Ok::<_, Error>((a, Dense::new(cx, 2)?))
        })
    }
}

#[model]
fn free(cx: &mut Scope) -> Result<()> {
    struct Local;
    impl Local {
        fn make() -> Self {
            Local
        }
    }
    let _ = Local::make();
    var!(cx, "v", [1])?;
    Ok(())
}

fn main() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let mut g = cx.variable_scope("d")?;
    let (a, b) = Dense::twice(&mut g)?;
    assert!(a.w.same(&b.w));
    assert_eq!(a.w.name(), "d/pair/w:0");
    drop(g);
    free(&mut cx)?;
    let names: Vec<String> = free::MANIFEST.variables().into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["v"]);
    Ok(())
}
