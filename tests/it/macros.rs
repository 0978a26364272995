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
    let a = cx.constant(Value::filled(DType::F32, &[2, 5], 0.5)?)?;
    let b = cx.constant(Value::filled(DType::F32, &[2, 5], -0.25)?)?;
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

/// Name, shape and values of each variable.
type VarRows = Vec<(String, Vec<usize>, Vec<f64>)>;
/// Name, op type and inputs of each node.
type NodeRows = Vec<(String, String, Vec<String>)>;

fn summary(graph: &Graph) -> (VarRows, NodeRows) {
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

/// An unrolled cell: every step in the loop, none taken out of it (as `examples/sequence` had to
/// before, so that the manifest listed the cell's variables).
#[model]
fn unrolled_in_a_loop(cx: &mut Scope, x: &Tensor, steps: usize) -> Result<Tensor> {
    let row = |cx: &Scope, t: usize| cx.add(x, &cx.constant(t as f32)?);
    scope!(cx, "rnn", auto_reuse {
        let mut h = x.clone();
        for t in 0..steps {
            let x = row(cx, t)?;
            h = scope!(cx, "cell" { layers::dense_relu(cx, &cx.add(&x, &h)?, 5) })?;
        }
        Ok::<_, Error>(h)
    })
}

/// The same cell over a literal count of steps, and over a collection.
#[model]
fn unrolled_over_literal_steps(cx: &mut Scope, xs: &[Tensor]) -> Result<()> {
    scope!(cx, "rnn", auto_reuse {
        for _ in 0..3 {
            scope!(cx, "cell" { layers::dense_relu(cx, &xs[0], 5) })?;
        }
        for x in xs {
            scope!(cx, "other" { layers::dense_relu(cx, x, 5) })?;
        }
        let mut t = 0;
        while t < xs.len() {
            layers::dense_relu(cx, &xs[t], 5)?;
            t += 1;
        }
        loop {
            let h = scope!(cx, "looped" { layers::dense_relu(cx, &xs[0], 5) })?;
            if h.shape()[0] > 0 {
                break;
            }
        }
        Ok::<_, Error>(())
    })
}

#[test]
fn manifest_lists_the_variables_of_calls_in_loops() -> Result<()> {
    let graph = Graph::new();
    let mut cx = graph.scope();
    let x = cx.constant(Value::filled(DType::F32, &[2, 5], 0.5)?)?;
    unrolled_in_a_loop(&mut cx, &x, 4)?;
    let created: Vec<String> = graph.global_variables().iter().map(|v| v.op_name().to_owned()).collect();
    assert_eq!(created, ["rnn/cell/weights", "rnn/cell/biases"]);
    // Each run with at least one step creates them; a run with none does not: listed, marked
    // conditional.
    let listed = unrolled_in_a_loop::MANIFEST.variables();
    let names: Vec<&str> = listed.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["rnn/cell/weights", "rnn/cell/biases"]);
    assert!(listed.iter().all(|v| v.conditional && v.mode == varscope::manifest::Mode::Auto), "{listed:?}");
    let table = unrolled_in_a_loop::MANIFEST.to_string();
    assert!(table.contains("rnn/cell/weights | dynamic | scope | Init::RandomNormal"), "{table}");

    let listed = unrolled_over_literal_steps::MANIFEST.variables();
    let rows: Vec<(&str, bool)> = listed.iter().map(|v| (v.name.as_str(), v.conditional)).collect();
    // `0..3` runs: created for sure; a collection may be empty.
    assert_eq!(
        rows,
        [
            ("rnn/cell/weights", false),
            ("rnn/cell/biases", false),
            ("rnn/other/weights", true),
            ("rnn/other/biases", true),
            ("rnn/weights", true),
            ("rnn/biases", true),
            ("rnn/looped/weights", false),
            ("rnn/looped/biases", false)
        ]
    );
    // A run over one input creates exactly the listed variables.
    let graph = Graph::new();
    let mut cx = graph.scope();
    let x = cx.constant(Value::filled(DType::F32, &[2, 5], 0.5)?)?;
    unrolled_over_literal_steps(&mut cx, &[x])?;
    let mut created: Vec<String> = graph.global_variables().iter().map(|v| v.op_name().to_owned()).collect();
    let mut names: Vec<&str> = rows.iter().map(|r| r.0).collect();
    created.sort();
    names.sort_unstable();
    assert_eq!(created, names);
    Ok(())
}

