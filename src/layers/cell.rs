//! RNN cells as in `tf.compat.v1.nn.rnn_cell` (`tf_keras`'s `legacy_cells.py`
//! and `legacy_cell_wrappers.py`), with their variables, op names and
//! defaults.

use std::cell::RefCell;
use std::rc::Rc;

use super::core::Activation;
use super::layer::{LayerScope, invalid, scalar};
use crate::{DType, Init, Result, Scope, Tensor, Value, VarScope, VarSpec, Variable, VariableScope};

/// A cell's state: one tensor, an LSTM's `(c, h)` (TF's `LSTMStateTuple`),
/// or one state per cell of a [`MultiRnnCell`].
#[derive(Debug, Clone)]
pub enum State {
    /// One tensor `[batch, units]`.
    Tensor(Tensor),
    /// An LSTM's memory `c` and output `h`.
    Lstm {
        /// The memory `[batch, num_units]`.
        c: Tensor,
        /// The output `[batch, num_proj or num_units]`.
        h: Tensor,
    },
    /// The states of stacked cells, first cell first.
    Tuple(Vec<State>),
}

impl State {
    /// The tensors in TF's `nest.flatten` order.
    ///
    /// ```
    /// use varscope::layers::State;
    /// use varscope::Graph;
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let (c, h) = (cx.constant(0.0f32)?, cx.constant(1.0f32)?);
    /// let s = State::Tuple(vec![State::Lstm { c, h }]);
    /// assert_eq!(s.flatten().len(), 2);
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn flatten(&self) -> Vec<Tensor> {
        match self {
            State::Tensor(t) => vec![t.clone()],
            State::Lstm { c, h } => vec![c.clone(), h.clone()],
            State::Tuple(s) => s.iter().flat_map(State::flatten).collect(),
        }
    }

    /// A state of the same structure made of `tensors` (in flatten order).
    pub(crate) fn rebuild(&self, tensors: &mut impl Iterator<Item = Tensor>) -> Result<State> {
        let mut next = || tensors.next().ok_or_else(|| invalid("a state with too few tensors"));
        Ok(match self {
            State::Tensor(_) => State::Tensor(next()?),
            State::Lstm { .. } => State::Lstm { c: next()?, h: next()? },
            State::Tuple(s) => State::Tuple(s.iter().map(|x| x.rebuild(tensors)).collect::<Result<_>>()?),
        })
    }

    fn single(&self, cell: &str) -> Result<&Tensor> {
        match self {
            State::Tensor(t) => Ok(t),
            _ => Err(invalid(format!("{cell} takes a single-tensor state"))),
        }
    }

    pub(crate) fn lstm(&self, cell: &str) -> Result<(&Tensor, &Tensor)> {
        match self {
            State::Lstm { c, h } => Ok((c, h)),
            _ => Err(invalid(format!("{cell} takes an LSTM state (c, h)"))),
        }
    }
}

/// The shape of a cell's state (TF's `state_size`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateSize {
    /// One tensor of this many units.
    Single(usize),
    /// An LSTM's `c` and `h` sizes.
    Lstm {
        /// `c`'s units.
        c: usize,
        /// `h`'s units.
        h: usize,
    },
    /// One per stacked cell.
    Tuple(Vec<StateSize>),
}

/// An RNN cell: one step `(output, state) = cell(inputs, state)`.
///
/// A cell value holds the variable scope of its first call, so calling the
/// same value again reuses its variables (as calling one TF cell object
/// twice does); calls take `&self`.
pub trait RnnCell {
    /// TF's class name (`BasicLSTMCell`), which names `zero_state`'s scope.
    fn class_name(&self) -> &'static str;
    /// The state's shape.
    fn state_size(&self) -> StateSize;
    /// The output's units.
    fn output_size(&self) -> usize;
    /// One step; `scope` is TF's `scope=` argument (a name or captured scope
    /// for the cell's variables, used on the first call only).
    fn call_scoped(
        &self,
        cx: &mut Scope,
        inputs: &Tensor,
        state: &State,
        scope: Option<VarScope>,
    ) -> Result<(Tensor, State)>;
    /// One step in the cell's own scope (`cell(inputs, state)`).
    fn call(&self, cx: &mut Scope, inputs: &Tensor, state: &State) -> Result<(Tensor, State)> {
        self.call_scoped(cx, inputs, state, None)
    }
    /// Zeros of the state's shape for `batch` rows, in a name scope
    /// `<class>ZeroState` (`zeros`, `zeros_1`, ..).
    fn zero_state(&self, cx: &mut Scope, batch: usize, dtype: DType) -> Result<State> {
        cx.push_name_scope(&format!("{}ZeroState", self.class_name()))?;
        let result = self.zero_state_inner(cx, batch, dtype);
        cx.pop_scope()?;
        result
    }
    /// [`RnnCell::zero_state`] inside its name scope.
    fn zero_state_inner(&self, cx: &mut Scope, batch: usize, dtype: DType) -> Result<State> {
        zeros_of(cx, &self.state_size(), batch, dtype)
    }
}

