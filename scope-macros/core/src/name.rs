//! TensorFlow's name rules, applied to literal names at compile time.
//!
//! TensorFlow accepts `[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*` for a name at the root and
//! `[A-Za-z0-9_.\\/>-]*` below it. A model never knows statically whether it runs at the root, so
//! the macros check the nested rule (which every name must meet) and leave the first-character
//! rule at the root to the runtime, which checks every name again.

/// Whether `c` may appear in a nested TensorFlow name.
fn nested_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '\\' | '/' | '>' | '-')
}

/// The first character that TensorFlow refuses in a nested name, if any.
pub fn invalid_char(name: &str) -> Option<char> {
    name.chars().find(|c| !nested_char(*c))
}

/// Splits a literal name on `/` into segments, or `None` when a segment is empty (`a//b`,
/// `a/`, `/a`): such names have special meanings at run time and are left to the runtime.
pub fn segments(name: &str) -> Option<Vec<String>> {
    let segs: Vec<String> = name.split('/').map(str::to_owned).collect();
    if segs.iter().any(String::is_empty) { None } else { Some(segs) }
}