#[test]
fn manifest_prints_as_a_table() {
    let table = image_filter::MANIFEST.to_string();
    assert!(table.contains("conv1/weights | dynamic"), "{table}");
    assert!(table.contains("conv2/biases"), "{table}");
    assert!(table.contains("calls `dense_relu` in `conv1`"), "{table}");
}

/// Fuzzing of the macro functions on `proc_macro2`: thousands of generated and mutated
/// invocations must give tokens (expansions or compile errors), never a panic.
mod fuzz {
    use proc_macro2::TokenStream;

    /// A small seeded generator (xorshift64*), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.below(xs.len())]
        }
    }

    const NAMES: &[&str] = &[
        "\"w\"",
        "\"weights\"",
        "\"a b\"",
        "\"\"",
        "\"a//b\"",
        "\"/\"",
        "\"x/y\"",
        "\"é\"",
        "name",
        "format!(\"l{i}\")",
        "&captured",
        "1",
        "\"w:0\"",
    ];
    const SHAPES: &[&str] = &["[1, 2]", "[3]", "[]", "shape", "[n, 4]", "vec![1]", "[1, \"x\"]"];
    const VAR_OPTS: &[&str] = &[
        "init = Init::Zeros",
        "dtype = DType::F32",
        "dtype = DType::F64",
        "trainable = false",
        "shape = [2]",
        "colour = 1",
        "init = ",
        "init",
    ];
    const SCOPE_OPTS: &[&str] = &[
        "reuse",
        "auto_reuse",
        "reuse = flag",
        "initializer = Init::Ones",
        "dtype = DType::I32",
        "default_name = \"layer\"",
        "auxiliary_name_scope = false",
        "regularizer = 1",
        "reuse_all",
    ];
    const STMTS: &[&str] = &[
        "cx.reuse_variables();",
        "f(cx)?;",
        "layers::dense(cx)?;",
        "L::forward(cx)?;",
        "self.layer(cx)?;",
        "opaque!(helper(cx))?;",
        "let z = |c: &mut Scope| var!(c, \"w\", [1]);",
        "use layers::dense;",
        "return Ok(());",
        "x;",
    ];

    fn var(rng: &mut Rng) -> String {
        let mut parts = vec!["cx".to_owned()];
        if rng.below(8) != 0 {
            parts.push(rng.pick(NAMES).to_owned());
        }
        if rng.below(2) == 0 {
            parts.push(rng.pick(SHAPES).to_owned());
        }
        for _ in 0..rng.below(3) {
            parts.push(rng.pick(VAR_OPTS).to_owned());
        }
        format!("var!({})", parts.join(", "))
    }

    fn block(rng: &mut Rng, depth: usize) -> String {
        let mut out = String::new();
        for _ in 0..rng.below(5) {
            let stmt = match rng.below(if depth > 3 { 3 } else { 8 }) {
                0 | 1 => format!("{}?;", var(rng)),
                2 => rng.pick(STMTS).to_owned(),
                3 => format!("{}?;", scope(rng, depth + 1)),
                4 => format!("for i in 0..3 {{ {} }}", block(rng, depth + 1)),
                5 => format!("if flag {{ {} }} else {{ {} }}", block(rng, depth + 1), block(rng, depth + 1)),
                6 => format!("match k {{ 0 => {{ {} }} _ => {{ {} }} }}", block(rng, depth + 1), block(rng, depth + 1)),
                _ => format!("loop {{ {} break; }}", block(rng, depth + 1)),
            };
            out.push_str(&stmt);
            out.push(' ');
        }
        out
    }

    fn scope(rng: &mut Rng, depth: usize) -> String {
        let mut parts = vec!["cx".to_owned()];
        if rng.below(6) != 0 {
            parts.push(rng.pick(NAMES).to_owned());
        }
        for _ in 0..rng.below(3) {
            parts.push(rng.pick(SCOPE_OPTS).to_owned());
        }
        format!("scope!({} {{ {} Ok(()) }})", parts.join(", "), block(rng, depth))
    }

    fn model(rng: &mut Rng) -> (String, String) {
        let attr = ["", "opaque", "method", "opaque, opaque", "inline", "1"][rng.below(6)];
        let sig = [
            "fn net(cx: &mut Scope, flag: bool, k: u8) -> Result<()>",
            "pub fn net<L: Layer>(ctx: &mut Scope) -> Result<()>",
            "fn net(&self, cx: &mut Scope) -> Result<()>",
            "fn net() -> Result<()>",
            "fn net(x: u8)",
            "struct Net",
        ][rng.below(6)];
        (attr.to_owned(), format!("{sig} {{ {} Ok(()) }}", block(rng, 0)))
    }

    /// Deletes, duplicates or swaps characters, or cuts the text short.
    fn mutate(rng: &mut Rng, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..=rng.below(3) {
            if chars.is_empty() {
                break;
            }
            let at = rng.below(chars.len());
            match rng.below(4) {
                0 => {
                    chars.remove(at);
                }
                1 => {
                    let c = chars[at];
                    chars.insert(at, c);
                }
                2 => {
                    let other = rng.below(chars.len());
                    chars.swap(at, other);
                }
                _ => chars.truncate(at),
            }
        }
        chars.into_iter().collect()
    }

    fn tokens(text: &str) -> Option<TokenStream> {
        text.parse().ok()
    }

    #[test]
    fn macro_functions_never_panic() {
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let mut ran = 0usize;
        for round in 0..2000 {
            let (attr, item) = model(&mut rng);
            let (attr, item) =
                if round % 2 == 1 { (mutate(&mut rng, &attr), mutate(&mut rng, &item)) } else { (attr, item) };
            if let (Some(a), Some(i)) = (tokens(&attr), tokens(&item)) {
                let out = scope_macros_core::model(a, i);
                assert!(!out.is_empty(), "no output for #[model({attr})] {item}");
                ran += 1;
            }
            let mut s = scope(&mut rng, 0);
            let mut v = var(&mut rng);
            if round % 3 != 0 {
                s = mutate(&mut rng, &s);
                v = mutate(&mut rng, &v);
            }
            let inner = |m: &str| {
                let k = m.find('(')?;
                m.get(k + 1..m.len().saturating_sub(1)).map(str::to_owned)
            };
            if let Some(t) = inner(&s).as_deref().and_then(tokens) {
                assert!(!scope_macros_core::scope(t).is_empty());
                ran += 1;
            }
            if let Some(t) = inner(&v).as_deref().and_then(tokens) {
                assert!(!scope_macros_core::var(t).is_empty());
                ran += 1;
            }
        }
        assert!(ran > 3500, "only {ran} invocations parsed as token streams");
    }

    #[test]
    fn macro_errors_are_reported_not_panicked() {
        // A few inputs that used to be tricky: each yields a `compile_error!`.
        for input in ["", "cx", "cx,", "cx, reuse", "1, \"a\" {}", "cx, \"a\" { } trailing"] {
            let out = scope_macros_core::scope(input.parse().unwrap_or_default()).to_string();
            assert!(out.contains("compile_error"), "{input}: {out}");
        }
        for input in ["", "cx", "cx, , ", "cx, \"a b\"", "cx, \"w\", [1], init = "] {
            let out = scope_macros_core::var(input.parse().unwrap_or_default()).to_string();
            assert!(out.contains("compile_error"), "{input}: {out}");
        }
    }
}

