//! What reading, writing or matching a checkpoint can fail with. Every variant names the file
//! (and the key, when one is involved) and says what to do. Plain data only (strings and the
//! report), so the crate's one [`Error`](crate::Error) can hold it as `Error::Checkpoint`.

use std::fmt;

use super::report::CheckpointReport;

/// A checkpoint operation that failed, wrapped in [`Error::Checkpoint`](crate::Error::Checkpoint).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The operating system refused to read, write, sync or rename a file.
    Io {
        /// The file.
        path: String,
        /// What was being done (`open`, `read`, `write`, `rename`, ..).
        op: &'static str,
        /// The operating system's message.
        message: String,
    },
    /// A file is not what its format says: truncated, bit-flipped, wrongly sized or hostile.
    Corrupt {
        /// The file.
        path: String,
        /// The key whose entry or data is wrong, if the damage is in one.
        key: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A stored tensor whose dtype the runtime (or this operation) cannot hold.
    Unsupported {
        /// The checkpoint key.
        key: String,
        /// TensorFlow's dtype name, such as `int64` or `string`.
        dtype: String,
        /// What the caller can do instead.
        hint: &'static str,
    },
    /// A key the operation asked for is not in the checkpoint.
    MissingKey {
        /// The file (prefix) that was searched.
        path: String,
        /// The key.
        key: String,
        /// A stored key with a similar name, if any.
        suggestion: Option<String>,
    },
    /// The variables do not match what the checkpoint holds (the report of
    /// `Manifest::check_checkpoint` or of a restore).
    Mismatch(Box<CheckpointReport>),
    /// A remapping (`init_from_checkpoint`) or save request that is inconsistent in itself.
    InvalidRequest {
        /// What is wrong and how to fix it.
        reason: String,
    },
}

impl CheckpointError {
    pub(crate) fn io(path: impl fmt::Display, op: &'static str, err: &std::io::Error) -> CheckpointError {
        CheckpointError::Io { path: path.to_string(), op, message: err.to_string() }
    }

    pub(crate) fn corrupt(path: impl fmt::Display, key: Option<&str>, reason: impl Into<String>) -> CheckpointError {
        CheckpointError::Corrupt { path: path.to_string(), key: key.map(str::to_string), reason: reason.into() }
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io { path, op, message } => {
                write!(f, "cannot {op} checkpoint file `{path}`: {message}; check the path and its permissions")
            }
            CheckpointError::Corrupt { path, key: Some(key), reason } => write!(
                f,
                "checkpoint file `{path}` is damaged at key `{key}`: {reason}; restore it from a good copy or save again"
            ),
            CheckpointError::Corrupt { path, key: None, reason } => {
                write!(f, "checkpoint file `{path}` is damaged: {reason}; restore it from a good copy or save again")
            }
            CheckpointError::Unsupported { key, dtype, hint } => {
                write!(f, "checkpoint key `{key}` holds a {dtype} tensor, which cannot be used here: {hint}")
            }
            CheckpointError::MissingKey { path, key, suggestion } => {
                write!(f, "checkpoint `{path}` has no key `{key}`")?;
                match suggestion {
                    Some(s) => write!(f, ": did you mean `{s}`? Rename the variable or map it with a remapping rule"),
                    None => write!(f, ": save it first, or leave it out of the restore"),
                }
            }
            CheckpointError::Mismatch(report) => write!(f, "{report}"),
            CheckpointError::InvalidRequest { reason } => f.write_str(reason),
        }
    }
}

impl std::error::Error for CheckpointError {}

impl From<CheckpointError> for crate::Error {
    fn from(e: CheckpointError) -> crate::Error {
        crate::Error::Checkpoint(Box::new(e))
    }
}
