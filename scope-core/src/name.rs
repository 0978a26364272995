//! TensorFlow's name rules, the one copy: the macros apply them to literal names at compile
//! time, the runtime to every name at run time.
//!
//! A name opened at the root (a root name scope, the full name of a variable, a full node name)
//! must match `[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*`; a name below the root must match
//! `[A-Za-z0-9_.\\/>-]*`. As with Python's `re.match(...$)`, a single trailing newline is
//! tolerated by the pattern.

/// Whether `c` may appear in a name (the body of the pattern).
pub const fn is_body_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '\\' | '/' | '>' | '-')
}

/// Whether `c` may start a name at the root.
pub const fn is_first_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.'
}

/// The part of `name` the pattern is matched against: Python's `$` also matches just before a
/// final `\n`.
pub fn strip_final_newline(name: &str) -> &str {
    name.strip_suffix('\n').unwrap_or(name)
}

/// The first character that TensorFlow refuses below the root, with its index, if any.
pub fn invalid_nested(name: &str) -> Option<(usize, char)> {
    strip_final_newline(name).char_indices().find(|&(_, c)| !is_body_char(c))
}

/// The first character that TensorFlow refuses below the root, if any. A model never knows
/// statically whether it runs at the root, so the macros check this rule (which every name
/// must meet) and leave the first-character rule at the root to the runtime.
pub fn invalid_char(name: &str) -> Option<char> {
    invalid_nested(name).map(|(_, c)| c)
}

/// Splits a literal name on `/` into segments, or `None` when a segment is empty (`a//b`,
/// `a/`, `/a`): such names have special meanings at run time and are left to the runtime.
pub fn segments(name: &str) -> Option<Vec<String>> {
    let segs: Vec<String> = name.split('/').map(str::to_owned).collect();
    if segs.iter().any(String::is_empty) { None } else { Some(segs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_tolerated() {
        assert_eq!(invalid_char("a\n"), None);
        assert_eq!(invalid_char("a\n\n"), Some('\n'));
        assert_eq!(invalid_char("a b"), Some(' '));
        assert_eq!(invalid_nested("ab c"), Some((2, ' ')));
        assert_eq!(segments("a/b"), Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(segments("a//b"), None);
    }
}