fn zeros_of(cx: &mut Scope, size: &StateSize, batch: usize, dtype: DType) -> Result<State> {
    let zeros = |cx: &Scope, n: usize| cx.named("zeros").constant(Value::filled(dtype, &[batch, n], 0.0)?);
    Ok(match size {
        StateSize::Single(n) => State::Tensor(zeros(cx, *n)?),
        StateSize::Lstm { c, h } => State::Lstm { c: zeros(cx, *c)?, h: zeros(cx, *h)? },
        StateSize::Tuple(s) => State::Tuple(s.iter().map(|x| zeros_of(cx, x, batch, dtype)).collect::<Result<_>>()?),
    })
}

/// The depth (last dimension) of a 2-D cell input.
pub(crate) fn depth(cell: &str, inputs: &Tensor) -> Result<usize> {
    match inputs.shape() {
        [_, d] => Ok(*d),
        _ => Err(invalid(format!("{cell}: input `{}` must be [batch, depth]", inputs.name()))),
    }
}

/// A variable of the cell; `init` `None` takes the scope's initializer (else
/// Glorot uniform), as `add_weight` without one does.
fn weight(cx: &Scope, name: &str, shape: &[usize], dtype: DType, init: Option<Init>) -> Result<Variable> {
    let mut spec = VarSpec::new().shape(shape).dtype(dtype);
    if let Some(init) = init {
        spec = spec.init(init);
    }
    cx.get_variable(name, spec)
}

/// The `tf.concat([inputs, h], 1)`, `MatMul`, `BiasAdd` every cell starts with.
fn gates(cx: &Scope, inputs: &Tensor, h: &Tensor, kernel: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let x = cx.concat(&[inputs, h], 1)?;
    cx.bias_add(&cx.matmul(&x, kernel)?, bias)
}

macro_rules! layer_cell_docs {
    () => {
        "Its variables are made on the first call, in the variable scope the cell captures then (its name, numbered: `basic_lstm_cell`, `basic_lstm_cell_1`, ..., inside the scope of that call); later calls reuse them."
    };
}

/// `tf.compat.v1.nn.rnn_cell.BasicRNNCell`: `h' = act([x, h] · kernel +
/// bias)`, variables `basic_rnn_cell/kernel` `[in + units, units]` (Glorot)
/// and `bias` (zeros); output and state are `h'`.
///
#[doc = layer_cell_docs!()]
///
/// ```
/// use varscope::layers::{BasicRnnCell, RnnCell, State};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.placeholder("x", ArrayD::<f32>::zeros(vec![2, 5]))?;
/// let cell = BasicRnnCell::new(4);
/// let zero = cell.zero_state(&mut cx, 2, DType::F32)?;
/// let (out, _) = cell.call_scoped(&mut cx, &x, &zero, Some("rnn".into()))?;
/// assert_eq!(out.name(), "rnn/Tanh:0");
/// assert_eq!(graph.global_variables()[0].name(), "rnn/kernel:0");
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug)]
pub struct BasicRnnCell {
    units: usize,
    activation: Activation,
    layer: LayerScope,
}

impl BasicRnnCell {
    /// `units` units, `tanh`.
    pub fn new(units: usize) -> BasicRnnCell {
        BasicRnnCell::with(units, Activation::Tanh, None, false)
    }
    /// With an activation, a name (`name=`) and `reuse=`.
    pub fn with(units: usize, activation: Activation, name: Option<&str>, reuse: bool) -> BasicRnnCell {
        BasicRnnCell { units, activation, layer: LayerScope::lazy("basic_rnn_cell", name, reuse) }
    }
}

