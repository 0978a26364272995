//! `tf.compat.v1.layers.conv2d` and `max_pooling2d` (NHWC).

use super::core::Activation;
use super::layer::{LayerScope, invalid};
use crate::ops::Padding;
use crate::{Init, Result, Scope, Tensor, VarSpec};

/// The options of [`conv2d`] (`tf.compat.v1.layers.conv2d`'s keywords).
///
/// ```
/// use varscope::layers::{Activation, Conv2d};
/// use varscope::ops::Padding;
/// let opts = Conv2d::new(4, [3, 3]).padding(Padding::Same).activation(Activation::Relu);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2d {
    filters: usize,
    kernel_size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
    activation: Activation,
    use_bias: bool,
    kernel_initializer: Option<Init>,
    name: Option<String>,
    reuse: bool,
}

impl Conv2d {
    /// `filters` output channels with a `kernel_size` window, strides 1,
    /// `valid` padding, a zero bias, linear.
    pub fn new(filters: usize, kernel_size: [usize; 2]) -> Conv2d {
        Conv2d {
            filters,
            kernel_size,
            strides: [1, 1],
            padding: Padding::Valid,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: None,
            name: None,
            reuse: false,
        }
    }
    /// The strides (`strides=`).
    pub fn strides(mut self, strides: [usize; 2]) -> Conv2d {
        self.strides = strides;
        self
    }
    /// The padding (`padding=`).
    pub fn padding(mut self, padding: Padding) -> Conv2d {
        self.padding = padding;
        self
    }
    /// The activation (`activation=`).
    pub fn activation(mut self, activation: Activation) -> Conv2d {
        self.activation = activation;
        self
    }
    /// Whether to add a bias (`use_bias=`).
    pub fn use_bias(mut self, use_bias: bool) -> Conv2d {
        self.use_bias = use_bias;
        self
    }
    /// The kernel's initializer (`kernel_initializer=`; by default the
    /// scope's, else Glorot uniform).
    pub fn kernel_initializer(mut self, init: Init) -> Conv2d {
        self.kernel_initializer = Some(init);
        self
    }
    /// The layer's scope name (`name=`), used as is.
    pub fn name(mut self, name: impl Into<String>) -> Conv2d {
        self.name = Some(name.into());
        self
    }
    /// Reuse the variables of the layer of that name (`reuse=True`).
    pub fn reuse(mut self, reuse: bool) -> Conv2d {
        self.reuse = reuse;
        self
    }
}

/// `tf.compat.v1.layers.conv2d`: a 2-D convolution of NHWC `inputs` with a
/// `kernel` `[kh, kw, in, filters]` and a `bias` `[filters]` in the scope
/// `conv2d` (numbered when unnamed); ops `Conv2D`, `BiasAdd`, activation.
///
/// ```
/// use varscope::layers::{Conv2d, conv2d};
/// use varscope::ops::Padding;
/// use varscope::{Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let img = cx.placeholder("img", ArrayD::<f32>::zeros(vec![2, 8, 8, 3]))?;
/// let y = conv2d(&mut cx, &img, &Conv2d::new(4, [3, 3]).padding(Padding::Same))?;
/// assert_eq!((y.name(), y.shape()), ("conv2d/BiasAdd:0", &[2, 8, 8, 4][..]));
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn conv2d(cx: &mut Scope, inputs: &Tensor, opts: &Conv2d) -> Result<Tensor> {
    let layer = LayerScope::functional(cx, "conv2d", opts.name.as_deref(), opts.reuse)?;
    let depth = conv2d_depth(inputs)?;
    layer.call(cx, None, |cx| {
        let dtype = inputs.dtype();
        let [kh, kw] = opts.kernel_size;
        let mut spec = VarSpec::new().shape([kh, kw, depth, opts.filters]).dtype(dtype);
        if let Some(init) = &opts.kernel_initializer {
            spec = spec.init(*init);
        }
        let kernel = cx.get_variable("kernel", spec)?;
        let bias = if opts.use_bias {
            Some(cx.get_variable("bias", VarSpec::new().shape([opts.filters]).dtype(dtype).init(Init::Zeros))?)
        } else {
            None
        };
        let bias = bias.as_ref().map(|b| b.tensor());
        conv2d_output(cx, inputs, (kernel.tensor(), bias), opts.strides, opts.padding, opts.activation)
    })
}

/// The depth (channels) of an NHWC input.
pub(crate) fn conv2d_depth(inputs: &Tensor) -> Result<usize> {
    match inputs.shape() {
        [_, _, _, depth] => Ok(*depth),
        _ => Err(invalid(format!("conv2d: input `{}` must be NHWC (rank 4)", inputs.name()))),
    }
}

/// `activation(conv2d(inputs, kernel) + bias)`: the one definition [`conv2d`]
/// and [`dsl::conv2d`](super::dsl::conv2d) share.
pub(crate) fn conv2d_output(
    cx: &Scope,
    inputs: &Tensor,
    (kernel, bias): (&Tensor, Option<&Tensor>),
    strides: [usize; 2],
    padding: Padding,
    activation: Activation,
) -> Result<Tensor> {
    let mut y = cx.conv2d(inputs, kernel, strides, padding)?;
    if let Some(bias) = bias {
        y = cx.bias_add(&y, bias)?;
    }
    activation.apply(cx, &y)
}

/// The options of [`max_pooling2d`].
#[derive(Debug, Clone, PartialEq)]
pub struct MaxPooling2d {
    pool_size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
    name: Option<String>,
}

impl MaxPooling2d {
    /// A `pool_size` window moved by `strides`, `valid` padding.
    ///
    /// ```
    /// use varscope::layers::MaxPooling2d;
    /// use varscope::ops::Padding;
    /// let opts = MaxPooling2d::new([2, 2], [2, 2]).padding(Padding::Same).name("pool");
    /// # let _ = opts;
    /// ```
    pub fn new(pool_size: [usize; 2], strides: [usize; 2]) -> MaxPooling2d {
        MaxPooling2d { pool_size, strides, padding: Padding::Valid, name: None }
    }
    /// The padding (`padding=`).
    pub fn padding(mut self, padding: Padding) -> MaxPooling2d {
        self.padding = padding;
        self
    }
    /// The layer's scope name (`name=`).
    pub fn name(mut self, name: impl Into<String>) -> MaxPooling2d {
        self.name = Some(name.into());
        self
    }
}

/// `tf.compat.v1.layers.max_pooling2d`: op `MaxPool` in the scope
/// `max_pooling2d` (numbered when unnamed).
///
/// ```
/// use varscope::layers::{MaxPooling2d, max_pooling2d};
/// use varscope::{Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.constant(ArrayD::<f32>::zeros(vec![2, 8, 8, 4]))?;
/// let p = max_pooling2d(&mut cx, &x, &MaxPooling2d::new([2, 2], [2, 2]))?;
/// assert_eq!((p.name(), p.shape()), ("max_pooling2d/MaxPool:0", &[2, 4, 4, 4][..]));
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn max_pooling2d(cx: &mut Scope, inputs: &Tensor, opts: &MaxPooling2d) -> Result<Tensor> {
    let layer = LayerScope::functional(cx, "max_pooling2d", opts.name.as_deref(), false)?;
    layer.call(cx, None, |cx| cx.max_pool(inputs, opts.pool_size, opts.strides, opts.padding))
}
