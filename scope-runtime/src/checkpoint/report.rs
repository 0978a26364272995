//! The comparison of the variables a program expects with what a checkpoint holds: missing,
//! unused and mismatched names, with did-you-mean suggestions. The report of
//! `Manifest::check_checkpoint` and the error of a restore
//! that cannot be done.

use std::fmt;

use crate::error::fmt_shape;

/// How many unused keys the message lists (the report holds them all).
const SHOWN_UNUSED: usize = 8;

/// A variable the program expects that the checkpoint lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingName {
    /// The variable's full name (checkpoint key).
    pub name: String,
    /// The stored key most like it, if any is close.
    pub suggestion: Option<String>,
}

/// A variable whose stored shape or dtype differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MismatchedName {
    /// The checkpoint key.
    pub name: String,
    /// The shape the program expects (`None`: not known before run time).
    pub expected_shape: Option<Vec<usize>>,
    /// The stored shape.
    pub stored_shape: Vec<usize>,
    /// The dtype the program expects (`None`: not known before run time).
    pub expected_dtype: Option<String>,
    /// The stored dtype.
    pub stored_dtype: String,
}

/// What matches and what does not between expected variables and a checkpoint.
///
/// ```
/// use varscope::checkpoint::{CheckpointReport, MissingName};
/// let report = CheckpointReport {
///     checkpoint: "model.ckpt".into(),
///     missing: vec![MissingName { name: "dense/kernal".into(), suggestion: Some("dense/kernel".into()) }],
///     ..Default::default()
/// };
/// assert!(!report.is_compatible());
/// assert!(report.to_string().contains("did you mean `dense/kernel`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckpointReport {
    /// The checkpoint compared (its prefix or file).
    pub checkpoint: String,
    /// How many expected variables matched by name, shape and dtype.
    pub matched: usize,
    /// Expected but not stored.
    pub missing: Vec<MissingName>,
    /// Stored but not expected (a restore leaves them alone); the message lists the first few.
    pub unused: Vec<String>,
    /// Stored with another shape or dtype.
    pub mismatched: Vec<MismatchedName>,
}

impl CheckpointReport {
    /// Whether a restore of the expected variables would succeed: nothing missing or mismatched
    /// (unused stored keys are allowed, as `Saver.restore` allows them).
    pub fn is_compatible(&self) -> bool {
        self.missing.is_empty() && self.mismatched.is_empty()
    }

    /// The same report about another checkpoint name (to compare reports of two files).
    pub fn with_checkpoint(mut self, checkpoint: &str) -> CheckpointReport {
        self.checkpoint = checkpoint.to_string();
        self
    }

    /// The report as an error, if it is not compatible.
    pub fn into_result(self) -> Result<CheckpointReport, crate::Error> {
        if self.is_compatible() {
            Ok(self)
        } else {
            Err(super::error::CheckpointError::Mismatch(Box::new(self)).into())
        }
    }
}

impl fmt::Display for CheckpointReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "checkpoint `{}`: {} matched, {} missing, {} mismatched, {} unused",
            self.checkpoint,
            self.matched,
            self.missing.len(),
            self.mismatched.len(),
            self.unused.len()
        )?;
        for m in &self.missing {
            write!(f, "\n  missing `{}`", m.name)?;
            if let Some(s) = &m.suggestion {
                write!(f, ": did you mean `{s}`?")?;
            }
        }
        for m in &self.mismatched {
            let expected: Vec<String> =
                [m.expected_shape.as_deref().map(|s| format!("shape {}", fmt_shape(s))), m.expected_dtype.clone()]
                    .into_iter()
                    .flatten()
                    .collect();
            write!(
                f,
                "\n  mismatched `{}`: expected {}, stored shape {} {}",
                m.name,
                expected.join(" "),
                fmt_shape(&m.stored_shape),
                m.stored_dtype
            )?;
        }
        for u in self.unused.iter().take(SHOWN_UNUSED) {
            write!(f, "\n  unused `{u}`")?;
        }
        if self.unused.len() > SHOWN_UNUSED {
            write!(f, "\n  .. and {} more unused", self.unused.len() - SHOWN_UNUSED)?;
        }
        if !self.is_compatible() {
            write!(
                f,
                "\nrename the variables (or the checkpoint's keys with a remapping), or restore only the ones that match"
            )?;
        }
        Ok(())
    }
}

/// Levenshtein distance over bytes, giving up (returning `limit + 1`) past `limit`.
fn distance(a: &[u8], b: &[u8], limit: usize) -> usize {
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y)).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > limit {
            return limit + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate most like `name`: one that differs by a scope prefix (`model/dense/w` for
/// `dense/w`), or else the nearest by edit distance within a third of the name's length.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (name.len() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let prefixed = c.ends_with(&format!("/{name}")) || name.ends_with(&format!("/{c}"));
        let d = if prefixed { 0 } else { distance(name.as_bytes(), c.as_bytes(), limit) };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_typos_and_scope_prefixes() {
        let keys = ["model/dense/kernel", "model/dense/bias", "global_step"];
        assert_eq!(did_you_mean("model/dense/kernal", keys.into_iter()).as_deref(), Some("model/dense/kernel"));
        assert_eq!(did_you_mean("dense/bias", keys.into_iter()).as_deref(), Some("model/dense/bias"));
        assert_eq!(did_you_mean("optimizer/lr", keys.into_iter()), None);
        assert_eq!(distance(b"kitten", b"sitting", 10), 3);
    }
}
