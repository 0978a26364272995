//! Procedural macros of varscope: [`macro@model`], [`scope!`], [`var!`] and [`opaque!`].
//!
//! Use them through the facade crate `varscope` (`use varscope::{model, scope, var};`).
//! Generated code names the runtime through `::varscope::__private`, so `varscope` must be a
//! dependency under its own name (not renamed in `Cargo.toml`).
//!
//! This crate is a thin `proc_macro` boundary over `scope-macros-core`, where the macros are
//! plain `proc_macro2` functions that tests call directly. It never depends on the runtime.

use proc_macro::TokenStream;

/// Marks a function as a model: its `var!`/`scope!` invocations are checked at compile time
/// and it gets a const manifest.
///
/// A model takes the context first (`cx: &mut Scope`, any name). Inside it, a call whose first
/// argument is the context itself, `path(cx, ..)`, is a call into another model: the callee's
/// manifest `path::MANIFEST` is followed, across modules and crates, and a variable created
/// twice in one non-reuse scope, or declared again with another literal shape or dtype (also
/// in a reuse scope), is a compile error underlining the second call.
///
/// ```compile_fail,E0080
/// use varscope::prelude::*;
/// use varscope::{model, scope, var};
///
/// #[model]
/// fn conv(cx: &mut Scope) -> Result<Variable> {
///     var!(cx, "weights", [5, 5])
/// }
///
/// #[model]
/// fn net(cx: &mut Scope) -> Result<()> {
///     scope!(cx, "conv1" {
///         conv(cx)?;
///         conv(cx)?; // error: duplicate variable `conv1/weights` in model `net`
///         Ok(())
///     })
/// }
/// # fn main() {}
/// ```
///
/// The manifest lists every variable relative to the scope the model is called in, before any
/// tensor exists:
///
/// ```
/// use varscope::prelude::*;
/// use varscope::{model, scope, var};
///
/// #[model]
/// fn conv(cx: &mut Scope) -> Result<Variable> {
///     var!(cx, "weights", [5, 5], init = Init::Zeros)
/// }
///
/// #[model]
/// fn net(cx: &mut Scope) -> Result<()> {
///     scope!(cx, "conv1" { conv(cx) })?;
///     scope!(cx, "conv2" { conv(cx) })?;
///     Ok(())
/// }
///
/// # fn main() {
/// let names: Vec<String> = net::MANIFEST.variables().into_iter().map(|v| v.name).collect();
/// assert_eq!(names, ["conv1/weights", "conv2/weights"]);
/// println!("{}", net::MANIFEST); // a table: variable | shape | dtype | init | reuse | line | model
/// # }
/// ```
///
/// Hard corners:
/// - the manifest lives in a hidden module named after the fn (`net::MANIFEST`), so the fn's
///   name must be free in the type namespace of its module (`mod net; pub use net::net;`
///   collides), and models must be items of a module, not of a block;
/// - generic models work; a call through a type parameter (`L::forward(cx, ..)`) or a method
///   (`self.layer(cx, ..)`) is not followed (the runtime checks it);
/// - a plain helper taking the context first must be a `#[model]` or `#[model(opaque)]` (an
///   opaque manifest: callers do not follow it), or be called as `opaque!(helper(cx, ..))`;
///   otherwise rustc reports `cannot find module or crate helper` at the call;
/// - `use` of a model inside the body works; methods get the in-body checks but no manifest
///   (`#[model(method)]` on an associated fn without `self`);
/// - recursion (direct or mutual) is not followed past the first repetition; nesting deeper
///   than 512 models or more than 6,144 variables reaching one model is a compile error
///   saying so, never skipped silently;
/// - loops, closures and dynamic names fall back to the runtime's checks, which stay in force.
#[proc_macro_attribute]
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    scope_macros_core::model(attr.into(), item.into()).into()
}

/// Checks the scopes of any function, such as `main`, as `#[model]` checks a model's body:
/// the contexts it makes (`let mut cx = graph.scope();`, `let cx = &mut cx;`) are the roots,
/// and a model called twice in one non-reuse scope is a compile error on the second call.
///
/// ```compile_fail,E0080
/// use varscope::prelude::*;
/// use varscope::{checked, model, var};
///
/// #[model]
/// fn layer(cx: &mut Scope) -> Result<Variable> {
///     var!(cx, "w", [2])
/// }
///
/// #[checked]
/// fn main() -> Result<()> {
///     let graph = Graph::new();
///     let mut cx = graph.scope();
///     layer(&mut cx)?;
///     layer(&mut cx)?; // error: duplicate variable `w` in `fn main`
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn checked(attr: TokenStream, item: TokenStream) -> TokenStream {
    scope_macros_core::checked(attr.into(), item.into()).into()
}

