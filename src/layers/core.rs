//! `tf.compat.v1.layers.dense` and `flatten`, `tf.nn.embedding_lookup` and
//! `tf.nn.dropout`.

use super::layer::{LayerScope, invalid, scalar};
use crate::{Init, Result, Scope, Tensor, Value, VarSpec};

/// An activation applied to a layer's output (TF's `activation=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// None: the linear output.
    #[default]
    Linear,
    /// `tf.nn.relu` (op `Relu`).
    Relu,
    /// `tf.tanh` (op `Tanh`).
    Tanh,
    /// `tf.sigmoid` (op `Sigmoid`).
    Sigmoid,
}

impl Activation {
    /// Applies the activation (the identity for [`Activation::Linear`]).
    pub fn apply(self, cx: &Scope, x: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Linear => Ok(x.clone()),
            Activation::Relu => cx.relu(x),
            Activation::Tanh => cx.tanh(x),
            Activation::Sigmoid => cx.sigmoid(x),
        }
    }
}

/// The options of [`dense`] (`tf.compat.v1.layers.dense`'s keywords).
///
/// ```
/// use varscope::layers::{Activation, Dense};
/// let opts = Dense::new(4).activation(Activation::Relu).name("fc").use_bias(false);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    units: usize,
    activation: Activation,
    use_bias: bool,
    kernel_initializer: Option<Init>,
    bias_initializer: Init,
    name: Option<String>,
    reuse: bool,
}

impl Dense {
    /// `units` outputs, linear, with a bias; Glorot-uniform kernel (unless the
    /// scope has an initializer), zero bias.
    pub fn new(units: usize) -> Dense {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: None,
            bias_initializer: Init::Zeros,
            name: None,
            reuse: false,
        }
    }
    /// The activation (`activation=`).
    pub fn activation(mut self, activation: Activation) -> Dense {
        self.activation = activation;
        self
    }
    /// Whether to add a bias (`use_bias=`).
    pub fn use_bias(mut self, use_bias: bool) -> Dense {
        self.use_bias = use_bias;
        self
    }
    /// The kernel's initializer (`kernel_initializer=`; by default the
    /// scope's initializer, else Glorot uniform, as `get_variable`'s).
    pub fn kernel_initializer(mut self, init: Init) -> Dense {
        self.kernel_initializer = Some(init);
        self
    }
    /// The bias's initializer (`bias_initializer=`).
    pub fn bias_initializer(mut self, init: Init) -> Dense {
        self.bias_initializer = init;
        self
    }
    /// The layer's scope name (`name=`), used as is, not numbered.
    pub fn name(mut self, name: impl Into<String>) -> Dense {
        self.name = Some(name.into());
        self
    }
    /// Reuse the variables of the layer of that name (`reuse=True`).
    pub fn reuse(mut self, reuse: bool) -> Dense {
        self.reuse = reuse;
        self
    }
}

/// `tf.compat.v1.layers.dense`: `activation(inputs · kernel + bias)` with
/// `kernel` `[in, units]` and `bias` `[units]` in the scope `dense` (numbered
/// `dense_1`, .. when unnamed). Inputs of rank above 2 are multiplied along
/// their last axis (TF's `Tensordot`).
///
/// ```
/// use varscope::layers::{Activation, Dense, dense};
/// use varscope::{Graph, ndarray::ArrayD};
///
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.placeholder("x", ArrayD::<f32>::zeros(vec![2, 3]))?;
/// let y0 = dense(&mut cx, &x, &Dense::new(4))?;
/// let y1 = dense(&mut cx, &x, &Dense::new(4).activation(Activation::Relu))?;
/// assert_eq!((y0.name(), y1.name()), ("dense/BiasAdd:0", "dense_1/Relu:0"));
/// let names: Vec<String> = graph.global_variables().iter().map(|v| v.name().to_string()).collect();
/// assert_eq!(names, ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0"]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn dense(cx: &mut Scope, inputs: &Tensor, opts: &Dense) -> Result<Tensor> {
    let layer = LayerScope::functional(cx, "dense", opts.name.as_deref(), opts.reuse)?;
    let depth = dense_depth(inputs)?;
    layer.call(cx, None, |cx| {
        let dtype = inputs.dtype();
        let mut kernel_spec = VarSpec::new().shape([depth, opts.units]).dtype(dtype);
        if let Some(init) = &opts.kernel_initializer {
            kernel_spec = kernel_spec.init(*init);
        }
        let kernel = cx.get_variable("kernel", kernel_spec)?;
        let bias = if opts.use_bias {
            let spec = VarSpec::new().shape([opts.units]).dtype(dtype).init(opts.bias_initializer);
            Some(cx.get_variable("bias", spec)?)
        } else {
            None
        };
        dense_output(cx, inputs, kernel.tensor(), bias.as_ref().map(|b| b.tensor()), opts.activation)
    })
}

