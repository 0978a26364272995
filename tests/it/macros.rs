//! The DSL (`#[model]`, `scope!`, `var!`) against the runtime: the same model written by hand
//! and through the macros builds the same graph, and a model's manifest lists exactly the
//! variables a run creates.

use varscope::prelude::*;
use varscope::{model, scope};

mod layers {
    use varscope::prelude::*;
    use varscope::{model, var};

    /// A dense layer with a ReLU: two variables, three ops.
    #[model]
    pub fn dense_relu(cx: &mut Scope, input: &Tensor, units: usize) -> Result<Tensor> {
        let weights =
            var!(cx, "weights", [input.shape()[1], units], init = Init::RandomNormal { mean: 0.0, stddev: 1.0 })?;
        let biases = var!(cx, "biases", [units], init = Init::constant(0.1))?;
        let y = cx.matmul(input, &weights)?;
        let y = cx.add(&y, &biases)?;
        cx.relu(&y)
    }

    /// The same layer by hand, against the runtime API.
    pub fn dense_relu_by_hand(cx: &mut Scope, input: &Tensor, units: usize) -> Result<Tensor> {
        let weights = cx.get_variable(
            "weights",
            VarSpec::new().shape([input.shape()[1], units]).init(Init::RandomNormal { mean: 0.0, stddev: 1.0 }),
        )?;
        let biases = cx.get_variable("biases", VarSpec::new().shape([units]).init(Init::constant(0.1)))?;
        let y = cx.matmul(input, &weights)?;
        let y = cx.add(&y, &biases)?;
        cx.relu(&y)
    }
}

/// Two layers in two scopes.
#[model]
fn image_filter(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let h = scope!(cx, "conv1" { layers::dense_relu(cx, input, 4) })?;
    scope!(cx, "conv2" { layers::dense_relu(cx, &h, 3) })
}

fn image_filter_by_hand(cx: &mut Scope, input: &Tensor) -> Result<Tensor> {
    let h = {
        let mut g = cx.variable_scope("conv1")?;
        layers::dense_relu_by_hand(&mut g, input, 4)?
    };
    let mut g = cx.variable_scope("conv2")?;
    layers::dense_relu_by_hand(&mut g, &h, 3)
}

fn inputs(cx: &mut Scope) -> Result<(Tensor, Tensor)> {
    let a = cx.constant(Value::filled(DType::F32, &[2, 5], 0.5))?;
    let b = cx.constant(Value::filled(DType::F32, &[2, 5], -0.25))?;
    Ok((a, b))
}

fn run_with_macros(graph: &Graph) -> Result<(Tensor, Tensor)> {
    let mut cx = graph.scope();
    let cx = &mut cx;
    let (a, b) = inputs(cx)?;
    scope!(cx, "image_filters" {
        let r1 = image_filter(cx, &a)?;
        cx.reuse_variables();
        let r2 = image_filter(cx, &b)?;
        Ok((r1, r2))
    })
}

fn run_by_hand(graph: &Graph) -> Result<(Tensor, Tensor)> {
    let mut cx = graph.scope();
    let (a, b) = inputs(&mut cx)?;
    let mut g = cx.variable_scope("image_filters")?;
    let r1 = image_filter_by_hand(&mut g, &a)?;
    g.reuse_variables();
    let r2 = image_filter_by_hand(&mut g, &b)?;
    Ok((r1, r2))
}

fn summary(graph: &Graph) -> (Vec<(String, Vec<usize>, Vec<f64>)>, Vec<(String, String, Vec<String>)>) {
    let vars = graph
        .global_variables()
        .iter()
        .map(|v| (v.name().to_owned(), v.shape().to_vec(), v.value().to_f64_vec()))
        .collect();
    let nodes = graph.nodes().into_iter().map(|n| (n.name, n.op_type, n.inputs)).collect();
    (vars, nodes)
}

#[test]
fn macros_build_the_same_graph_as_the_runtime_api() -> Result<()> {
    let by_macros = Graph::with_seed(7);
    let (m1, m2) = run_with_macros(&by_macros)?;
    let by_hand = Graph::with_seed(7);
    let (h1, h2) = run_by_hand(&by_hand)?;
    let (macro_vars, macro_nodes) = summary(&by_macros);
    let (hand_vars, hand_nodes) = summary(&by_hand);
    assert_eq!(macro_vars.len(), 4);
    assert_eq!(macro_vars, hand_vars);
    assert_eq!(macro_nodes, hand_nodes);
    assert_eq!((m1.name(), m2.name()), (h1.name(), h2.name()));
    assert_eq!(m1.value().to_f64_vec(), h1.value().to_f64_vec());
    assert_eq!(m2.value().to_f64_vec(), h2.value().to_f64_vec());
    let names: Vec<&str> = macro_vars.iter().map(|v| v.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "image_filters/conv1/weights:0",
            "image_filters/conv1/biases:0",
            "image_filters/conv2/weights:0",
            "image_filters/conv2/biases:0"
        ]
    );
    Ok(())
}

#[test]
fn manifest_lists_the_variables_a_run_creates() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let (a, _) = inputs(&mut cx)?;
    image_filter(&mut cx, &a)?;
    let mut created: Vec<String> = graph.global_variables().iter().map(|v| v.op_name().to_owned()).collect();
    let mut listed: Vec<String> =
        image_filter::MANIFEST.variables().into_iter().filter(|v| v.created()).map(|v| v.name).collect();
    created.sort();
    listed.sort();
    assert_eq!(listed, created);
    Ok(())
}

#[test]
fn manifest_prints_as_a_table() {
    let table = image_filter::MANIFEST.to_string();
    assert!(table.contains("conv1/weights | dynamic"), "{table}");
    assert!(table.contains("conv2/biases"), "{table}");
    assert!(table.contains("calls `dense_relu` in `conv1`"), "{table}");
}
