//! The layers and RNN cells as `#[model]`s: their variables are in a const
//! manifest, so the compile-time checks see through them. Calling [`dense`]
//! twice in one non-reuse scope fails `cargo check`; a cell unrolled in a
//! reuse or auto-reuse scope compiles.
//!
//! The variables are named as TF names them, relative to the scope of the
//! call, and take the same initial values as the runtime layers (each
//! variable's stream comes from its full name):
//!
//! | here | variables | TF |
//! |---|---|---|
//! | `scope!(cx, "fc1" { dense(cx, &x, 10, Activation::Relu) })` | `fc1/kernel`, `fc1/bias` | `tf.layers.dense(x, 10, tf.nn.relu, name="fc1")` |
//! | `scope!(cx, "c1" { conv2d(cx, &x, 32, [5, 5], [1, 1], Padding::Same, act) })` | `c1/kernel`, `c1/bias` | `tf.layers.conv2d(x, 32, 5, padding="same", name="c1")` |
//! | `scope!(cx, "rnn", auto_reuse { for x in xs { gru_cell(cx, x, &h, 8) } })` | `rnn/gru_cell/gates/kernel`, .. | `static_rnn(GRUCell(8), xs)` |
//!
//! The difference from [`crate::layers`]: there an unnamed layer takes the
//! next free scope at run time (`dense`, `dense_1`, ..), which no const
//! manifest can spell. Here the layer is named by the scope you open around
//! it, so every name is a literal the checks see, and two layers in one scope
//! are the duplicate TF reports for two layers given one `name=`. A TF cell
//! object remembers its scope; here the scope is where you call the cell:
//! call it again in a reuse scope to share its weights.
//!
//! ```
//! use varscope::layers::{Activation, dsl};
//! use varscope::{model, prelude::*, scope};
//!
//! #[model]
//! fn mlp(cx: &mut Scope, x: &Tensor) -> Result<Tensor> {
//!     let h = scope!(cx, "hidden" { dsl::dense(cx, x, 16, Activation::Relu) })?;
//!     scope!(cx, "logits" { dsl::dense(cx, &h, 3, Activation::Linear) })
//! }
//!
//! fn main() -> Result<()> {
//!     let graph = Graph::new();
//!     let mut cx = graph.scope();
//!     let x = cx.placeholder("x", Value::filled(DType::F32, &[4, 8], 0.5)?)?;
//!     let y = mlp(&mut cx, &x)?;
//!     assert_eq!((y.name(), y.shape()), ("logits/BiasAdd:0", &[4, 3][..]));
//!     let names: Vec<_> = mlp::MANIFEST.variables().into_iter().map(|v| v.name).collect();
//!     assert_eq!(names, ["hidden/kernel", "hidden/bias", "logits/kernel", "logits/bias"]);
//!     Ok(())
//! }
//! ```

use super::cell::{State, basic_lstm_step, basic_rnn_step, depth, gru_step};
use super::conv::{conv2d_depth, conv2d_output};
use super::core::{Activation, dense_depth, dense_output};
use crate::ops::Padding;
use crate::{Init, Result, Scope, Tensor, model, opaque, scope, var};

/// `tf.compat.v1.layers.dense` in the caller's scope: `activation(inputs ·
/// kernel + bias)` with `kernel` `[in, units]` (Glorot uniform) and `bias`
/// `[units]` (zeros), of the inputs' dtype.
///
/// ```
/// use varscope::layers::{Activation, dsl};
/// use varscope::{prelude::*, scope};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let cx = &mut cx;
/// let x = cx.constant(Value::filled(DType::F32, &[2, 3], 1.0)?)?;
/// let y = scope!(cx, "fc" { dsl::dense(cx, &x, 4, Activation::Tanh) })?;
/// assert_eq!((y.name(), graph.global_variables()[0].name()), ("fc/Tanh:0", "fc/kernel:0"));
/// # Ok::<(), varscope::Error>(())
/// ```
#[model]
pub fn dense(cx: &mut Scope, inputs: &Tensor, units: usize, activation: Activation) -> Result<Tensor> {
    let depth = dense_depth(inputs)?;
    let kernel = var!(cx, "kernel", [depth, units], dtype = inputs.dtype())?;
    let bias = var!(cx, "bias", [units], dtype = inputs.dtype(), init = Init::Zeros)?;
    opaque!(dense_output(cx, inputs, &kernel, Some(&bias), activation))
}

/// `tf.compat.v1.layers.conv2d` (NHWC) in the caller's scope: `kernel`
/// `[kh, kw, in, filters]` (Glorot uniform) and `bias` `[filters]` (zeros).
///
/// ```
/// use varscope::layers::{Activation, dsl};
/// use varscope::ops::Padding;
/// use varscope::{prelude::*, scope};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let cx = &mut cx;
/// let img = cx.constant(Value::filled(DType::F32, &[1, 6, 6, 3], 1.0)?)?;
/// let y = scope!(cx, "conv1" { dsl::conv2d(cx, &img, 8, [3, 3], [1, 1], Padding::Same, Activation::Relu) })?;
/// assert_eq!((y.name(), y.shape()), ("conv1/Relu:0", &[1, 6, 6, 8][..]));
/// # Ok::<(), varscope::Error>(())
/// ```
#[model]
pub fn conv2d(
    cx: &mut Scope,
    inputs: &Tensor,
    filters: usize,
    kernel_size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
    activation: Activation,
) -> Result<Tensor> {
    let depth = conv2d_depth(inputs)?;
    let [kh, kw] = kernel_size;
    let kernel = var!(cx, "kernel", [kh, kw, depth, filters], dtype = inputs.dtype())?;
    let bias = var!(cx, "bias", [filters], dtype = inputs.dtype(), init = Init::Zeros)?;
    opaque!(conv2d_output(cx, inputs, (&kernel, Some(&bias)), strides, padding, activation))
}