/// Opens a variable scope around a block: `scope!(cx, name, options.. { body })`.
///
/// The body sees `cx` rebound to the new scope; the scope closes when the block ends (an RAII
/// guard), `?` in the body propagates, and the block's value is the body's value. Opening the
/// scope can fail (an invalid name), so the enclosing function returns a `Result` whose error
/// converts from `varscope::Error`.
///
/// - name: a string literal (checked statically: TensorFlow's name rules, duplicates) or any
///   other expression, the dynamic escape hatch: a `String` (`format!("layer{i}")`), a `&str`,
///   or a captured `VariableScope` (`&captured`) to re-enter;
/// - `reuse`, `auto_reuse`, or `reuse = expr` (a `Reuse`);
/// - `initializer = expr` (an `Init`), `regularizer = expr` (a `Regularizer`, run on each
///   variable created inside), `dtype = expr` (a `DType`);
/// - `default_name = "layer"` instead of a name: an auto-numbered scope (`layer`, `layer_1`..);
/// - `auxiliary_name_scope = bool`.
///
/// Calling `cx.reuse_variables()` part-way through a scope switches the rest of it to reuse,
/// for the runtime and for the static checks. Outside a `#[model]`, `scope!` checks its own
/// body the same way.
///
/// ```
/// use varscope::prelude::*;
/// use varscope::{scope, var};
///
/// fn main() -> Result<()> {
///     let graph = Graph::new();
///     let mut cx = graph.scope();
///     let cx = &mut cx;
///     let w = scope!(cx, "fc", initializer = Init::Zeros { var!(cx, "w", [2, 3]) })?;
///     let again = scope!(cx, "fc", reuse { var!(cx, "w") })?;
///     assert!(w.same(&again));
///     assert_eq!(w.name(), "fc/w:0");
///     Ok(())
/// }
/// ```
///
/// ```compile_fail
/// use varscope::prelude::*;
/// use varscope::scope;
///
/// fn main() -> Result<()> {
///     let graph = Graph::new();
///     let mut cx = graph.scope();
///     let cx = &mut cx;
///     scope!(cx, "a b" { Ok(()) }) // error: `a b` is not a valid scope name
/// }
/// ```
#[proc_macro]
pub fn scope(input: TokenStream) -> TokenStream {
    scope_macros_core::scope(input.into()).into()
}

/// Gets or creates a variable in the current scope:
/// `var!(cx, name, shape, init = .., regularizer = .., dtype = .., trainable = ..)`.
///
/// Expands to `Scope::get_variable(cx, name, VarSpec::new().shape(..)..)`, a
/// `Result<Variable>`. The shape is optional (omit it to look up an existing variable); a
/// literal name and a literal shape (`[5, 5, 32]`) or dtype (`DType::F32`) are checked
/// statically; any other name expression is the dynamic escape hatch.
///
/// ```compile_fail
/// use varscope::prelude::*;
/// use varscope::{model, var};
///
/// #[model]
/// fn net(cx: &mut Scope) -> Result<()> {
///     for _ in 0..3 {
///         // error: variable `w` in model `net` is created inside a loop in a non-reuse scope
///         var!(cx, "w", [1])?;
///     }
///     Ok(())
/// }
/// # fn main() {}
/// ```
#[proc_macro]
pub fn var(input: TokenStream) -> TokenStream {
    scope_macros_core::var(input.into()).into()
}

/// Marks an expression whose calls `#[model]` must not follow, such as a plain helper that
/// takes the context first: `opaque!(helper(cx, x))`. The runtime still checks it.
///
/// ```
/// use varscope::prelude::*;
/// use varscope::{model, opaque};
///
/// fn helper(cx: &mut Scope) -> Result<Variable> {
///     cx.get_variable("w", [1])
/// }
///
/// #[model]
/// fn net(cx: &mut Scope) -> Result<Variable> {
///     opaque!(helper(cx))
/// }
/// # fn main() {}
/// ```
#[proc_macro]
pub fn opaque(input: TokenStream) -> TokenStream {
    scope_macros_core::opaque(input.into()).into()
}