impl RnnCell for BasicRnnCell {
    fn class_name(&self) -> &'static str {
        "BasicRNNCell"
    }
    fn state_size(&self) -> StateSize {
        StateSize::Single(self.units)
    }
    fn output_size(&self) -> usize {
        self.units
    }
    fn call_scoped(
        &self,
        cx: &mut Scope,
        inputs: &Tensor,
        state: &State,
        scope: Option<VarScope>,
    ) -> Result<(Tensor, State)> {
        let h = state.single("BasicRNNCell")?;
        let d = depth("BasicRNNCell", inputs)?;
        self.layer.call(cx, scope, |cx| {
            let dtype = inputs.dtype();
            let kernel = weight(cx, "kernel", &[d + self.units, self.units], dtype, None)?;
            let bias = weight(cx, "bias", &[self.units], dtype, Some(Init::Zeros))?;
            let out = basic_rnn_step(cx, inputs, h, [&kernel, &bias], self.activation)?;
            Ok((out.clone(), State::Tensor(out)))
        })
    }
}

/// `tf.compat.v1.nn.rnn_cell.BasicLSTMCell`: `i, j, f, o = split([x, h] ·
/// kernel + bias, 4)`, `c' = c σ(f + forget_bias) + σ(i) tanh(j)`, `h' =
/// tanh(c') σ(o)`; variables `basic_lstm_cell/kernel` `[in + units, 4 units]`
/// (Glorot) and `bias` (zeros): the forget bias is added at run time.
///
#[doc = layer_cell_docs!()]
///
/// ```
/// use varscope::layers::{BasicLstmCell, RnnCell, State};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.placeholder("x", ArrayD::<f32>::zeros(vec![2, 5]))?;
/// let cell = BasicLstmCell::new(4);
/// let zero = cell.zero_state(&mut cx, 2, DType::F32)?;
/// let (out, state) = cell.call(&mut cx, &x, &zero)?;
/// assert_eq!(out.name(), "basic_lstm_cell/Mul_2:0");
/// let State::Lstm { c, .. } = state else { unreachable!() };
/// assert_eq!(c.name(), "basic_lstm_cell/Add_1:0");
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug)]
pub struct BasicLstmCell {
    units: usize,
    forget_bias: f64,
    layer: LayerScope,
}

impl BasicLstmCell {
    /// `units` units, forget bias 1.0.
    pub fn new(units: usize) -> BasicLstmCell {
        BasicLstmCell::with(units, 1.0, None, false)
    }
    /// With a forget bias, a name (`name=`) and `reuse=`.
    pub fn with(units: usize, forget_bias: f64, name: Option<&str>, reuse: bool) -> BasicLstmCell {
        BasicLstmCell { units, forget_bias, layer: LayerScope::lazy("basic_lstm_cell", name, reuse) }
    }
}

impl RnnCell for BasicLstmCell {
    fn class_name(&self) -> &'static str {
        "BasicLSTMCell"
    }
    fn state_size(&self) -> StateSize {
        StateSize::Lstm { c: self.units, h: self.units }
    }
    fn output_size(&self) -> usize {
        self.units
    }
    fn call_scoped(
        &self,
        cx: &mut Scope,
        inputs: &Tensor,
        state: &State,
        scope: Option<VarScope>,
    ) -> Result<(Tensor, State)> {
        let (c, h) = state.lstm("BasicLSTMCell")?;
        let d = depth("BasicLSTMCell", inputs)?;
        let n = self.units;
        self.layer.call(cx, scope, |cx| {
            let dtype = inputs.dtype();
            let kernel = weight(cx, "kernel", &[d + n, 4 * n], dtype, None)?;
            let bias = weight(cx, "bias", &[4 * n], dtype, Some(Init::Zeros))?;
            let (new_c, new_h) = basic_lstm_step(cx, inputs, c, h, [&kernel, &bias], self.forget_bias)?;
            Ok((new_h.clone(), State::Lstm { c: new_c, h: new_h }))
        })
    }
}