/// The const checker, run as a plain function on manifests that the macro's encoder packs and
/// the runtime decodes.
mod checker {
    use proc_macro2::{Span, TokenStream};
    use scope_macros_core::ast::{Item, Kind, Mode, Seg};
    use varscope::manifest::{Manifest, Packed, analyze, conflict_message, segment_hash};

    fn item(segs: &[&str], kind: Kind, site: &str) -> Item {
        Item {
            segs: segs.iter().map(|s| Seg { name: (*s).to_owned(), dynamic: false, key: (*s).to_owned() }).collect(),
            mode: Mode::Create,
            dynamic: false,
            cond: false,
            looped: false,
            branch: Vec::new(),
            must: 0,
            kind,
            site_tokens: TokenStream::new(),
            lo: Span::call_site(),
            hi: Span::call_site(),
            line: 1,
            site: site.to_owned(),
        }
    }

    fn var(segs: &[&str], name: &str) -> Item {
        let kind = Kind::Var {
            name: name.to_owned(),
            dynamic_name: false,
            shape: Some(vec![2, 3]),
            dtype: Some("f32".to_owned()),
            init: "Init::Zeros".to_owned(),
            trainable: Some(false),
        };
        item(segs, kind, "var!(cx, ..)")
    }

    fn call(segs: &[&str], callee: &str) -> Item {
        let kind = Kind::Call {
            manifest: callee.parse().unwrap_or_default(),
            path: callee.parse().unwrap_or_default(),
            callee: callee.to_owned(),
        };
        item(segs, kind, "m(cx, ..)")
    }

