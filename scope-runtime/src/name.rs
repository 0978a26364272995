//! TensorFlow's rules for valid names, as errors (the rules themselves are
//! `scope_core::name`, shared with the macros).
//!
//! A name opened at the root (a root name scope, the full name of a variable,
//! a full node name) must match `[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*`; a name
//! scope opened inside a non-empty name scope must match
//! `[A-Za-z0-9_.\\/>-]*`. As with Python's `re.match(...$)`, a single trailing
//! newline is tolerated by the pattern.

use crate::error::{Error, Result};
use scope_core::name::{is_body_char, is_first_char, strip_final_newline};

fn bad_char_reason(name: &str, c: char, at: usize, allowed: &str) -> String {
    let shown = match c {
        ' ' => "a space".to_string(),
        '\n' => "a newline".to_string(),
        '\t' => "a tab".to_string(),
        c => format!("`{c}`"),
    };
    let _ = name;
    format!("character {} is {shown}; {allowed}", at + 1)
}

const BODY_ALLOWED: &str = "names may only contain letters, digits and `_ . \\ / > -`";

fn check_body(name: &str, body: &str, offset: usize, what: &'static str) -> Result<()> {
    match body.char_indices().find(|&(_, c)| !is_body_char(c)) {
        None => Ok(()),
        Some((i, c)) => Err(Error::InvalidName {
            name: name.to_string(),
            what,
            reason: bad_char_reason(name, c, i + offset, BODY_ALLOWED),
        }),
    }
}

/// Checks a name against the root pattern `[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*`.
pub(crate) fn check_root(name: &str, what: &'static str) -> Result<()> {
    let body = strip_final_newline(name);
    let mut chars = body.chars();
    match chars.next() {
        None => Err(Error::InvalidName {
            name: name.to_string(),
            what,
            reason: "it is empty; a name must start with a letter, a digit or `.`".to_string(),
        }),
        Some(c) if !is_first_char(c) => Err(Error::InvalidName {
            name: name.to_string(),
            what,
            reason: bad_char_reason(
                name,
                c,
                0,
                "at the root a name must start with a letter, a digit or `.` (open it inside a scope to start \
                 with `_` or `-`)",
            ),
        }),
        Some(c) => check_body(name, chars.as_str(), c.len_utf8(), what),
    }
}

/// Checks a name against the nested pattern `[A-Za-z0-9_.\\/>-]*`.
pub(crate) fn check_nested(name: &str, what: &'static str) -> Result<()> {
    check_body(name, strip_final_newline(name), 0, what)
}

/// Checks a name scope being opened: the root rule when the current name scope
/// is the root, the nested rule otherwise.
pub(crate) fn check_scope_name(name: &str, at_root: bool) -> Result<()> {
    if at_root { check_root(name, "root scope name") } else { check_nested(name, "scope name") }
}

/// Checks a full node name.
pub(crate) fn check_node_name(name: &str) -> Result<()> {
    check_root(name, "node name")
}

/// TF's `name_from_scope_name`: drops one trailing `/`.
pub(crate) fn name_from_scope_name(name: &str) -> &str {
    name.strip_suffix('/').unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_nested_rules() {
        assert!(check_root("a.b-c/d\\e>f_g", "x").is_ok());
        assert!(check_root(".dot", "x").is_ok());
        assert!(check_root("_x", "x").is_err());
        assert!(check_root("-x", "x").is_err());
        assert!(check_root("", "x").is_err());
        assert!(check_nested("_x", "x").is_ok());
        assert!(check_nested("", "x").is_ok());
        assert!(check_nested("a b", "x").is_err());
        assert!(check_root("a\n", "x").is_ok());
        assert!(check_root("a\n\n", "x").is_err());
    }

    #[test]
    fn reason_names_the_character() {
        let err = check_root("a b", "scope name").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`a b`"), "{msg}");
        assert!(msg.contains("character 2 is a space"), "{msg}");
    }
}
