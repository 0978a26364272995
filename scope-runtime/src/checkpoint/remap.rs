//! `tf.compat.v1.train.init_from_checkpoint`, validated: initialise variables of a graph from a
//! checkpoint through a map of checkpoint names (or scopes, ending in `/`) to variable names (or
//! scopes), refusing a map that would silently do less than it says.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::fmt_shape;
use crate::graph::Graph;
use crate::variable::Variable;

use super::error::CheckpointError;
use super::reader::CheckpointReader;
use super::stored::StoredDType;

/// What [`init_from_checkpoint`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemapReport {
    /// `(checkpoint key, variable name)` of every assignment, sorted by variable.
    pub assigned: Vec<(String, String)>,
    /// The graph's variables that no rule reached: they keep their initial values.
    pub uninitialized: Vec<String>,
}

/// Assigns variables of `graph` from the checkpoint at `prefix` (any form
/// [`CheckpointReader::open`](super::CheckpointReader::open) takes) as `rules` say, like TF's
/// `init_from_checkpoint(ckpt, assignment_map)`:
///
/// - `("old_scope/", "new_scope/")`: every variable under `new_scope/` gets the checkpoint key
///   with `new_scope/` replaced by `old_scope/` (`"/"` on either side is the root);
/// - `("a/w", "b/w")`: the variable `b/w` gets the key `a/w`.
///
/// Unlike TF, the map is validated as a whole before any variable changes: every rule must
/// reach at least one variable, no variable may be filled by two rules, every key must exist
/// with the variable's dtype and shape. Errors list every problem; the report lists what was
/// assigned and which variables stay uninitialised.
///
/// ```no_run
/// use varscope::Graph;
/// use varscope::checkpoint::init_from_checkpoint;
///
/// let graph = Graph::new();
/// // ... build the model under `new_scope/` ...
/// let report = init_from_checkpoint(&graph, "pretrained/model.ckpt", &[("old_scope/", "new_scope/")])?;
/// println!("left at their initial values: {:?}", report.uninitialized);
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn init_from_checkpoint(
    graph: &Graph,
    prefix: impl AsRef<Path>,
    rules: &[(&str, &str)],
) -> Result<RemapReport, crate::Error> {
    let reader = CheckpointReader::open(prefix)?;
    let vars: BTreeMap<String, Variable> =
        graph.global_variables().into_iter().map(|v| (v.op_name().to_string(), v)).collect();
    let mut targets: BTreeMap<String, (String, usize)> = BTreeMap::new(); // var -> (key, rule)
    let mut problems: Vec<String> = Vec::new();
    for (r, &(from, to)) in rules.iter().enumerate() {
        let mut hits: Vec<(String, String)> = Vec::new();
        let scope_rule = from.ends_with('/') || to.ends_with('/');
        if scope_rule {
            if !(from.ends_with('/') && to.ends_with('/')) {
                problems.push(format!("rule `{from}` -> `{to}`: a scope rule needs a trailing `/` on both sides"));
                continue;
            }
            let to_scope = if to == "/" { "" } else { to };
            let from_scope = if from == "/" { "" } else { from };
            for name in vars.keys() {
                if let Some(rest) = name.strip_prefix(to_scope) {
                    hits.push((format!("{from_scope}{rest}"), name.clone()));
                }
            }
        } else if vars.contains_key(to) {
            hits.push((from.to_string(), to.to_string()));
        } else {
            let suggestion = super::report::did_you_mean(to, vars.keys().map(String::as_str));
            problems.push(format!(
                "rule `{from}` -> `{to}`: the graph has no variable `{to}`{}",
                suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
            ));
            continue;
        }
        if hits.is_empty() {
            problems.push(format!("rule `{from}` -> `{to}` reaches no variable: the graph has none under `{to}`"));
        }
        for (key, var) in hits {
            if let Some((_, other)) = targets.get(&var) {
                let (f2, t2) = rules[*other];
                problems.push(format!(
                    "variable `{var}` is filled twice: by rule `{f2}` -> `{t2}` and by `{from}` -> `{to}`"
                ));
                continue;
            }
            let v = &vars[&var];
            match reader.info(&key) {
                None => {
                    let s = super::report::did_you_mean(&key, reader.keys());
                    problems.push(format!(
                        "variable `{var}` needs key `{key}`, which the checkpoint lacks{}",
                        s.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
                    ));
                }
                Some(info) if info.dtype() != Some(StoredDType::of(v.dtype())) || info.shape() != v.shape() => {
                    problems.push(format!(
                        "variable `{var}` is {} {} but key `{key}` is {} {}",
                        v.dtype(),
                        fmt_shape(v.shape()),
                        info.dtype_name(),
                        fmt_shape(info.shape())
                    ));
                }
                Some(_) => {}
            }
            targets.insert(var, (key, r));
        }
    }
    if !problems.is_empty() {
        return Err(CheckpointError::InvalidRequest {
            reason: format!(
                "init_from_checkpoint from `{}` refused, nothing assigned:\n  {}",
                reader.path(),
                problems.join("\n  ")
            ),
        }
        .into());
    }
    let mut report = RemapReport::default();
    for (var, (key, _)) in &targets {
        vars[var].assign(reader.read(key)?.into_value(key)?)?;
        report.assigned.push((key.clone(), var.clone()));
    }
    report.uninitialized = vars.keys().filter(|v| !targets.contains_key(*v)).cloned().collect();
    Ok(report)
}