    /// Packs `items` as `#[model]` does and builds the runtime's manifest; `calls` stands for
    /// the callee paths, in order of first appearance.
    fn manifest(name: &str, items: &[Item], calls: Vec<&'static Manifest>) -> &'static Manifest {
        let enc = scope_macros_core::encode::encode(items, name);
        assert_eq!(enc.calls.len(), calls.len());
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        fn leak_slice<T>(v: Vec<T>) -> &'static [T] {
            Box::leak(v.into_boxed_slice())
        }
        let packed = Packed {
            id: segment_hash(name),
            items: items.len(),
            data: leak_slice(enc.data),
            text: leak(enc.text),
            calls: leak_slice(calls),
            callees: enc.callees,
            leaves: leak_slice(enc.leaves),
            prefixes: leak_slice(enc.prefixes),
        };
        let m = Manifest::new(leak(name.to_owned()), leak(format!("it::{name}")), false, packed);
        Box::leak(Box::new(m))
    }

    /// A chain of `depth` models, each declaring `leaf` and calling the next in the same scope.
    fn chain(depth: usize, leaf: impl Fn(usize) -> String) -> &'static Manifest {
        let mut next: Option<&'static Manifest> = None;
        for k in (0..depth).rev() {
            let mut items = vec![var(&[], &leaf(k))];
            let mut calls = Vec::new();
            if let Some(n) = next {
                items.push(call(&[], "next"));
                calls.push(n);
            }
            next = Some(manifest(&format!("m{k}"), &items, calls));
        }
        next.unwrap_or_else(|| manifest("empty", &[], Vec::new()))
    }

    #[test]
    fn manifest_ids_differ_across_modules() {
        // Two models named alike at the same line and column of two files: the macro's part
        // of the identity is equal, the module path tells them apart, so a call from one to
        // the other is followed (not taken for recursion) and its duplicate is found.
        let leaf = |module: &str| {
            let enc = scope_macros_core::encode::encode(&[var(&[], "w")], "dense");
            let packed = Packed {
                id: segment_hash("dense@3:7"),
                items: 1,
                data: Box::leak(enc.data.into_boxed_slice()),
                text: Box::leak(enc.text.into_boxed_str()),
                calls: &[],
                callees: 0,
                leaves: Box::leak(enc.leaves.into_boxed_slice()),
                prefixes: Box::leak(enc.prefixes.into_boxed_slice()),
            };
            let module: &'static str = Box::leak(module.to_owned().into_boxed_str());
            &*Box::leak(Box::new(Manifest::new("dense", module, false, packed)))
        };
        let a = leaf("crate_a::layers");
        let b = leaf("crate_b::layers");
        let enc = scope_macros_core::encode::encode(&[var(&[], "w"), call(&[], "dense")], "dense");
        let packed = Packed {
            id: segment_hash("dense@3:7"),
            items: 2,
            data: Box::leak(enc.data.into_boxed_slice()),
            text: Box::leak(enc.text.into_boxed_str()),
            calls: Box::leak(vec![b].into_boxed_slice()),
            callees: 1,
            leaves: Box::leak(enc.leaves.into_boxed_slice()),
            prefixes: Box::leak(enc.prefixes.into_boxed_slice()),
        };
        let top: &'static Manifest = Box::leak(Box::new(Manifest::new("dense", "crate_a::layers", false, packed)));
        assert_eq!(analyze::<1>(top, "model `dense`").len(), 1);
        assert_eq!(a.variables().len(), 1);
    }

    #[test]
    fn the_runtime_decodes_what_the_macro_encodes() {
        let dense = manifest("dense", &[var(&["layer"], "kernel"), var(&[], "bias")], Vec::new());
        let mut reused = var(&["a", "b"], "w");
        reused.mode = Mode::Reuse;
        reused.cond = true;
        reused.branch = vec![(1, 0)];
        reused.must = 1;
        let net = manifest("net", &[call(&["conv1"], "dense"), reused, call(&["conv2"], "dense")], vec![dense]);
        let vars = net.variables();
        let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["conv1/layer/kernel", "conv1/bias", "a/b/w", "conv2/layer/kernel", "conv2/bias"]);
        assert_eq!(vars[0].shape, Some(vec![2, 3]));
        assert_eq!((vars[0].dtype, vars[0].init, vars[0].trainable), (Some("f32"), "Init::Zeros", Some(false)));
        assert_eq!((vars[0].model, vars[2].model), ("dense", "net"));
        assert!(vars[2].conditional && vars[2].mode == varscope::manifest::Mode::Reuse);
        let calls = net.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[1].callee, calls[1].scope.as_str(), calls[1].followed), ("dense", "conv2", true));
        assert!(net.to_string().contains("conv2/layer/kernel | [2, 3]"), "{net}");
        assert!(analyze::<1>(net, "model `net`").is_empty());
    }

    #[test]
    fn a_duplicate_deep_in_a_chain_is_found() {
        // Every model declares `w`, and all sit in one scope: the second declaration of `w`
        // (the call to `m1`, which creates it again) is the conflict.
        let top = chain(300, |_| "w".to_owned());
        let found = analyze::<1>(top, "model `m0`");
        assert_eq!(found.len(), 1);
        let msg = conflict_message(top, "model `m0`", 1);
        assert!(msg.as_str().contains("duplicate variable `w` in model `m0`"), "{}", msg.as_str());
        assert_eq!(conflict_message(top, "model `m0`", 0).as_str(), "");
    }

    #[test]
    fn distinct_names_through_a_deep_chain_pass() {
        let top = chain(400, |k| format!("v{k}"));
        assert!(analyze::<1>(top, "model `m0`").is_empty());
    }

    #[test]
    fn a_call_in_its_own_scope_is_proved_free_of_conflicts() {
        // Both calls create `w` under different scopes, and the body's own `w` sits outside
        // both: the macro marks the calls isolated, and the analysis finds nothing.
        let leaf = manifest("leaf", &[var(&[], "w")], Vec::new());
        let body = [var(&[], "w"), call(&["a"], "leaf"), call(&["b"], "leaf")];
        assert_eq!(scope_macros_core::ast::calls_to_walk(&body), [false, false, false]);
        assert!(analyze::<1>(manifest("top", &body, vec![leaf]), "model `top`").is_empty());
        // The same call twice in one scope is walked, and conflicts.
        let body = [call(&["a"], "leaf"), call(&["a"], "leaf")];
        assert_eq!(scope_macros_core::ast::calls_to_walk(&body), [true, true]);
        assert_eq!(analyze::<1>(manifest("top2", &body, vec![leaf]), "model `top2`").len(), 1);
        // A variable in the call's scope is walked against it.
        let body = [call(&["a"], "leaf"), var(&["a"], "w")];
        assert_eq!(scope_macros_core::ast::calls_to_walk(&body), [true, false]);
        assert_eq!(analyze::<1>(manifest("top3", &body, vec![leaf]), "model `top3`").len(), 1);
    }

    #[test]
    fn an_unrolled_cell_is_walked_once_and_still_checked() {
        // The same call three times in one auto-reuse scope: only the first is walked (the
        // others create nothing new), and a later declaration with another shape is found.
        let leaf = manifest("cell", &[var(&[], "w")], Vec::new());
        let auto = |mut item: Item| {
            item.mode = Mode::Auto;
            item
        };
        let body = [auto(call(&["rnn"], "cell")), auto(call(&["rnn"], "cell")), auto(call(&["rnn"], "cell"))];
        assert_eq!(scope_macros_core::ast::repeats(&body), [false, true, true]);
        assert_eq!(scope_macros_core::ast::calls_to_walk(&body), [true, false, false]);
        let mut w4 = auto(var(&["rnn"], "w"));
        if let Kind::Var { shape, .. } = &mut w4.kind {
            *shape = Some(vec![4]);
        }
        let body = [auto(call(&["rnn"], "cell")), auto(call(&["rnn"], "cell")), w4];
        assert_eq!(scope_macros_core::ast::calls_to_walk(&body), [true, false, false]);
        let top = manifest("unrolled", &body, vec![leaf]);
        assert_eq!(analyze::<1>(top, "model `unrolled`").len(), 1);
        let msg = conflict_message(top, "model `unrolled`", 2);
        assert!(msg.as_str().contains("conflicting declarations of variable `rnn/w`"), "{}", msg.as_str());
    }

    #[test]
    fn callees_below_a_scope_no_variable_shares_are_not_walked_but_duplicates_are_found() {
        // `top` declares `sub/sub/w` and calls `a` in `sub`; `a` calls `b` in `sub` and in
        // `other`; `b` declares `w`. The walk enters `b` under `sub/sub` (a prefix of the
        // body's `w`): the duplicate is found. Under `other/..` nothing can meet `w`.
        let b = manifest("b", &[var(&[], "w")], Vec::new());
        let a = manifest("a", &[call(&["sub"], "b"), call(&["other"], "b")], vec![b]);
        let body = [var(&["sub", "sub"], "w"), call(&["sub"], "a")];
        let top = manifest("top", &body, vec![a]);
        assert_eq!(analyze::<1>(top, "model `top`").len(), 1);
        let msg = conflict_message(top, "model `top`", 1);
        assert!(msg.as_str().contains("duplicate variable `sub/sub/w`"), "{}", msg.as_str());
        let body = [var(&["sub", "x"], "w"), call(&["sub"], "a")];
        assert!(analyze::<1>(manifest("top2", &body, vec![a]), "model `top2`").is_empty());
    }

    #[test]
    fn reuse_through_a_call_is_checked_for_shape_and_dtype() {
        // `var` declares `w` with shape [2, 3] and dtype f32; `other` with shape [4].
        let same = manifest("same", &[var(&[], "w")], Vec::new());
        let mut w4 = var(&[], "w");
        if let Kind::Var { shape, .. } = &mut w4.kind {
            *shape = Some(vec![4]);
        }
        let other = manifest("other", &[w4], Vec::new());
        let mut w64 = var(&[], "w");
        if let Kind::Var { dtype, .. } = &mut w64.kind {
            *dtype = Some("f64".to_owned());
        }
        let wide = manifest("wide", &[w64], Vec::new());
        let reuse = |mut item: Item| {
            item.mode = Mode::Reuse;
            item
        };
        let body = [call(&["a"], "same"), reuse(call(&["a"], "same"))];
        assert!(analyze::<1>(manifest("ok", &body, vec![same]), "model `ok`").is_empty());
        let body = [call(&["a"], "same"), reuse(call(&["a"], "other"))];
        let top = manifest("bad", &body, vec![same, other]);
        assert_eq!(analyze::<1>(top, "model `bad`").len(), 1);
        let msg = conflict_message(top, "model `bad`", 1);
        assert!(msg.as_str().contains("declares it with shape [2, 3] and dtype f32"), "{}", msg.as_str());
        assert!(msg.as_str().contains(", and `m(cx, ..)` (line 1) with shape [4] and dtype f32"), "{}", msg.as_str());
        let body = [call(&["a"], "same"), reuse(call(&["a"], "wide"))];
        assert_eq!(analyze::<1>(manifest("bad2", &body, vec![same, wide]), "model `bad2`").len(), 1);
        // The body's own reuse declaration against a call, too.
        let body = [call(&["a"], "other"), reuse(var(&["a"], "w"))];
        assert_eq!(analyze::<1>(manifest("bad3", &body, vec![other]), "model `bad3`").len(), 1);
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_an_error_not_a_skip() {
        let top = chain(600, |k| format!("v{k}"));
        let found = analyze::<1>(top, "model `m0`");
        assert_eq!(found.len(), 1);
        let msg = conflict_message(top, "model `m0`", 1);
        assert!(msg.as_str().contains("nest more than 512 deep"), "{}", msg.as_str());
    }
}