/// BasicRNNCell's step from its `[kernel, bias]`, shared with
/// [`dsl::basic_rnn_cell`](super::dsl::basic_rnn_cell).
pub(crate) fn basic_rnn_step(
    cx: &Scope,
    inputs: &Tensor,
    h: &Tensor,
    [kernel, bias]: [&Tensor; 2],
    activation: Activation,
) -> Result<Tensor> {
    activation.apply(cx, &gates(cx, inputs, h, kernel, bias)?)
}

/// BasicLSTMCell's step from its `[kernel, bias]`: the new `(c, h)`, the one
/// definition [`BasicLstmCell`] and [`dsl::basic_lstm_cell`](super::dsl::basic_lstm_cell) share.
pub(crate) fn basic_lstm_step(
    cx: &Scope,
    inputs: &Tensor,
    c: &Tensor,
    h: &Tensor,
    [kernel, bias]: [&Tensor; 2],
    forget_bias: f64,
) -> Result<(Tensor, Tensor)> {
    let dtype = inputs.dtype();
    let z = gates(cx, inputs, h, kernel, bias)?;
    let _one = cx.constant(1i32)?;
    let parts = cx.split(&z, 4, 1)?;
    let [i, j, f, o] = &parts[..] else { return Err(invalid("split made no 4 parts")) };
    let fb = scalar(cx, forget_bias, dtype)?;
    let keep = cx.sigmoid(&cx.named("Add").add(f, &fb)?)?;
    let kept = cx.named("Mul").mul(c, &keep)?;
    let (si, tj) = (cx.sigmoid(i)?, cx.tanh(j)?);
    let write = cx.named("Mul").mul(&si, &tj)?;
    let new_c = cx.named("Add").add(&kept, &write)?;
    let (tc, so) = (cx.tanh(&new_c)?, cx.sigmoid(o)?);
    let new_h = cx.named("Mul").mul(&tc, &so)?;
    Ok((new_c, new_h))
}

/// The options of [`LstmCell`] beyond its units.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LstmOptions {
    /// Peephole weights `w_f_diag`, `w_i_diag`, `w_o_diag` (`use_peepholes=`).
    pub use_peepholes: bool,
    /// Project `h` to this many units (`num_proj=`; variable `projection/kernel`).
    pub num_proj: Option<usize>,
    /// Clip `c` to `[-x, x]` (`cell_clip=`).
    pub cell_clip: Option<f64>,
    /// Clip the projected `h` to `[-x, x]` (`proj_clip=`).
    pub proj_clip: Option<f64>,
    /// The forget bias, added at run time (`forget_bias=`; `None` is 1.0).
    pub forget_bias: Option<f64>,
    /// The kernels' initializer (`initializer=`; default the scope's, else Glorot).
    pub initializer: Option<Init>,
    /// The scope name (`name=`).
    pub name: Option<String>,
    /// `reuse=True`.
    pub reuse: bool,
}

/// `tf.compat.v1.nn.rnn_cell.LSTMCell`: [`BasicLstmCell`]'s equations with
/// optional peepholes (`f += w_f_diag c`, `i += w_i_diag c`, `o += w_o_diag
/// c'`), cell clipping and a projection `h' = m · projection/kernel`;
/// variables `lstm_cell/kernel` `[in + h, 4 units]`, `bias`, then
/// `w_f_diag`, `w_i_diag`, `w_o_diag`, `projection/kernel` `[units, proj]`.
///
#[doc = layer_cell_docs!()]
///
/// ```
/// use varscope::layers::{LstmCell, LstmOptions, RnnCell};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.placeholder("x", ArrayD::<f32>::zeros(vec![1, 5]))?;
/// let opts = LstmOptions { use_peepholes: true, num_proj: Some(2), cell_clip: Some(0.25), ..Default::default() };
/// let cell = LstmCell::new(3, opts);
/// let zero = cell.zero_state(&mut cx, 1, DType::F32)?;
/// let (out, _) = cell.call(&mut cx, &x, &zero)?;
/// assert_eq!((out.name(), out.shape()), ("lstm_cell/MatMul_1:0", &[1, 2][..]));
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug)]
pub struct LstmCell {
    units: usize,
    opts: LstmOptions,
    layer: LayerScope,
}

impl LstmCell {
    /// `units` units with `opts`.
    pub fn new(units: usize, opts: LstmOptions) -> LstmCell {
        let layer = LayerScope::lazy("lstm_cell", opts.name.as_deref(), opts.reuse);
        LstmCell { units, opts, layer }
    }
}