/// One step of `tf.compat.v1.nn.rnn_cell.BasicRNNCell` in the variable scope
/// `basic_rnn_cell` under the caller's: `h' = activation([x, h] · kernel + bias)`.
///
/// ```
/// use varscope::layers::{Activation, dsl};
/// use varscope::{prelude::*, scope};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let cx = &mut cx;
/// let x = cx.constant(Value::filled(DType::F32, &[2, 3], 1.0)?)?;
/// let h = cx.constant(Value::filled(DType::F32, &[2, 4], 0.0)?)?;
/// let h = scope!(cx, "rnn" { dsl::basic_rnn_cell(cx, &x, &h, 4, Activation::Tanh) })?;
/// assert_eq!(graph.global_variables()[0].name(), "rnn/basic_rnn_cell/kernel:0");
/// # let _ = h;
/// # Ok::<(), varscope::Error>(())
/// ```
#[model]
pub fn basic_rnn_cell(
    cx: &mut Scope,
    inputs: &Tensor,
    h: &Tensor,
    units: usize,
    activation: Activation,
) -> Result<Tensor> {
    let d = depth("BasicRNNCell", inputs)?;
    scope!(cx, "basic_rnn_cell" {
        let kernel = var!(cx, "kernel", [d + units, units], dtype = inputs.dtype())?;
        let bias = var!(cx, "bias", [units], dtype = inputs.dtype(), init = Init::Zeros)?;
        opaque!(basic_rnn_step(cx, inputs, h, [&kernel, &bias], activation))
    })
}

/// One step of `tf.compat.v1.nn.rnn_cell.GRUCell` in the variable scope
/// `gru_cell` under the caller's: `gates/kernel`, `gates/bias` (ones),
/// `candidate/kernel`, `candidate/bias` (zeros); returns the new state,
/// which is also the output.
///
/// ```
/// use varscope::layers::dsl;
/// use varscope::{prelude::*, scope};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let cx = &mut cx;
/// let xs: Vec<Tensor> = (0..3).map(|_| cx.constant(Value::filled(DType::F32, &[2, 3], 1.0)?)).collect::<Result<_>>()?;
/// let mut h = cx.constant(Value::filled(DType::F32, &[2, 4], 0.0)?)?;
/// scope!(cx, "rnn", auto_reuse {
///     for x in &xs {
///         h = dsl::gru_cell(cx, x, &h, 4)?; // one set of weights for every step
///     }
///     Ok::<(), Error>(())
/// })?;
/// assert_eq!(graph.global_variables().len(), 4);
/// assert_eq!(graph.global_variables()[0].name(), "rnn/gru_cell/gates/kernel:0");
/// # Ok::<(), varscope::Error>(())
/// ```
#[model]
pub fn gru_cell(cx: &mut Scope, inputs: &Tensor, h: &Tensor, units: usize) -> Result<Tensor> {
    let d = depth("GRUCell", inputs)?;
    let dtype = inputs.dtype();
    scope!(cx, "gru_cell" {
        let gk = var!(cx, "gates/kernel", [d + units, 2 * units], dtype = dtype)?;
        let gb = var!(cx, "gates/bias", [2 * units], dtype = dtype, init = Init::constant(1.0))?;
        let ck = var!(cx, "candidate/kernel", [d + units, units], dtype = dtype)?;
        let cb = var!(cx, "candidate/bias", [units], dtype = dtype, init = Init::Zeros)?;
        opaque!(gru_step(cx, inputs, h, [&gk, &gb, &ck, &cb]))
    })
}

/// One step of `tf.compat.v1.nn.rnn_cell.BasicLSTMCell` in the variable scope
/// `basic_lstm_cell` under the caller's: `kernel` `[in + units, 4 units]` and
/// `bias` (zeros), the forget bias added at run time; `state` is
/// [`State::Lstm`]; returns the output `h'` and the new state.
///
/// ```
/// use varscope::layers::{State, dsl};
/// use varscope::{prelude::*, scope};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let cx = &mut cx;
/// let x = cx.constant(Value::filled(DType::F32, &[2, 3], 1.0)?)?;
/// let zeros = cx.constant(Value::filled(DType::F32, &[2, 4], 0.0)?)?;
/// let state = State::Lstm { c: zeros.clone(), h: zeros };
/// let (out, _) = scope!(cx, "rnn" { dsl::basic_lstm_cell(cx, &x, &state, 4, 1.0) })?;
/// assert_eq!((out.shape(), graph.global_variables()[0].name()), (&[2, 4][..], "rnn/basic_lstm_cell/kernel:0"));
/// # Ok::<(), varscope::Error>(())
/// ```
#[model]
pub fn basic_lstm_cell(
    cx: &mut Scope,
    inputs: &Tensor,
    state: &State,
    units: usize,
    forget_bias: f64,
) -> Result<(Tensor, State)> {
    let d = depth("BasicLSTMCell", inputs)?;
    let (c, h) = state.lstm("BasicLSTMCell")?;
    let dtype = inputs.dtype();
    scope!(cx, "basic_lstm_cell" {
        let kernel = var!(cx, "kernel", [d + units, 4 * units], dtype = dtype)?;
        let bias = var!(cx, "bias", [4 * units], dtype = dtype, init = Init::Zeros)?;
        let (c, h) = opaque!(basic_lstm_step(cx, inputs, c, h, [&kernel, &bias], forget_bias))?;
        Ok((h.clone(), State::Lstm { c, h }))
    })
}
