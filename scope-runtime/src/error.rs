//! The one error type of the runtime.
//!
//! Every refused call returns an [`Error`]. Messages name the full path of the
//! variable, scope or op involved and say what to do about it. [`Error::kind`]
//! classifies an error the way the conformance cases spell it.

use crate::dtype::DType;

/// A result whose error is the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Formats a shape the way TensorFlow prints it: `(2, 3)`, `(1,)`, `()`.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        dims => {
            let inner: Vec<String> = dims.iter().map(usize::to_string).collect();
            format!("({})", inner.join(", "))
        }
    }
}

/// Everything the runtime refuses to do.
///
/// `Debug` prints the same sentence as `Display`, so a `fn main() -> Result<()>`
/// that fails shows what went wrong and what to do:
///
/// ```
/// use varscope::Graph;
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// cx.get_variable("v", [1])?;
/// let err = cx.get_variable("v", [1]).unwrap_err();
/// assert_eq!(format!("{err:?}"), err.to_string());
/// assert!(format!("{err:?}").starts_with("variable `v` already exists, disallowed"));
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A non-reusing scope asked for a variable that already exists.
    #[error(
        "variable `{name}` already exists, disallowed: to share it, open the enclosing scope with \
         `Reuse::ReuseOnly` or `Reuse::Auto` (or call `reuse_variables()`); to make a new one, use another name"
    )]
    AlreadyExists {
        /// Full name of the variable, such as `foo/v`.
        name: String,
    },
    /// An op or variable would create a node whose exact name is taken.
    #[error(
        "duplicate node name `{name}` in the graph: an exact name (one ending in `/`) must not be in use; \
         drop the trailing `/` to get a unique name"
    )]
    DuplicateNode {
        /// The exact node name.
        name: String,
    },
    /// A reusing scope asked for a variable that does not exist.
    #[error("variable `{name}` does not exist, or was not created with `get_variable`{}", did_you_mean(.suggestion))]
    NotFound {
        /// Full name of the missing variable.
        name: String,
        /// An existing variable with a similar name, if any.
        suggestion: Option<String>,
    },
    /// A shared variable was asked for with another shape.
    #[error(
        "trying to share variable `{name}`, but specified shape {} and found shape {}: \
         ask for the shape it was created with, or omit the shape to look it up",
        fmt_shape(.requested), fmt_shape(.found)
    )]
    ShapeMismatch {
        /// Full name of the variable.
        name: String,
        /// The shape asked for.
        requested: Vec<usize>,
        /// The shape the variable has.
        found: Vec<usize>,
    },
    /// A shared variable was asked for with another dtype.
    #[error(
        "trying to share variable `{name}`, but specified dtype {requested} and found dtype {found}: \
         ask for dtype {found} (a scope's dtype applies when none is given)"
    )]
    DTypeMismatch {
        /// Full name of the variable.
        name: String,
        /// The dtype asked for.
        requested: DType,
        /// The dtype the variable has.
        found: DType,
    },
    /// A scope, op or variable name that TensorFlow would refuse.
    #[error("`{name}` is not a valid {what}: {reason}")]
    InvalidName {
        /// The refused name.
        name: String,
        /// What the name was for: `root scope name`, `scope name` or `node name`.
        what: &'static str,
        /// Which character is wrong and what is allowed.
        reason: String,
    },
    /// Any other refused call; the message says what was wrong and how to fix it.
    #[error("{message}")]
    InvalidArgument {
        /// The full explanation.
        message: String,
    },
    /// An op got inputs whose shapes do not fit together.
    #[error("op `{node}` ({op}): incompatible shapes {} and {}: {reason}", fmt_shape(.lhs), fmt_shape(.rhs))]
    IncompatibleShapes {
        /// The op type, such as `MatMul`.
        op: &'static str,
        /// The full node name the op would have had.
        node: String,
        /// Shape of the first input.
        lhs: Vec<usize>,
        /// Shape of the second input.
        rhs: Vec<usize>,
        /// What the op needs.
        reason: String,
    },
    /// An op got inputs of different dtypes.
    #[error("op `{node}` ({op}): input dtypes {lhs} and {rhs} differ: cast one input first")]
    IncompatibleDTypes {
        /// The op type.
        op: &'static str,
        /// The full node name the op would have had.
        node: String,
        /// Dtype of the first input.
        lhs: DType,
        /// Dtype of the second input.
        rhs: DType,
    },
    /// An op (or gradient step) got a tensor or variable made by another graph.
    #[error(
        "{op}: `{tensor}` belongs to another graph: build every input in the graph of the scope \
         that runs the op"
    )]
    ForeignTensor {
        /// The op, such as ``op `foo/add` (AddV2)``.
        op: String,
        /// The name of the foreign tensor.
        tensor: String,
    },
    /// An op got a tensor whose op `Graph::clear_ops` removed.
    #[error(
        "{op}: `{tensor}` was made before the last `clear_ops`, which removed its op: \
         build it again after clearing (variables stay valid)"
    )]
    StaleTensor {
        /// The op, such as ``op `foo/add` (AddV2)``.
        op: String,
        /// The name of the stale tensor.
        tensor: String,
    },
    /// A bug in the runtime itself, never the caller's input.
    #[error("internal error in varscope: {message}; please report it with the code that caused it")]
    Internal {
        /// What went wrong.
        message: String,
    },
    /// `pop_scope` was called with no scope open.
    #[error("no scope is open: every `pop_scope` must match a successful `push_*_scope`")]
    NoOpenScope,
    /// A Gluon parameter was asked for with a shape that does not fit its stored one.
    #[error(
        "cannot retrieve Gluon parameter `{name}`: desired shape {} does not match stored shape {}; \
         ask for the stored shape, or use 0 for the dimensions not known yet",
        fmt_shape(.desired), fmt_shape(.stored)
    )]
    GluonShapeMismatch {
        /// Full Gluon name of the parameter, such as `dense0_weight`.
        name: String,
        /// The shape asked for (0 = unknown dimension).
        desired: Vec<usize>,
        /// The shape the parameter has.
        stored: Vec<usize>,
    },
    /// Collecting Gluon parameters met two different parameters with the same full name.
    #[error(
        "two different Gluon parameters are named `{name}`: give one of their blocks another prefix, \
         or make it share the other's parameters (`BlockSpec::share`)"
    )]
    DuplicateName {
        /// The full name both parameters have.
        name: String,
    },
    /// A `select` regex of `collect_params` does not compile.
    #[error("`{pattern}` is not a valid regex for `collect_params`: {reason}; fix the pattern or pass `None`")]
    InvalidRegex {
        /// The pattern as given.
        pattern: String,
        /// What the regex parser reported.
        reason: String,
    },
    /// A Gluon block scope was ended after an inner entry of the same block already ended it.
    #[error(
        "the scope of block `{prefix}` was entered again before this `end`, and that inner entry \
         already ended it: enter a block's scope only once at a time"
    )]
    ReenteredScope {
        /// Prefix of the block, such as `model0_`.
        prefix: String,
    },
    /// An op got an input of a dtype it does not support.
    #[error("op `{node}` ({op}): dtype {dtype} is not supported: use {supported} inputs")]
    UnsupportedDType {
        /// The op type, such as `Exp`.
        op: &'static str,
        /// The full node name the op would have had.
        node: String,
        /// The refused dtype.
        dtype: DType,
        /// The dtypes the op accepts, such as `float32 or float64`.
        supported: &'static str,
    },
    /// Reading, writing or matching a checkpoint failed (file and key named inside).
    #[error(transparent)]
    Checkpoint(Box<crate::checkpoint::CheckpointError>),
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(": did you mean `{s}`? To create it instead, use `Reuse::Auto` or a non-reusing scope"),
        None => ": create it first in a non-reusing scope, or use `Reuse::Auto` to create it on first use".to_string(),
    }
}