impl RnnCell for LstmCell {
    fn class_name(&self) -> &'static str {
        "LSTMCell"
    }
    fn state_size(&self) -> StateSize {
        StateSize::Lstm { c: self.units, h: self.output_size() }
    }
    fn output_size(&self) -> usize {
        self.opts.num_proj.unwrap_or(self.units)
    }
    fn call_scoped(
        &self,
        cx: &mut Scope,
        inputs: &Tensor,
        state: &State,
        scope: Option<VarScope>,
    ) -> Result<(Tensor, State)> {
        let (c_prev, m_prev) = state.lstm("LSTMCell")?;
        let d = depth("LSTMCell", inputs)?;
        let (n, o) = (self.units, &self.opts);
        let h_depth = self.output_size();
        self.layer.call(cx, scope, |cx| {
            let dtype = inputs.dtype();
            let kernel = weight(cx, "kernel", &[d + h_depth, 4 * n], dtype, o.initializer)?;
            let bias = weight(cx, "bias", &[4 * n], dtype, Some(Init::Zeros))?;
            let peep = if o.use_peepholes {
                let w = |name: &str| weight(cx, name, &[n], dtype, o.initializer);
                Some((w("w_f_diag")?, w("w_i_diag")?, w("w_o_diag")?))
            } else {
                None
            };
            let proj = match o.num_proj {
                Some(p) => Some(weight(cx, "projection/kernel", &[n, p], dtype, o.initializer)?),
                None => None,
            };
            let z = gates(cx, inputs, m_prev, &kernel, &bias)?;
            let parts = cx.split(&z, 4, 1)?;
            let [i, j, f, og] = &parts[..] else { return Err(invalid("split made no 4 parts")) };
            let fb = scalar(cx, o.forget_bias.unwrap_or(1.0), dtype)?;
            let mut c = match &peep {
                Some((wf, wi, _)) => {
                    let f1 = cx.add(f, &fb)?;
                    let keep = cx.sigmoid(&cx.add(&f1, &cx.mul(wf.tensor(), c_prev)?)?)?;
                    let kept = cx.mul(&keep, c_prev)?;
                    let wic = cx.mul(wi.tensor(), c_prev)?;
                    let gate = cx.sigmoid(&cx.add(i, &wic)?)?;
                    cx.add(&kept, &cx.mul(&gate, &cx.tanh(j)?)?)?
                }
                None => {
                    let kept = cx.mul(&cx.sigmoid(&cx.add(f, &fb)?)?, c_prev)?;
                    let gate = cx.sigmoid(i)?;
                    cx.add(&kept, &cx.mul(&gate, &cx.tanh(j)?)?)?
                }
            };
            if let Some(clip) = o.cell_clip {
                let (lo, hi) = (scalar(cx, -clip, dtype)?, scalar(cx, clip, dtype)?);
                c = cx.clip_by_value(&c, &lo, &hi)?;
            }
            let out_gate = match &peep {
                Some((_, _, wo)) => cx.sigmoid(&cx.add(og, &cx.mul(wo.tensor(), &c)?)?)?,
                None => cx.sigmoid(og)?,
            };
            let mut m = cx.mul(&out_gate, &cx.tanh(&c)?)?;
            if let Some(p) = &proj {
                m = cx.matmul(&m, p.tensor())?;
                if let Some(clip) = o.proj_clip {
                    let (lo, hi) = (scalar(cx, -clip, dtype)?, scalar(cx, clip, dtype)?);
                    m = cx.clip_by_value(&m, &lo, &hi)?;
                }
            }
            Ok((m.clone(), State::Lstm { c, h: m }))
        })
    }
}

/// `tf.compat.v1.nn.rnn_cell.GRUCell`: `r, u = split(σ([x, h] · gates/kernel
/// + gates/bias), 2)`, `c = tanh([x, r h] · candidate/kernel +
/// candidate/bias)`, `h' = u h + (1 - u) c`; the gate bias starts at 1.0,
/// the candidate bias at 0.
///
#[doc = layer_cell_docs!()]
///
/// ```
/// use varscope::layers::{GruCell, RnnCell};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.placeholder("x", ArrayD::<f32>::zeros(vec![2, 5]))?;
/// let cell = GruCell::new(3);
/// let zero = cell.zero_state(&mut cx, 2, DType::F32)?;
/// let (out, _) = cell.call(&mut cx, &x, &zero)?;
/// assert_eq!(out.name(), "gru_cell/add:0");
/// let bias = graph.get_variable_by_name("gru_cell/gates/bias").unwrap();
/// assert_eq!(bias.value().to_f64_vec(), [1.0; 6]);
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug)]
pub struct GruCell {
    units: usize,
    layer: LayerScope,
}

