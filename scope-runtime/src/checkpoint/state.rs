//! The `checkpoint` state file (`CheckpointState` in text format, `checkpoint_management.py`):
//! which prefix is the latest and which ones are kept.

use std::path::{Path, PathBuf};

use super::atomic::AtomicFiles;
use super::error::CheckpointError;

/// The file name of the state file in a checkpoint directory.
pub const STATE_FILE: &str = "checkpoint";

/// What a directory's `checkpoint` file says.
///
/// ```
/// use varscope::checkpoint::CheckpointState;
/// let s = CheckpointState::parse("model_checkpoint_path: \"model.ckpt-2\"\nall_model_checkpoint_paths: \"model.ckpt-2\"\n")?;
/// assert_eq!(s.model_checkpoint_path, "model.ckpt-2");
/// assert_eq!(s.to_text(), "model_checkpoint_path: \"model.ckpt-2\"\nall_model_checkpoint_paths: \"model.ckpt-2\"\n");
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckpointState {
    /// The latest checkpoint's prefix (relative to the directory, or absolute).
    pub model_checkpoint_path: String,
    /// Every kept checkpoint, oldest first (the latest last).
    pub all_model_checkpoint_paths: Vec<String>,
}

impl CheckpointState {
    /// Parses the text format TF writes (`field: "string"` lines; other fields are ignored).
    pub fn parse(text: &str) -> Result<CheckpointState, crate::Error> {
        Ok(parse(text).map_err(|reason| CheckpointError::corrupt(STATE_FILE, None, reason))?)
    }

    /// The text TF writes for this state.
    pub fn to_text(&self) -> String {
        let mut out = format!("model_checkpoint_path: \"{}\"\n", escape(&self.model_checkpoint_path));
        for p in &self.all_model_checkpoint_paths {
            out.push_str(&format!("all_model_checkpoint_paths: \"{}\"\n", escape(p)));
        }
        out
    }

    /// Reads `dir/checkpoint`; `None` if there is none.
    pub fn read(dir: impl AsRef<Path>) -> Result<Option<CheckpointState>, crate::Error> {
        let path = dir.as_ref().join(STATE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                Ok(Some(parse(&text).map_err(|reason| CheckpointError::corrupt(path.display(), None, reason))?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CheckpointError::io(path.display(), "read", &e).into()),
        }
    }

    /// Registers the new `dir/checkpoint` with a save's files (renamed into place last).
    pub(crate) fn write_into(&self, dir: &Path, files: &mut AtomicFiles) -> Result<(), CheckpointError> {
        files.write(&dir.join(STATE_FILE), self.to_text().as_bytes())
    }
}

/// The latest checkpoint prefix of `dir` as its `checkpoint` file names it (resolved against
/// `dir` when relative), if that checkpoint's `.index` exists (TF's `tf.train.latest_checkpoint`).
///
/// ```
/// let dir = std::env::temp_dir().join(format!("varscope-doc-latest-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// assert_eq!(varscope::checkpoint::latest_checkpoint(&dir)?, None);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn latest_checkpoint(dir: impl AsRef<Path>) -> Result<Option<PathBuf>, crate::Error> {
    let dir = dir.as_ref();
    let Some(state) = CheckpointState::read(dir)? else { return Ok(None) };
    if state.model_checkpoint_path.is_empty() {
        return Ok(None);
    }
    let p = resolve(dir, &state.model_checkpoint_path);
    let index = PathBuf::from(format!("{}.index", p.display()));
    Ok(index.exists().then_some(p))
}

/// A state path resolved against the directory holding the state file.
pub(crate) fn resolve(dir: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() { p.to_path_buf() } else { dir.join(p) }
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = *b.get(i + 1).ok_or("a string ends in a backslash")?;
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'"' | b'\'' | b'\\' | b'?' => out.push(c),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                let mut k = 0;
                while k < 2 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + u32::from(b[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push(u8::try_from(v).map_err(|_| "an octal escape above \\377")?);
            }
            b'x' => {
                let hex = s.get(i..i + 2).ok_or("a short \\x escape")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| "a bad \\x escape")?);
                i += 2;
            }
            _ => return Err(format!("unknown escape \\{}", c as char)),
        }
    }
    String::from_utf8(out).map_err(|_| "a path that is not UTF-8".to_string())
}

fn parse(text: &str) -> Result<CheckpointState, String> {
    let mut state = CheckpointState::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((field, value)) = line.split_once(':') else {
            return Err(format!("line {}: expected `field: \"value\"`", n + 1));
        };
        let value = value.trim();
        let quoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| format!("line {}: the value is not a quoted string", n + 1))?;
        match field.trim() {
            "model_checkpoint_path" => state.model_checkpoint_path = unescape(quoted)?,
            "all_model_checkpoint_paths" => state.all_model_checkpoint_paths.push(unescape(quoted)?),
            _ => {} // timestamps and future fields
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip_and_bad_text_is_refused() {
        let s = CheckpointState {
            model_checkpoint_path: "dir \"q\"\\x\n\u{1}é".into(),
            all_model_checkpoint_paths: vec!["a".into(), "dir \"q\"\\x\n\u{1}é".into()],
        };
        assert_eq!(parse(&s.to_text()).unwrap(), s);
        assert!(parse("model_checkpoint_path: unquoted\n").is_err());
        assert!(parse("model_checkpoint_path: \"bad \\q\"\n").is_err());
        assert!(parse("no colon here\n").is_err());
    }
}
