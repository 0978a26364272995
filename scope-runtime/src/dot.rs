//! Graphviz DOT: the recorded graph with one cluster per name scope, and a `#[model]`'s
//! manifest (its variables by scope and the models it calls) before any tensor exists.
//!
//! Render with `dot -Tsvg graph.dot -o graph.svg`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::graph::Graph;
use crate::manifest::Manifest;

/// A DOT string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A tree of clusters: each scope's own members and its sub-scopes, by name.
#[derive(Default)]
struct Cluster {
    members: Vec<String>,
    children: BTreeMap<String, Cluster>,
}

impl Cluster {
    /// Puts `line` into the cluster at `path` (scope names, outermost first).
    fn insert(&mut self, path: &[&str], line: String) {
        match path.split_first() {
            None => self.members.push(line),
            Some((first, rest)) => self.children.entry(first.to_string()).or_default().insert(rest, line),
        }
    }

    /// Writes the members and, as `subgraph cluster_<path>`, the sub-scopes.
    fn write(&self, out: &mut String, prefix: &str, depth: usize) {
        let pad = "  ".repeat(depth);
        for m in &self.members {
            let _ = writeln!(out, "{pad}{m}");
        }
        for (name, child) in &self.children {
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let _ = writeln!(out, "{pad}subgraph {} {{", quote(&format!("cluster_{path}")));
            let _ = writeln!(out, "{pad}  label = {};", quote(name));
            child.write(out, &path, depth + 1);
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

impl Graph {
    /// The recorded graph as DOT: one node per recorded node (labelled with its last name
    /// segment and op type), an edge per input, and one `cluster_<scope>` subgraph per name
    /// scope, nested as the scopes are. A node whose name is also a scope (a variable with ops
    /// under it) sits inside that scope's cluster, as TensorBoard draws it.
    ///
    /// ```
    /// use varscope::Graph;
    ///
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let mut layer = cx.variable_scope("layer")?;
    /// let w = layer.get_variable("w", [2])?;
    /// layer.relu(&w)?;
    /// drop(layer);
    /// let dot = graph.to_dot();
    /// assert!(dot.contains("subgraph \"cluster_layer\""));
    /// assert!(dot.contains("\"layer/w\" -> \"layer/Relu\""));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn to_dot(&self) -> String {
        let nodes = self.nodes();
        let names: std::collections::HashSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let scopes: std::collections::HashSet<&str> =
            nodes.iter().flat_map(|n| n.name.match_indices('/').map(|(i, _)| &n.name[..i])).collect();
        let mut root = Cluster::default();
        let mut edges = String::new();
        for n in &nodes {
            let segments: Vec<&str> = n.name.split('/').collect();
            let (leaf, parents) = segments.split_last().map(|(l, p)| (*l, p)).unwrap_or((n.name.as_str(), &[]));
            let shape = if n.op_type == "VariableV2" { "ellipse, style=filled, fillcolor=lightyellow" } else { "box" };
            let label = if leaf == n.op_type { leaf.to_string() } else { format!("{leaf}\n{}", n.op_type) };
            let line = format!("{} [label={}, shape={shape}];", quote(&n.name), quote(&label));
            if scopes.contains(n.name.as_str()) {
                root.insert(&segments, line)
            } else {
                root.insert(parents, line)
            }
            for input in &n.inputs {
                let (src, index) = input.rsplit_once(':').unwrap_or((input.as_str(), "0"));
                let src = if names.contains(src) { src } else { input.as_str() };
                let label = if index == "0" { String::new() } else { format!(" [label={}]", quote(index)) };
                let _ = writeln!(edges, "  {} -> {}{label};", quote(src), quote(&n.name));
            }
        }
        let mut out =
            String::from("digraph varscope {\n  compound = true;\n  rankdir = BT;\n  node [fontname=\"Helvetica\"];\n");
        root.write(&mut out, "", 1);
        out.push_str(&edges);
        out.push_str("}\n");
        out
    }
}

/// [`ManifestExt::to_dot`](crate::ManifestExt::to_dot): the manifest's variables by scope and
/// the models it calls, as DOT.
pub(crate) fn manifest_dot(manifest: &Manifest) -> String {
    let mut root = Cluster::default();
    let model = format!("model:{}", manifest.model());
    let mut out = String::from("digraph manifest {\n  compound = true;\n  node [fontname=\"Helvetica\"];\n");
    let _ = writeln!(
        out,
        "  {} [label={}, shape=component, style=filled, fillcolor=lightblue];",
        quote(&model),
        quote(&format!("#[model] {}\n{}", manifest.model(), manifest.module()))
    );
    let mut edges = String::new();
    let mut declaring = std::collections::BTreeSet::new();
    for v in manifest.variables() {
        let segments: Vec<&str> = v.name.split('/').collect();
        let (leaf, parents) = segments.split_last().map(|(l, p)| (*l, p)).unwrap_or((v.name.as_str(), &[]));
        let shape = v.shape.as_ref().map_or_else(|| "shape at run time".to_string(), |s| format!("{s:?}"));
        let mut label = format!("{leaf}\n{shape} · {}", v.mode.as_str());
        if v.model != manifest.model() {
            let _ = write!(label, "\nby {} (line {})", v.model, v.line);
        } else {
            let _ = write!(label, "\nline {}", v.line);
        }
        let style = if v.created() { "solid" } else { "dashed" };
        if declaring.insert(v.model) && v.model != manifest.model() {
            let label = quote(&format!("#[model] {}", v.model));
            let _ = writeln!(out, "  {} [label={label}, shape=component];", quote(&format!("model:{}", v.model)));
        }
        let _ = writeln!(
            edges,
            "  {} -> {} [style=dashed, arrowhead=none, color=gray];",
            quote(&format!("model:{}", v.model)),
            quote(&format!("var:{}", v.name))
        );
        let line =
            format!("{} [label={}, shape=ellipse, style={style}];", quote(&format!("var:{}", v.name)), quote(&label));
        root.insert(parents, line);
    }
    let mut callees = std::collections::BTreeSet::new();
    for call in manifest.calls() {
        let callee = format!("model:{}", call.callee);
        if call.callee != manifest.model() && !declaring.contains(call.callee) && callees.insert(call.callee) {
            let label = quote(&format!("#[model] {}", call.callee));
            let _ = writeln!(out, "  {} [label={label}, shape=component];", quote(&callee));
        }
        let scope = if call.scope.is_empty() { "(this scope)".to_string() } else { call.scope.clone() };
        let style = if call.followed { "solid" } else { "dotted" };
        let _ = writeln!(
            edges,
            "  {} -> {} [label={}, style={style}];",
            quote(&model),
            quote(&callee),
            quote(&format!("in {scope} (line {})", call.line))
        );
    }
    root.write(&mut out, "", 1);
    out.push_str(&edges);
    out.push_str("}\n");
    out
}