impl GruCell {
    /// `units` units.
    pub fn new(units: usize) -> GruCell {
        GruCell::with(units, None, false)
    }
    /// With a name (`name=`) and `reuse=`.
    pub fn with(units: usize, name: Option<&str>, reuse: bool) -> GruCell {
        GruCell { units, layer: LayerScope::lazy("gru_cell", name, reuse) }
    }
}

impl RnnCell for GruCell {
    fn class_name(&self) -> &'static str {
        "GRUCell"
    }
    fn state_size(&self) -> StateSize {
        StateSize::Single(self.units)
    }
    fn output_size(&self) -> usize {
        self.units
    }
    fn call_scoped(
        &self,
        cx: &mut Scope,
        inputs: &Tensor,
        state: &State,
        scope: Option<VarScope>,
    ) -> Result<(Tensor, State)> {
        let h = state.single("GRUCell")?;
        let d = depth("GRUCell", inputs)?;
        let n = self.units;
        self.layer.call(cx, scope, |cx| {
            let dtype = inputs.dtype();
            let gk = weight(cx, "gates/kernel", &[d + n, 2 * n], dtype, None)?;
            let gb = weight(cx, "gates/bias", &[2 * n], dtype, Some(Init::constant(1.0)))?;
            let ck = weight(cx, "candidate/kernel", &[d + n, n], dtype, None)?;
            let cb = weight(cx, "candidate/bias", &[n], dtype, Some(Init::Zeros))?;
            let new_h = gru_step(cx, inputs, h, [&gk, &gb, &ck, &cb])?;
            Ok((new_h.clone(), State::Tensor(new_h)))
        })
    }
}

/// GRUCell's step from its weights `[gates/kernel, gates/bias,
/// candidate/kernel, candidate/bias]`: the one definition [`GruCell`] and
/// [`dsl::gru_cell`](super::dsl::gru_cell) share.
pub(crate) fn gru_step(cx: &Scope, inputs: &Tensor, h: &Tensor, [gk, gb, ck, cb]: [&Tensor; 4]) -> Result<Tensor> {
    let dtype = inputs.dtype();
    let value = cx.sigmoid(&gates(cx, inputs, h, gk, gb)?)?;
    let parts = cx.split(&value, 2, 1)?;
    let [r, u] = &parts[..] else { return Err(invalid("split made no 2 parts")) };
    let r_state = cx.mul(r, h)?;
    let cand = cx.tanh(&gates(cx, inputs, &r_state, ck, cb)?)?;
    let keep = cx.mul(u, h)?;
    let one = scalar(cx, 1.0, dtype)?;
    let write = cx.mul(&cx.sub(&one, u)?, &cand)?;
    cx.add(&keep, &write)
}

/// `tf.compat.v1.nn.rnn_cell.MultiRNNCell`: stacked cells, cell `i` in the
/// variable scope `multi_rnn_cell/cell_i` (state a tuple, first cell first).
///
/// ```
/// use std::rc::Rc;
/// use varscope::layers::{BasicLstmCell, MultiRnnCell, RnnCell, static_rnn};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.placeholder("x", ArrayD::<f32>::zeros(vec![2, 3, 5]))?;
/// let xs = cx.unstack(&x, 1)?;
/// let cell = MultiRnnCell::new(vec![Rc::new(BasicLstmCell::new(4)), Rc::new(BasicLstmCell::new(3))]);
/// let r = static_rnn(&mut cx, &cell, &xs, None, DType::F32, None, None)?;
/// assert_eq!(r.outputs[2].name(), "rnn/rnn/multi_rnn_cell/cell_1/basic_lstm_cell/Mul_8:0");
/// assert_eq!(graph.global_variables()[2].name(), "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel:0");
/// # Ok::<(), varscope::Error>(())
/// ```
pub struct MultiRnnCell {
    cells: Vec<Rc<dyn RnnCell>>,
    layer: LayerScope,
    /// `RNNCell.__call__`'s `rnncell_scope`: the variable scope of the first
    /// call without `scope=`, re-entered (with a new name scope) on each call.
    outer: RefCell<Option<VariableScope>>,
}

