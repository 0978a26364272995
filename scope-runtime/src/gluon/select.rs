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
                .map_err(|err| Error::InvalidRegex { pattern: pattern.to_string(), reason: err.to_string() }),
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
    fn invalid_patterns_are_errors() {
        for bad in ["(", "x_[", "a)", "*"] {
            assert!(Select::new(Some(bad)).is_err(), "{bad} should not compile");
        }
    }
}
