//! The `select` filter of `collect_params`: a regex matched at the start of a name only,
//! as Python's `re.match`.

use regex::Regex;

use crate::error::{Error, Result};

/// A compiled `select`, or "everything" for an absent or empty one.
pub(crate) struct Select(Option<Regex>);

impl Select {
    /// Compiles `select`; `None` and `""` select every name, as in Gluon.
    pub(crate) fn new(select: Option<&str>) -> Result<Select> {
        match select {
            None | Some("") => Ok(Select(None)),
            Some(pattern) => Regex::new(pattern)
                .map(|re| Select(Some(re)))
                .map_err(|err| Error::InvalidRegex { pattern: pattern.to_string(), reason: short_reason(&err) }),
        }
    }

    /// Whether the regex matches at the start of `name` (not necessarily up to its end).
    ///
    /// The pattern is not rewritten to `^(?:...)`: wrapping could change what it means
    /// (a `(?x)` comment would swallow the closing parenthesis). Leftmost-first search
    /// returns the match that starts earliest, so a match at offset 0 exists exactly
    /// when the first match found starts there.
    pub(crate) fn matches(&self, name: &str) -> bool {
        match &self.0 {
            None => true,
            Some(re) => re.find(name).is_some_and(|m| m.start() == 0),
        }
    }
}

/// The gist of a regex error: its display spans several lines (the pattern, a caret,
/// then `error: unclosed group`); the last line says what is wrong.
fn short_reason(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("");
    let reason = last.strip_prefix("error: ").unwrap_or(last);
    reason.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::Select;

    fn matches(pattern: &str, name: &str) -> bool {
        Select::new(Some(pattern)).is_ok_and(|s| s.matches(name))
    }

    #[test]
    fn anchored_at_start_only() {
        assert!(matches("model0_", "model0_dense0_weight"));
        assert!(!matches("weight", "model0_dense0_weight"));
        assert!(matches(".*weight", "model0_dense0_weight"));
        assert!(!matches("model0_weight$", "model0_weight_x"));
        assert!(matches("x|model", "model0_w"));
    }

    #[test]
    fn verbose_comments_are_not_broken_by_anchoring() {
        assert!(matches("(?x) model0 # a comment", "model0_w"));
    }

    #[test]
    fn empty_and_absent_select_everything() {
        assert!(matches("", "anything"));
        assert!(Select::new(None).is_ok_and(|s| s.matches("anything")));
    }

    #[test]
    fn invalid_pattern_error_names_pattern_and_cause() {
        let err = Select::new(Some("x_[")).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err,
            "`x_[` is not a valid regex for `collect_params`: unclosed character class; \
             fix the pattern or pass `None`"
        );
    }

    #[test]
    fn invalid_patterns_are_errors() {
        for bad in ["(", "x_[", "a)", "*"] {
            assert!(Select::new(Some(bad)).is_err(), "{bad} should not compile");
        }
    }
}