impl std::fmt::Debug for MultiRnnCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiRnnCell").field("cells", &self.cells.len()).field("layer", &self.layer).finish()
    }
}

impl MultiRnnCell {
    /// Stacks `cells` (TF's `state_is_tuple=True`).
    pub fn new(cells: Vec<Rc<dyn RnnCell>>) -> MultiRnnCell {
        MultiRnnCell { cells, layer: LayerScope::lazy("multi_rnn_cell", None, false), outer: RefCell::new(None) }
    }
}

impl RnnCell for MultiRnnCell {
    fn class_name(&self) -> &'static str {
        "MultiRNNCell"
    }
    fn state_size(&self) -> StateSize {
        StateSize::Tuple(self.cells.iter().map(|c| c.state_size()).collect())
    }
    fn output_size(&self) -> usize {
        self.cells.last().map_or(0, |c| c.output_size())
    }
    fn zero_state_inner(&self, cx: &mut Scope, batch: usize, dtype: DType) -> Result<State> {
        Ok(State::Tuple(self.cells.iter().map(|c| c.zero_state(cx, batch, dtype)).collect::<Result<_>>()?))
    }
    fn call_scoped(
        &self,
        cx: &mut Scope,
        inputs: &Tensor,
        state: &State,
        scope: Option<VarScope>,
    ) -> Result<(Tensor, State)> {
        let State::Tuple(states) = state else {
            return Err(invalid("MultiRNNCell takes a tuple state, one per cell"));
        };
        if states.len() != self.cells.len() {
            return Err(invalid(format!(
                "MultiRNNCell has {} cells but got {} states",
                self.cells.len(),
                states.len()
            )));
        }
        let outer = match scope {
            Some(spec) => spec,
            None => {
                let mut stored = self.outer.borrow_mut();
                let captured = stored.get_or_insert_with(|| cx.current_variable_scope()).clone();
                VarScope::reenter(&captured)
            }
        };
        cx.push_variable_scope(outer)?;
        let result = self.layer.call(cx, None, |cx| {
            let mut x = inputs.clone();
            let mut new_states = Vec::new();
            for (i, (cell, s)) in self.cells.iter().zip(states).enumerate() {
                cx.push_variable_scope(VarScope::new(format!("cell_{i}")))?;
                let step = cell.call(cx, &x, s);
                cx.pop_scope()?;
                let (out, new_state) = step?;
                x = out;
                new_states.push(new_state);
            }
            Ok((x, State::Tuple(new_states)))
        });
        cx.pop_scope()?;
        result
    }
}

/// `tf.compat.v1.nn.rnn_cell.ResidualWrapper`: the wrapped cell's output
/// plus its input (`add`); the state is the cell's.
///
/// ```
/// use std::rc::Rc;
/// use varscope::layers::{BasicRnnCell, ResidualWrapper, RnnCell};
/// let cell = ResidualWrapper::new(Rc::new(BasicRnnCell::new(5)));
/// assert_eq!(cell.output_size(), 5);
/// ```
pub struct ResidualWrapper {
    cell: Rc<dyn RnnCell>,
}

impl std::fmt::Debug for ResidualWrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResidualWrapper").field("cell", &self.cell.class_name()).finish()
    }
}

impl ResidualWrapper {
    /// Wraps `cell`, whose output size must equal its input depth.
    pub fn new(cell: Rc<dyn RnnCell>) -> ResidualWrapper {
        ResidualWrapper { cell }
    }
}

impl RnnCell for ResidualWrapper {
    fn class_name(&self) -> &'static str {
        "ResidualWrapper"
    }
    fn state_size(&self) -> StateSize {
        self.cell.state_size()
    }
    fn output_size(&self) -> usize {
        self.cell.output_size()
    }
    fn zero_state_inner(&self, cx: &mut Scope, batch: usize, dtype: DType) -> Result<State> {
        self.cell.zero_state(cx, batch, dtype)
    }
    fn call_scoped(
        &self,
        cx: &mut Scope,
        inputs: &Tensor,
        state: &State,
        scope: Option<VarScope>,
    ) -> Result<(Tensor, State)> {
        let (out, new_state) = self.cell.call_scoped(cx, inputs, state, scope)?;
        Ok((cx.add(inputs, &out)?, new_state))
    }
}

