//! The command line the training examples share: `[--steps N] [--out DIR]`.

use std::path::PathBuf;

/// The `--steps` and `--out` arguments, defaulting to `steps` and `out`; anything else is an
/// error that names the two.
pub fn steps_and_out(steps: usize, out: &str) -> Result<(usize, PathBuf), Box<dyn std::error::Error>> {
    let (mut steps, mut out) = (steps, PathBuf::from(out));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--steps" => steps = args.next().ok_or("--steps needs a number")?.parse()?,
            "--out" => out = args.next().ok_or("--out needs a directory")?.into(),
            other => return Err(format!("unknown argument `{other}` (use --steps N, --out DIR)").into()),
        }
    }
    Ok((steps, out))
}
