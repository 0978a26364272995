//! Look into and convert checkpoints.
//!
//! ```sh
//! cargo run --release --example checkpoint -- inspect PATH        # JSON of every tensor
//! cargo run --release --example checkpoint -- convert SRC DST     # TF prefix <-> .safetensors
//! ```
//!
//! PATH and SRC are a TF V2 prefix (`dir/model.ckpt-2`), its `.index`, a directory with a
//! `checkpoint` file, or a `.safetensors` file; DST is chosen by its extension. `inspect` prints
//! `{"variables": {"<full name>": {"dtype": "float32", "shape": [..], "value": <nested lists>}}}`
//! with partitioned variables assembled and numbers as Python's `json` writes them.
//!
//! For the interop check (`scripts/interop/check-ckpt.sh`) there are also
//! `save-fixture EXPECTED.json DIR` (rebuild a fixture's model and save it with `Saver` under
//! the fixture's prefix) and `save-fixture-safetensors EXPECTED.json FILE`.

mod fixture;

use std::process::ExitCode;

use varscope::checkpoint::{CheckpointReader, convert, to_json};

const USAGE: &str = "usage: checkpoint inspect PATH | convert SRC DST | save-fixture EXPECTED.json DIR | \
                     save-fixture-safetensors EXPECTED.json FILE";

fn run(args: &[String]) -> Result<(), String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["inspect", path] => {
            let reader = CheckpointReader::open(path).map_err(|e| e.to_string())?;
            print!("{}", to_json(&reader).map_err(|e| e.to_string())?);
            Ok(())
        }
        ["convert", src, dst] => convert(src, dst).map_err(|e| e.to_string()),
        ["save-fixture", expected, dir] => {
            let exp = read_json(expected)?;
            let (_graph, mut saver) = fixture::fixture_graph(&exp);
            let prefix = exp["prefix"].as_str().ok_or("expected.json has no `prefix`")?;
            let (base, step) = match prefix.rsplit_once('-').and_then(|(b, s)| Some((b, s.parse::<u64>().ok()?))) {
                Some((b, s)) => (b, Some(s)),
                None => (prefix, None),
            };
            let written = saver.save(std::path::Path::new(dir).join(base), step).map_err(|e| e.to_string())?;
            println!("{}", written.display());
            Ok(())
        }
        ["save-fixture-safetensors", expected, file] => {
            let exp = read_json(expected)?;
            let (_graph, saver) = fixture::fixture_graph(&exp);
            saver.save_safetensors(file).map_err(|e| e.to_string())
        }
        _ => Err(USAGE.to_string()),
    }
}

fn read_json(path: &str) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("`{path}` is not JSON: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("checkpoint: {e}");
            ExitCode::FAILURE
        }
    }
}
