//! Random sequences of scope, variable and op calls, with hostile names,
//! shapes and dtypes: the runtime must never panic, and closing every scope
//! must bring a thread back to the root.

use varscope::{DType, Graph, Init, Reuse, Scope, Tensor, VarScope, VarSpec, VariableScope};

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn name(&mut self) -> &'static str {
        NAMES[self.below(NAMES.len())]
    }
}

const NAMES: &[&str] = &[
    "a", "A", "foo", "Foo", "a/b", "", "_x", "-y", ".z", "a b", "x/", "k1/", "é", "v\n", "a\\b", "x>y", "Const", "add",
];

fn shape(g: &mut Gen) -> Vec<usize> {
    let rank = g.below(4);
    (0..rank).map(|_| g.below(3)).collect()
}

fn init(g: &mut Gen) -> Init {
    match g.below(7) {
        0 => Init::constant(1.5),
        1 => Init::constant(2),
        2 => Init::Zeros,
        3 => Init::Ones,
        4 => Init::RandomNormal { mean: 0.0, stddev: 1.0 },
        5 => Init::random_uniform(-1.0, 3.0),
        _ => Init::GlorotUniform,
    }
}

fn dtype(g: &mut Gen) -> DType {
    *g.pick(&[DType::F32, DType::F64, DType::I32])
}

fn run(graph: &Graph, seed: u64, steps: usize) {
    let mut g = Gen(seed);
    let mut cx: Scope = graph.scope();
    let mut captured: Vec<VariableScope> = vec![cx.current_variable_scope()];
    let mut tensors: Vec<Tensor> = Vec::new();
    for _ in 0..steps {
        match g.below(12) {
            0 | 1 => {
                let mut spec = match g.below(3) {
                    0 => VarScope::new(g.name()),
                    1 => VarScope::default_name(g.name()),
                    _ => VarScope::reenter(g.pick(&captured)),
                };
                spec = spec.reuse(*g.pick(&[Reuse::CreateOnly, Reuse::ReuseOnly, Reuse::Auto]));
                if g.below(4) == 0 {
                    spec = spec.auxiliary_name_scope(false);
                }
                if g.below(4) == 0 {
                    spec = spec.initializer(init(&mut g)).dtype(dtype(&mut g));
                }
                if let Ok(vs) = cx.push_variable_scope(spec) {
                    captured.push(vs);
                }
            }
            2 => {
                let _ = cx.push_name_scope(g.name());
            }
            3 => {
                let _ = cx.pop_scope();
            }
            4 | 5 => {
                let mut spec = VarSpec::new();
                if g.below(5) != 0 {
                    spec = spec.shape(shape(&mut g));
                }
                if g.below(2) == 0 {
                    spec = spec.dtype(dtype(&mut g)).init(init(&mut g));
                }
                if let Ok(v) = cx.get_variable(g.name(), spec) {
                    tensors.push(v.tensor().clone());
                }
            }
            6 => {
                let name = if g.below(3) == 0 { None } else { Some(g.name()) };
                let spec = VarSpec::new().shape(shape(&mut g)).dtype(dtype(&mut g)).init(init(&mut g));
                if let Ok(v) = cx.variable(name, spec) {
                    tensors.push(v.tensor().clone());
                }
            }
            7 => cx.reuse_variables(),
            _ => {
                if g.below(3) == 0 {
                    cx.named(g.name());
                }
                let result = if tensors.is_empty() || g.below(4) == 0 {
                    cx.constant(1.0f32)
                } else {
                    let a = g.pick(&tensors).clone();
                    let b = g.pick(&tensors).clone();
                    match g.below(5) {
                        0 => cx.add(&a, &b),
                        1 => cx.mul(&a, &b),
                        2 => cx.matmul(&a, &b),
                        3 => cx.relu(&a),
                        _ => cx.identity(&a),
                    }
                };
                if let Ok(t) = result {
                    tensors.push(t);
                }
            }
        }
    }
    while cx.depth() > 0 {
        cx.pop_scope().unwrap();
    }
    assert_eq!(cx.current_name_scope(), "");
    assert_eq!(cx.current_variable_scope().name(), "");
}

#[test]
fn random_call_sequences_never_panic() {
    let (mut variables, mut nodes) = (0, 0);
    for seed in 0..300 {
        let graph = Graph::with_seed(seed);
        run(&graph, seed, 200);
        // Every stored variable is listed exactly once among the globals.
        let globals = graph.global_variables();
        let mut names: Vec<&str> = globals.iter().map(|v| v.name()).collect();
        names.sort_unstable();
        let len = names.len();
        names.dedup();
        assert_eq!(len, names.len(), "seed {seed}: two variables share a name");
        variables += len;
        nodes += graph.nodes().len();
    }
    // The sequences really reach the success paths, not only the errors.
    assert!(variables > 1000 && nodes > 5000, "{variables} variables, {nodes} nodes");
}

#[test]
fn random_call_sequences_in_threads_never_panic() {
    let graph = Graph::new();
    std::thread::scope(|s| {
        for t in 0..4 {
            let graph = &graph;
            s.spawn(move || run(graph, 1000 + t, 500));
        }
    });
}
