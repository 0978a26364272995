//! Names of macros, options and methods that the macros recognise, in one place.

/// The `var!` macro.
pub const VAR: &str = "var";
/// The `scope!` macro.
pub const SCOPE: &str = "scope";
/// The `opaque!` marker macro.
pub const OPAQUE: &str = "opaque";
/// The method that switches the rest of the current scope to reuse.
pub const REUSE_VARIABLES: &str = "reuse_variables";
/// The runtime method that gets or creates a variable (`cx.get_variable("w", ..)`).
pub const GET_VARIABLE: &str = "get_variable";
/// The runtime method that opens a variable scope and returns its guard.
pub const VARIABLE_SCOPE: &str = "variable_scope";
/// The method that makes a thread's context from a graph (`graph.scope()`).
pub const GRAPH_SCOPE: &str = "scope";
/// Functions of the std prelude and of `std::mem` that take a value first: a call with the
/// context first is never a model call.
pub const STD_FNS: &[&str] = &["drop", "forget", "take", "replace", "swap", "identity", "black_box"];
/// Std macros that evaluate their arguments once, as ordinary expressions: the walk looks
/// inside them. The `debug_` ones may not run (release builds): their arguments are an arm.
pub const STD_EXPR_MACROS: &[&str] = &[
    "vec",
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "format_args",
    "write",
    "writeln",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "dbg",
    "panic",
];

/// `scope!` flag: reuse existing variables only.
pub const REUSE: &str = "reuse";
/// `scope!` flag: create or reuse.
pub const AUTO_REUSE: &str = "auto_reuse";
/// `scope!` option: default initializer.
pub const INITIALIZER: &str = "initializer";
/// `scope!` option: default dtype, and `var!` option: the variable's dtype.
pub const DTYPE: &str = "dtype";
/// `scope!` option: the regularizer of the variables created inside; `var!` option: the
/// variable's.
pub const REGULARIZER: &str = "regularizer";
/// `scope!` option: auto-numbered scope name.
pub const DEFAULT_NAME: &str = "default_name";
/// `scope!` option: whether to open a name scope too.
pub const AUXILIARY_NAME_SCOPE: &str = "auxiliary_name_scope";
/// The options `scope!` accepts, for messages.
pub const SCOPE_OPTIONS: &str =
    "`reuse`, `auto_reuse`, `initializer`, `regularizer`, `dtype`, `default_name`, `auxiliary_name_scope`";

/// `var!` option: the shape (also accepted positionally).
pub const SHAPE: &str = "shape";
/// `var!` option: the initializer.
pub const INIT: &str = "init";
/// `var!` option: whether the variable is trainable.
pub const TRAINABLE: &str = "trainable";
/// The options `var!` accepts, for messages.
pub const VAR_OPTIONS: &str = "`shape`, `init`, `regularizer`, `dtype`, `trainable`";

/// `#[model]` option: a plain helper with an empty, opaque manifest.
pub const MODEL_OPAQUE: &str = "opaque";
/// `#[model]` option: a method in an `impl` block (no manifest).
pub const MODEL_METHOD: &str = "method";
/// The options `#[model]` accepts, for messages.
pub const MODEL_OPTIONS: &str = "`opaque`, `method`";
