//! `tf.compat.v1.nn.static_rnn`, `dynamic_rnn` (unrolled),
//! `bidirectional_dynamic_rnn` and `static_bidirectional_rnn`.

use super::cell::{RnnCell, State};
use super::layer::{invalid, scalar};
use crate::{DType, Result, Scope, Tensor, VarScope};

/// What an RNN returns: its outputs (one per step for the static RNNs; one
/// `[batch, time, units]` tensor, or `[time, batch, units]` when time-major,
/// for the dynamic ones) and its final state.
#[derive(Debug, Clone)]
pub struct RnnOutput {
    /// The outputs.
    pub outputs: Vec<Tensor>,
    /// The final state.
    pub state: State,
}

/// The state to start from: `initial` or the cell's zero state.
fn start(cx: &mut Scope, cell: &dyn RnnCell, initial: Option<&State>, x: &Tensor, dtype: DType) -> Result<State> {
    match initial {
        Some(s) => Ok(s.clone()),
        None => {
            let Some(&batch) = x.shape().first() else {
                return Err(invalid(format!("rnn: input `{}` needs a batch axis", x.name())));
            };
            cell.zero_state(cx, batch, dtype)
        }
    }
}

/// `1.0` for the rows whose `lengths` exceed `t`, else `0.0`, as a
/// `[batch, 1]` column of `dtype` (computed in the graph, so a session run
/// with other lengths is right).
fn live_rows(cx: &Scope, lengths: &Tensor, t: usize, dtype: DType) -> Result<Tensor> {
    let it = lengths.dtype();
    let past = cx.sub(lengths, &scalar(cx, t as f64, it)?)?;
    let live = cx.minimum(&cx.maximum(&past, &scalar(cx, 0.0, it)?)?, &scalar(cx, 1.0, it)?)?;
    cx.reshape(&cx.cast(&live, dtype)?, &[-1, 1])
}

/// `new` where `mask` is 1, `old` where it is 0.
fn select(cx: &Scope, mask: &Tensor, new: &Tensor, old: &Tensor) -> Result<Tensor> {
    let keep = cx.sub(&scalar(cx, 1.0, mask.dtype())?, mask)?;
    cx.add(&cx.mul(new, mask)?, &cx.mul(old, &keep)?)
}

/// One step, copying the state through and zeroing the output past each
/// row's length when `lengths` are given (TF's `_rnn_step`).
fn step(
    cx: &mut Scope,
    cell: &dyn RnnCell,
    x: &Tensor,
    state: &State,
    lengths: Option<&Tensor>,
    t: usize,
) -> Result<(Tensor, State)> {
    let (out, new_state) = cell.call(cx, x, state)?;
    let Some(lengths) = lengths else { return Ok((out, new_state)) };
    let mask = live_rows(cx, lengths, t, out.dtype())?;
    let zero = cx.constant(crate::Value::filled(out.dtype(), out.shape(), 0.0)?)?;
    let out = select(cx, &mask, &out, &zero)?;
    let olds = state.flatten();
    let news = new_state.flatten();
    let mut merged = Vec::with_capacity(news.len());
    for (n, o) in news.iter().zip(&olds) {
        merged.push(select(cx, &mask, n, o)?);
    }
    Ok((out, new_state.rebuild(&mut merged.into_iter())?))
}

/// Runs `body` in the variable scope `scope` (default `default`).
fn in_scope<R>(
    cx: &mut Scope,
    scope: Option<VarScope>,
    default: &str,
    body: impl FnOnce(&mut Scope) -> Result<R>,
) -> Result<R> {
    cx.push_variable_scope(scope.unwrap_or_else(|| VarScope::new(default)))?;
    let result = body(cx);
    cx.pop_scope()?;
    result
}

/// `tf.compat.v1.nn.static_rnn`: the cell applied to each of `inputs` in
/// the variable scope `rnn` (or `scope`), reusing its variables after the
/// first step. `sequence_length` (int32 `[batch]`) zeroes the outputs past
/// each row's length and carries its state through.
///
/// ```
/// use varscope::layers::{GruCell, static_rnn};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let seq = cx.placeholder("seq", ArrayD::<f32>::zeros(vec![2, 3, 5]))?;
/// let xs = cx.unstack(&seq, 1)?;
/// let r = static_rnn(&mut cx, &GruCell::new(4), &xs, None, DType::F32, None, None)?;
/// let names: Vec<&str> = r.outputs.iter().map(|t| t.name()).collect();
/// assert_eq!(names, ["rnn/gru_cell/add:0", "rnn/gru_cell/add_1:0", "rnn/gru_cell/add_2:0"]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn static_rnn(
    cx: &mut Scope,
    cell: &dyn RnnCell,
    inputs: &[Tensor],
    initial_state: Option<&State>,
    dtype: DType,
    sequence_length: Option<&Tensor>,
    scope: Option<VarScope>,
) -> Result<RnnOutput> {
    let Some(first) = inputs.first() else { return Err(invalid("static_rnn: `inputs` must not be empty")) };
    in_scope(cx, scope, "rnn", |cx| {
        let mut state = start(cx, cell, initial_state, first, dtype)?;
        let mut outputs = Vec::with_capacity(inputs.len());
        for (t, x) in inputs.iter().enumerate() {
            if t > 0 {
                cx.reuse_variables();
            }
            let (out, next) = step(cx, cell, x, &state, sequence_length, t)?;
            outputs.push(out);
            state = next;
        }
        Ok(RnnOutput { outputs, state })
    })
}