/// The depth (last dimension) of a dense layer's input of rank 2 or more.
pub(crate) fn dense_depth(inputs: &Tensor) -> Result<usize> {
    match inputs.shape() {
        [.., d] if inputs.shape().len() >= 2 => Ok(*d),
        _ => Err(invalid(format!("dense: input `{}` needs a rank of at least 2", inputs.name()))),
    }
}

/// `activation(inputs · kernel + bias)`, along the last axis for inputs of
/// rank above 2 (TF's `Tensordot`): the one definition [`dense`] and
/// [`dsl::dense`](super::dsl::dense) share.
pub(crate) fn dense_output(
    cx: &mut Scope,
    inputs: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    let shape = inputs.shape();
    let depth = dense_depth(inputs)?;
    let mut y = if shape.len() == 2 {
        cx.matmul(inputs, kernel)?
    } else {
        let scope = cx.push_name_scope("Tensordot")?;
        let rows = cx.reshape(inputs, &[-1, depth as isize]);
        let product = rows.and_then(|r| cx.matmul(&r, kernel));
        cx.pop_scope()?;
        let mut out: Vec<isize> = shape[..shape.len() - 1].iter().map(|&d| d as isize).collect();
        out.push(kernel.shape().get(1).copied().unwrap_or(0) as isize);
        cx.named(&scope).reshape(&product?, &out)?
    };
    if let Some(bias) = bias {
        y = cx.bias_add(&y, bias)?;
    }
    activation.apply(cx, &y)
}

/// `tf.compat.v1.layers.flatten`: `inputs` reshaped to `[batch, -1]` in
/// the scope `flatten` (numbered; op `Reshape`).
///
/// ```
/// use varscope::layers::flatten;
/// use varscope::{Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.constant(ArrayD::<f32>::zeros(vec![2, 4, 4, 3]))?;
/// let f = flatten(&mut cx, &x, None)?;
/// assert_eq!((f.name(), f.shape()), ("flatten/Reshape:0", &[2, 48][..]));
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn flatten(cx: &mut Scope, inputs: &Tensor, name: Option<&str>) -> Result<Tensor> {
    let layer = LayerScope::functional(cx, "flatten", name, false)?;
    let Some(&batch) = inputs.shape().first() else {
        return Err(invalid(format!("flatten: input `{}` needs a batch axis", inputs.name())));
    };
    layer.call(cx, None, |cx| cx.reshape(inputs, &[batch as isize, -1]))
}

/// `tf.compat.v1.nn.embedding_lookup`: the rows of `params` picked by the
/// int32 `ids`, in a name scope `embedding_lookup` (or `name`): a gather
/// named after the scope, then its `Identity` (`embedding_lookup/Identity:0`).
///
/// ```
/// use varscope::layers::embedding_lookup;
/// use varscope::{Graph, Value};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let emb = cx.get_variable("embedding", [10, 4])?;
/// let ids = cx.constant(Value::from(vec![1i32, 7]))?;
/// let e = embedding_lookup(&mut cx, emb.tensor(), &ids, None)?;
/// assert_eq!((e.name(), e.shape()), ("embedding_lookup/Identity:0", &[2, 4][..]));
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn embedding_lookup(cx: &mut Scope, params: &Tensor, ids: &Tensor, name: Option<&str>) -> Result<Tensor> {
    let scope = cx.push_name_scope(name.unwrap_or("embedding_lookup"))?;
    let result = cx.named(&scope).gather(params, ids, 0).and_then(|g| cx.identity(&g));
    cx.pop_scope()?;
    result
}

