//! A short run of the sequence example (`examples/sequence/`): `layers::GruCell` under
//! `static_rnn` over the 8 rows of each digit shares one set of TF-named variables, the loss falls and held-out digits
//! are classified far above chance.

use crate::digits;
#[path = "../../examples/sequence/model.rs"]
mod model;
#[path = "../../examples/sequence/train.rs"]
mod train;

use varscope::Graph;

#[test]
fn a_short_run_learns_to_read_digits_row_by_row() {
    let graph = Graph::with_seed(3);
    let (losses, accuracy) = train::train(&graph, 150, |_, _| {}).unwrap();
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let (head, tail) = (mean(&losses[..20]), mean(&losses[130..]));
    assert!(tail < 0.7 * head, "loss {head} -> {tail}");
    assert!(accuracy > 0.3, "held-out accuracy {accuracy}");
    let names: Vec<String> = graph.global_variables().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(
        names,
        [
            "rnn/gru_cell/gates/kernel:0",
            "rnn/gru_cell/gates/bias:0",
            "rnn/gru_cell/candidate/kernel:0",
            "rnn/gru_cell/candidate/bias:0",
            "dense/kernel:0",
            "dense/bias:0"
        ]
    );
    // The compile-time manifest knows the dense layer's; static_rnn is a call it does not follow.
    let known: Vec<String> = model::classify::MANIFEST.variables().iter().map(|v| v.name.to_string()).collect();
    assert_eq!(known, ["dense/kernel", "dense/bias"]);
}
