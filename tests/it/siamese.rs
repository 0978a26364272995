//! A short run of the Siamese example (`examples/siamese/`): the loss falls, the held-out digits
//! are classified far above chance, both towers share one set of variables, the loss curve
//! is a PNG, and the checkpoint restores the same embedding in a new graph.

#[path = "../../examples/common/plot.rs"]
mod plot;
#[path = "../../examples/siamese/train.rs"]
mod train;

use crate::digits;
use varscope::checkpoint::Saver;
use varscope::ndarray::Array2;
use varscope::{Graph, ManifestExt, Reuse};

fn digits() -> train::Digits {
    digits::shipped().expect("the digits ship in data/digits")
}

#[test]
fn the_shipped_digits_are_the_uci_test_set() {
    let d = digits();
    assert_eq!(d.labels.len(), 1_797);
    assert_eq!(d.images.dim(), (1_797, train::PIXELS));
    let mut per_class = [0usize; 10];
    d.labels.iter().for_each(|&l| per_class[l] += 1);
    assert!(per_class.iter().all(|&n| (170..=190).contains(&n)), "{per_class:?}");
    assert!(d.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
}

#[test]
fn a_short_training_run_learns_an_embedding_shared_by_both_towers() {
    let (train_set, held_out) = digits().split(1_397);
    let graph = Graph::with_seed(42);
    let mut seen = 0;
    let report = train::train(&graph, &train_set, &held_out, 400, 32, 0.1, |_, _| seen += 1).unwrap();
    assert_eq!(seen, 400);
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let (head, tail) = (mean(&report.losses[..40]), mean(&report.losses[360..]));
    assert!(tail < 0.6 * head, "loss {head} -> {tail}");
    // Ten classes: chance is 10%.
    assert!(report.accuracy > 0.6, "held-out accuracy {}", report.accuracy);
    let names: Vec<String> = graph.global_variables().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(
        names,
        [
            "siamese/hidden/weights:0",
            "siamese/hidden/biases:0",
            "siamese/embedding/weights:0",
            "siamese/embedding/biases:0"
        ]
    );

    let dir = std::env::temp_dir().join(format!("varscope-siamese-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("loss.png");
    plot::loss_curve(&png, "loss", &report.losses, 20).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 5_000, "a plot with lines and text, not an empty image");

    let prefix = Saver::new(&graph).save(dir.join("model.ckpt"), Some(400)).unwrap();
    let report = train::siamese::MANIFEST.check_checkpoint(&prefix).unwrap();
    assert!(report.is_compatible() && report.matched == 4, "{report}");
    // Another program builds the same towers, restores the weights by name, and embeds alike.
    let fresh = Graph::with_seed(1);
    {
        let mut cx = fresh.scope();
        let x = cx.constant(Array2::<f32>::zeros((1, train::PIXELS)).into_dyn()).unwrap();
        train::siamese(&mut cx, &x, &x, Reuse::CreateOnly).unwrap();
    }
    let before = train::embed(&mut fresh.scope(), &held_out).unwrap();
    Saver::new(&fresh).restore(&prefix).unwrap();
    let trained = train::embed(&mut graph.scope(), &held_out).unwrap();
    assert_ne!(before, trained);
    assert_eq!(train::embed(&mut fresh.scope(), &held_out).unwrap(), trained);
    std::fs::remove_dir_all(&dir).unwrap();
}