/// `tf.nn.dropout(x, rate)` in a name scope `dropout`: `x / (1 - rate)` where
/// a uniform draw is at least `rate`, else 0 (`dropout/SelectV2:0`). The
/// draw is seeded by the graph seed and its op's name, and is the same in
/// every session run (see [`Scope::random_uniform`]).
///
/// ```
/// use varscope::layers::dropout;
/// use varscope::{Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.constant(ArrayD::<f32>::ones(vec![100]))?;
/// let y = dropout(&mut cx, &x, 0.5)?;
/// assert_eq!(y.name(), "dropout/SelectV2:0");
/// assert!(y.value().to_f64_vec().iter().all(|&v| v == 0.0 || v == 2.0));
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn dropout(cx: &mut Scope, x: &Tensor, rate: f64) -> Result<Tensor> {
    if !(0.0..1.0).contains(&rate) {
        return Err(invalid(format!("dropout of `{}`: rate {rate} must be in [0, 1)", x.name())));
    }
    cx.push_name_scope("dropout")?;
    let result: Result<Tensor> = (|| {
        let dtype = x.dtype();
        let scale = scalar(cx, 1.0 / (1.0 - rate), dtype)?;
        let scaled = cx.named("Mul").mul(x, &scale)?;
        let draw = cx.random_uniform(x.shape(), dtype)?;
        let keep = cx.greater_equal(&draw, &scalar(cx, rate, dtype)?)?;
        let zeros = cx.named("zeros_like").constant(Value::filled(dtype, x.shape(), 0.0)?)?;
        cx.select(&keep, &scaled, &zeros)
    })();
    cx.pop_scope()?;
    result
}

/// The options of [`dropout_layer`] (`tf.compat.v1.layers.dropout`): the
/// `rate` of inputs dropped, whether this is `training` (default `false`, as
/// in TF: then the layer is an `Identity`) and the layer's `name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropout {
    rate: f64,
    training: bool,
    name: Option<String>,
}

impl Dropout {
    /// Drops `rate` of the inputs in training (TF's default `rate` is 0.5).
    pub fn new(rate: f64) -> Dropout {
        Dropout { rate, training: false, name: None }
    }

    /// Whether the layer drops (`true`) or passes its inputs through (`false`).
    ///
    /// A flag fed at run time (TF's `training=` tensor, a `tf.cond`) is not
    /// supported: build the training and the evaluation graph each with its flag.
    pub fn training(mut self, training: bool) -> Dropout {
        self.training = training;
        self
    }

    /// The layer's scope name (default: the next free `dropout`, `dropout_1`, ..).
    pub fn name(mut self, name: impl Into<String>) -> Dropout {
        self.name = Some(name.into());
        self
    }
}

/// `tf.compat.v1.layers.dropout`: in the layer's name scope (`dropout`,
/// `dropout_1`, .. or `name`), [`dropout`] of the inputs when training with a
/// positive rate (`dropout_1/dropout/SelectV2:0`), else their `Identity`
/// (`dropout/Identity:0`). A rate outside `[0, 1)` is refused.
///
/// ```
/// use varscope::layers::{Dropout, dropout_layer};
/// use varscope::{Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.constant(ArrayD::<f32>::ones(vec![4, 5]))?;
/// let eval = dropout_layer(&mut cx, &x, &Dropout::new(0.5))?;
/// let train = dropout_layer(&mut cx, &x, &Dropout::new(0.5).training(true))?;
/// assert_eq!((eval.name(), train.name()), ("dropout/Identity:0", "dropout_1/dropout/SelectV2:0"));
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn dropout_layer(cx: &mut Scope, inputs: &Tensor, opts: &Dropout) -> Result<Tensor> {
    let rate = opts.rate;
    if !(0.0..1.0).contains(&rate) {
        return Err(invalid(format!("dropout layer on `{}`: rate {rate} must be in [0, 1)", inputs.name())));
    }
    let layer = LayerScope::functional(cx, "dropout", opts.name.as_deref(), false)?;
    layer.call(cx, None, |cx| if opts.training && rate > 0.0 { dropout(cx, inputs, rate) } else { cx.identity(inputs) })
}