/// `tf.compat.v1.nn.dynamic_rnn`, unrolled over the known time axis:
/// `inputs` `[batch, time, depth]` (`[time, batch, depth]` if `time_major`),
/// variables as TF names them (`rnn/basic_lstm_cell/kernel`), one output
/// tensor of the same layout. The cell's ops sit in the name scope
/// `rnn/while/`; TF names its outputs after its while loop, these are
/// named after the unrolled ops (`Pack`), with the same shapes and dtypes.
///
/// ```
/// use varscope::layers::{BasicLstmCell, State, dynamic_rnn};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let seq = cx.placeholder("seq", ArrayD::<f32>::zeros(vec![2, 3, 5]))?;
/// let r = dynamic_rnn(&mut cx, &BasicLstmCell::new(4), &seq, None, DType::F32, None, false, None)?;
/// assert_eq!(r.outputs[0].shape(), [2, 3, 4]);
/// assert_eq!(graph.global_variables()[0].name(), "rnn/basic_lstm_cell/kernel:0");
/// # Ok::<(), varscope::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn dynamic_rnn(
    cx: &mut Scope,
    cell: &dyn RnnCell,
    inputs: &Tensor,
    initial_state: Option<&State>,
    dtype: DType,
    sequence_length: Option<&Tensor>,
    time_major: bool,
    scope: Option<VarScope>,
) -> Result<RnnOutput> {
    let time_axis = if time_major { 0 } else { 1 };
    if inputs.shape().len() != 3 {
        return Err(invalid(format!("dynamic_rnn: input `{}` must have rank 3", inputs.name())));
    }
    in_scope(cx, scope, "rnn", |cx| {
        let xs = cx.unstack(inputs, time_axis)?;
        let Some(first) = xs.first() else { return Err(invalid("dynamic_rnn: no time steps")) };
        let mut state = start(cx, cell, initial_state, first, dtype)?;
        cx.push_name_scope("while")?;
        let result: Result<Vec<Tensor>> = (|| {
            let mut outputs = Vec::with_capacity(xs.len());
            for (t, x) in xs.iter().enumerate() {
                let (out, next) = step(cx, cell, x, &state, sequence_length, t)?;
                outputs.push(out);
                state = next;
            }
            Ok(outputs)
        })();
        cx.pop_scope()?;
        let outputs = result?;
        let refs: Vec<&Tensor> = outputs.iter().collect();
        let stacked = cx.stack(&refs, time_axis)?;
        Ok(RnnOutput { outputs: vec![stacked], state })
    })
}

/// Runs `body` inside `with variable_scope(direction) as scope:`, given
/// that scope (which the RNN re-enters, opening `fw/fw/` name scopes as TF).
fn in_direction<R>(
    cx: &mut Scope,
    direction: &str,
    body: impl FnOnce(&mut Scope, &crate::VariableScope) -> Result<R>,
) -> Result<R> {
    let scope = cx.push_variable_scope(VarScope::new(direction))?;
    let result = body(cx, &scope);
    cx.pop_scope()?;
    result
}

/// The steps of `x` along `axis` in reverse order (TF's `tf.reverse` over
/// time), or each row's first `lengths` steps (`tf.reverse_sequence`).
fn reverse_time(cx: &Scope, x: &Tensor, axis: isize, lengths: Option<&Tensor>) -> Result<Tensor> {
    if let Some(lengths) = lengths {
        return cx.reverse_sequence(x, lengths, axis, 1 - axis);
    }
    let mut steps = cx.unstack(x, axis)?;
    steps.reverse();
    let refs: Vec<&Tensor> = steps.iter().collect();
    cx.stack(&refs, axis)
}

/// A list of steps reversed (TF's `_reverse_seq`): as a list, or with
/// `lengths` stacked time-major, reversed per row and unstacked.
fn reverse_steps(cx: &Scope, steps: &[Tensor], lengths: Option<&Tensor>) -> Result<Vec<Tensor>> {
    let Some(lengths) = lengths else { return Ok(steps.iter().rev().cloned().collect()) };
    let refs: Vec<&Tensor> = steps.iter().collect();
    let joined = cx.stack(&refs, 0)?;
    cx.unstack(&cx.reverse_sequence(&joined, lengths, 0, 1)?, 0)
}