/// The class of an [`Error`], as the conformance cases name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A variable or node of that name exists.
    AlreadyExists,
    /// No variable of that name exists.
    NotFound,
    /// Shapes differ.
    ShapeMismatch,
    /// Dtypes differ.
    DTypeMismatch,
    /// A name TensorFlow would refuse.
    InvalidName,
    /// Any other refused call.
    InvalidArgument,
    /// Two different Gluon parameters have the same name.
    DuplicateName,
    /// A regex does not compile.
    InvalidRegex,
    /// A Gluon block scope was ended twice (it was entered again while open).
    ReenteredScope,
    /// A bug in the runtime ([`Error::Internal`]).
    Internal,
    /// A checkpoint could not be read, written or matched.
    Checkpoint,
}

impl ErrorKind {
    /// The spelling used by the conformance cases (`already_exists`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::NotFound => "not_found",
            ErrorKind::ShapeMismatch => "shape_mismatch",
            ErrorKind::DTypeMismatch => "dtype_mismatch",
            ErrorKind::InvalidName => "invalid_name",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::DuplicateName => "duplicate_name",
            ErrorKind::InvalidRegex => "invalid_regex",
            ErrorKind::ReenteredScope => "reentered_scope",
            ErrorKind::Internal => "internal",
            ErrorKind::Checkpoint => "checkpoint",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::AlreadyExists { .. } | Error::DuplicateNode { .. } => ErrorKind::AlreadyExists,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::ShapeMismatch { .. } => ErrorKind::ShapeMismatch,
            Error::DTypeMismatch { .. } => ErrorKind::DTypeMismatch,
            Error::InvalidName { .. } => ErrorKind::InvalidName,
            Error::InvalidArgument { .. }
            | Error::IncompatibleShapes { .. }
            | Error::IncompatibleDTypes { .. }
            | Error::NoOpenScope
            | Error::ForeignTensor { .. }
            | Error::StaleTensor { .. } => ErrorKind::InvalidArgument,
            Error::Internal { .. } => ErrorKind::Internal,
            Error::GluonShapeMismatch { .. } => ErrorKind::ShapeMismatch,
            Error::DuplicateName { .. } => ErrorKind::DuplicateName,
            Error::InvalidRegex { .. } => ErrorKind::InvalidRegex,
            Error::ReenteredScope { .. } => ErrorKind::ReenteredScope,
            Error::UnsupportedDType { .. } => ErrorKind::InvalidArgument,
            Error::Checkpoint(_) => ErrorKind::Checkpoint,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::InvalidArgument { message: message.into() }
    }

    /// A bug of the runtime, reported instead of a panic.
    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error::Internal { message: message.into() }
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
