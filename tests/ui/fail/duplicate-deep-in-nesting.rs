// Checks: a duplicate 40 models below the call that repeats it is still found (no depth at
// which the check gives up silently).
use varscope::prelude::*;
use varscope::{model, var};

macro_rules! chain {
    ($($name:ident => $next:ident),* ; $last:ident) => {
        $(
            #[model]
            fn $name(cx: &mut Scope) -> Result<()> {
                $next(cx)
            }
        )*
        #[model]
        fn $last(cx: &mut Scope) -> Result<()> {
            var!(cx, "deep", [1])?;
            Ok(())
        }
    };
}

chain!(
    a0 => a1, a1 => a2, a2 => a3, a3 => a4, a4 => a5, a5 => a6, a6 => a7, a7 => a8, a8 => a9,
    a9 => a10, a10 => a11, a11 => a12, a12 => a13, a13 => a14, a14 => a15, a15 => a16,
    a16 => a17, a17 => a18, a18 => a19, a19 => a20, a20 => a21, a21 => a22, a22 => a23,
    a23 => a24, a24 => a25, a25 => a26, a26 => a27, a27 => a28, a28 => a29, a29 => a30,
    a30 => a31, a31 => a32, a32 => a33, a33 => a34, a34 => a35, a35 => a36, a36 => a37,
    a37 => a38, a38 => a39; a39
);

#[model]
fn top(cx: &mut Scope) -> Result<()> {
    a0(cx)?;
    a0(cx)?;
    Ok(())
}

fn main() {}