/// `tf.compat.v1.nn.rnn_cell.DropoutWrapper`: [`dropout`](super::dropout)
/// on the wrapped cell's inputs (`input_keep_prob`), its output
/// (`output_keep_prob`) and its state (`state_keep_prob`; an LSTM's `h`
/// only), each where the keep probability is below 1. The wrapper makes no
/// variables; the cell's are its own.
///
/// ```
/// use std::rc::Rc;
/// use varscope::layers::{BasicLstmCell, DropoutWrapper, dynamic_rnn};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let seq = cx.placeholder("seq", ArrayD::<f32>::zeros(vec![2, 3, 5]))?;
/// let cell = DropoutWrapper::new(Rc::new(BasicLstmCell::new(4)), 1.0, 0.5, 1.0);
/// let r = dynamic_rnn(&mut cx, &cell, &seq, None, DType::F32, None, false, None)?;
/// assert_eq!(r.outputs[0].shape(), [2, 3, 4]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub struct DropoutWrapper {
    cell: Rc<dyn RnnCell>,
    input_keep: f64,
    output_keep: f64,
    state_keep: f64,
}

impl std::fmt::Debug for DropoutWrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DropoutWrapper")
            .field("cell", &self.cell.class_name())
            .field("input_keep", &self.input_keep)
            .field("output_keep", &self.output_keep)
            .field("state_keep", &self.state_keep)
            .finish()
    }
}

impl DropoutWrapper {
    /// Wraps `cell` with the keep probabilities of its input, output and state.
    pub fn new(
        cell: Rc<dyn RnnCell>,
        input_keep_prob: f64,
        output_keep_prob: f64,
        state_keep_prob: f64,
    ) -> DropoutWrapper {
        DropoutWrapper { cell, input_keep: input_keep_prob, output_keep: output_keep_prob, state_keep: state_keep_prob }
    }
}

/// `x` after dropout at `1 - keep` when `keep < 1`.
fn maybe_drop(cx: &mut Scope, x: &Tensor, keep: f64) -> Result<Tensor> {
    if keep < 1.0 { super::dropout(cx, x, 1.0 - keep) } else { Ok(x.clone()) }
}

/// Dropout on every tensor of `state` but an LSTM's memory `c`.
fn drop_state(cx: &mut Scope, state: &State, keep: f64) -> Result<State> {
    Ok(match state {
        State::Tensor(t) => State::Tensor(maybe_drop(cx, t, keep)?),
        State::Lstm { c, h } => State::Lstm { c: c.clone(), h: maybe_drop(cx, h, keep)? },
        State::Tuple(v) => State::Tuple(v.iter().map(|s| drop_state(cx, s, keep)).collect::<Result<_>>()?),
    })
}

impl RnnCell for DropoutWrapper {
    fn class_name(&self) -> &'static str {
        "DropoutWrapper"
    }
    fn state_size(&self) -> StateSize {
        self.cell.state_size()
    }
    fn output_size(&self) -> usize {
        self.cell.output_size()
    }
    fn zero_state_inner(&self, cx: &mut Scope, batch: usize, dtype: DType) -> Result<State> {
        self.cell.zero_state(cx, batch, dtype)
    }
    fn call_scoped(
        &self,
        cx: &mut Scope,
        inputs: &Tensor,
        state: &State,
        scope: Option<VarScope>,
    ) -> Result<(Tensor, State)> {
        for keep in [self.input_keep, self.output_keep, self.state_keep] {
            if !(keep > 0.0 && keep <= 1.0) {
                return Err(invalid(format!("DropoutWrapper: a keep probability {keep} must be in (0, 1]")));
            }
        }
        let x = maybe_drop(cx, inputs, self.input_keep)?;
        let (out, new_state) = self.cell.call_scoped(cx, &x, state, scope)?;
        let new_state = if self.state_keep < 1.0 { drop_state(cx, &new_state, self.state_keep)? } else { new_state };
        Ok((maybe_drop(cx, &out, self.output_keep)?, new_state))
    }
}
