// Checks: `#[model]` applies to functions only.
use varscope::model;

#[model]
struct Net {
    width: usize,
}

fn main() {}