/// `tf.compat.v1.nn.bidirectional_dynamic_rnn`: `cell_fw` over `inputs` in
/// `bidirectional_rnn/fw`, `cell_bw` over the time-reversed inputs in
/// `bidirectional_rnn/bw`, its outputs reversed back; returns `[forward,
/// backward]` outputs and states. With `sequence_length` (int32 `[batch]`)
/// each row is reversed over its own length only (`ReverseSequence`), both
/// directions stop at it, and outputs past it are zero, as in TF.
///
/// ```
/// use varscope::layers::{GruCell, bidirectional_dynamic_rnn};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let seq = cx.placeholder("seq", ArrayD::<f32>::zeros(vec![2, 3, 5]))?;
/// let (fw, bw) = (GruCell::new(4), GruCell::new(4));
/// let [f, b] = bidirectional_dynamic_rnn(&mut cx, &fw, &bw, &seq, DType::F32, None, false, None)?;
/// assert_eq!((f.outputs[0].shape(), b.outputs[0].shape()), (&[2, 3, 4][..], &[2, 3, 4][..]));
/// assert_eq!(graph.global_variables()[4].name(), "bidirectional_rnn/bw/gru_cell/gates/kernel:0");
/// # Ok::<(), varscope::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn bidirectional_dynamic_rnn(
    cx: &mut Scope,
    cell_fw: &dyn RnnCell,
    cell_bw: &dyn RnnCell,
    inputs: &Tensor,
    dtype: DType,
    sequence_length: Option<&Tensor>,
    time_major: bool,
    scope: Option<VarScope>,
) -> Result<[RnnOutput; 2]> {
    let axis = if time_major { 0 } else { 1 };
    let lengths = sequence_length;
    let (fw, tmp) = in_scope(cx, scope, "bidirectional_rnn", |cx| {
        let fw = in_direction(cx, "fw", |cx, fw_scope| {
            dynamic_rnn(cx, cell_fw, inputs, None, dtype, lengths, time_major, Some(VarScope::reenter(fw_scope)))
        })?;
        let bw = in_direction(cx, "bw", |cx, bw_scope| {
            let reversed = reverse_time(cx, inputs, axis, lengths)?;
            dynamic_rnn(cx, cell_bw, &reversed, None, dtype, lengths, time_major, Some(VarScope::reenter(bw_scope)))
        })?;
        Ok((fw, bw))
    })?;
    let Some(out) = tmp.outputs.first() else { return Err(invalid("bidirectional_dynamic_rnn: no outputs")) };
    let back = reverse_time(cx, out, axis, lengths)?;
    Ok([fw, RnnOutput { outputs: vec![back], state: tmp.state }])
}

/// `tf.compat.v1.nn.static_bidirectional_rnn`: [`static_rnn`] forward in
/// `bidirectional_rnn/fw` and over the reversed list in `bidirectional_rnn/bw`;
/// each output is the `concat` of both directions' outputs for that step.
/// With `sequence_length` each row is reversed over its own length
/// (`ReverseSequence` of the stacked steps) and both directions stop at it.
/// Returns the outputs and the forward and backward final states.
///
/// ```
/// use varscope::layers::{BasicLstmCell, static_bidirectional_rnn};
/// use varscope::{DType, Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let seq = cx.placeholder("seq", ArrayD::<f32>::zeros(vec![2, 3, 5]))?;
/// let xs = cx.unstack(&seq, 1)?;
/// let (fw, bw) = (BasicLstmCell::new(3), BasicLstmCell::new(3));
/// let (outs, _, _) = static_bidirectional_rnn(&mut cx, &fw, &bw, &xs, DType::F32, None, None)?;
/// assert_eq!((outs[1].name(), outs[1].shape()), ("concat_1:0", &[2, 6][..]));
/// # Ok::<(), varscope::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn static_bidirectional_rnn(
    cx: &mut Scope,
    cell_fw: &dyn RnnCell,
    cell_bw: &dyn RnnCell,
    inputs: &[Tensor],
    dtype: DType,
    sequence_length: Option<&Tensor>,
    scope: Option<VarScope>,
) -> Result<(Vec<Tensor>, State, State)> {
    let lengths = sequence_length;
    let (fw, bw) = in_scope(cx, scope, "bidirectional_rnn", |cx| {
        let fw = in_direction(cx, "fw", |cx, fw_scope| {
            static_rnn(cx, cell_fw, inputs, None, dtype, lengths, Some(VarScope::reenter(fw_scope)))
        })?;
        let bw = in_direction(cx, "bw", |cx, bw_scope| {
            let reversed = reverse_steps(cx, inputs, lengths)?;
            static_rnn(cx, cell_bw, &reversed, None, dtype, lengths, Some(VarScope::reenter(bw_scope)))
        })?;
        Ok((fw, bw))
    })?;
    let back = reverse_steps(cx, &bw.outputs, lengths)?;
    let outputs = fw.outputs.iter().zip(&back).map(|(f, b)| cx.concat(&[f, b], 1)).collect::<Result<Vec<_>>>()?;
    Ok((outputs, fw.state, bw.state))
}
