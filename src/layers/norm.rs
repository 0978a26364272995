//! `tf.compat.v1.layers.batch_normalization`.

use super::layer::{LayerScope, invalid, scalar};
use crate::{Init, Result, Scope, Tensor, VarSpec, Variable};

/// The options of [`batch_normalization`] (its keywords in TF).
///
/// ```
/// use varscope::layers::BatchNorm;
/// let opts = BatchNorm::new().training(true).momentum(0.9).name("bn");
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm {
    momentum: f64,
    epsilon: f64,
    center: bool,
    scale: bool,
    training: bool,
    fused: Option<bool>,
    name: Option<String>,
    reuse: bool,
}

impl Default for BatchNorm {
    fn default() -> BatchNorm {
        BatchNorm::new()
    }
}

impl BatchNorm {
    /// TF's defaults: momentum 0.99, epsilon 0.001, with `beta` and `gamma`,
    /// inference mode, fused for 4-D inputs.
    pub fn new() -> BatchNorm {
        BatchNorm {
            momentum: 0.99,
            epsilon: 0.001,
            center: true,
            scale: true,
            training: false,
            fused: None,
            name: None,
            reuse: false,
        }
    }
    /// The moving averages' momentum (`momentum=`).
    pub fn momentum(mut self, momentum: f64) -> BatchNorm {
        self.momentum = momentum;
        self
    }
    /// Added to the variance (`epsilon=`).
    pub fn epsilon(mut self, epsilon: f64) -> BatchNorm {
        self.epsilon = epsilon;
        self
    }
    /// Whether to add `beta` (`center=`).
    pub fn center(mut self, center: bool) -> BatchNorm {
        self.center = center;
        self
    }
    /// Whether to multiply by `gamma` (`scale=`).
    pub fn scale(mut self, scale: bool) -> BatchNorm {
        self.scale = scale;
        self
    }
    /// Normalise with the batch's statistics and add the two moving-average
    /// updates to [`Graph::update_ops`](crate::Graph::update_ops) (`training=True`).
    pub fn training(mut self, training: bool) -> BatchNorm {
        self.training = training;
        self
    }
    /// Use `FusedBatchNormV3` (`fused=`; by default for 4-D inputs only).
    pub fn fused(mut self, fused: bool) -> BatchNorm {
        self.fused = Some(fused);
        self
    }
    /// The layer's scope name (`name=`).
    pub fn name(mut self, name: impl Into<String>) -> BatchNorm {
        self.name = Some(name.into());
        self
    }
    /// Reuse the variables of the layer of that name (`reuse=True`).
    pub fn reuse(mut self, reuse: bool) -> BatchNorm {
        self.reuse = reuse;
        self
    }
}

/// `tf.compat.v1.layers.batch_normalization` over the last axis: variables
/// `gamma` (ones), `beta` (zeros), `moving_mean` (zeros) and
/// `moving_variance` (ones, both non-trainable) in the scope
/// `batch_normalization` (numbered when unnamed).
///
/// In training it normalises with the batch's mean and biased variance and
/// adds `AssignMovingAvg` (`moving_mean -= (moving_mean - mean) (1 -
/// momentum)`) and `AssignMovingAvg_1` (the variance; corrected by `n / (n -
/// 1)` when fused) to [`Graph::update_ops`](crate::Graph::update_ops), which
/// run in a [`Session`](crate::Session) (building them leaves the averages
/// unchanged). A 4-D
/// input uses `FusedBatchNormV3`, others `batchnorm/add_1`.
///
/// ```
/// use varscope::layers::{BatchNorm, batch_normalization};
/// use varscope::{Graph, ndarray::ArrayD};
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let x = cx.placeholder("x", ArrayD::<f32>::zeros(vec![4, 3]))?;
/// let y = batch_normalization(&mut cx, &x, &BatchNorm::new().training(true))?;
/// assert_eq!(y.name(), "batch_normalization/batchnorm/add_1:0");
/// let updates: Vec<String> = graph.update_ops().iter().map(|t| t.op_name().to_string()).collect();
/// assert_eq!(updates, ["batch_normalization/AssignMovingAvg", "batch_normalization/AssignMovingAvg_1"]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn batch_normalization(cx: &mut Scope, inputs: &Tensor, opts: &BatchNorm) -> Result<Tensor> {
    let layer = LayerScope::functional(cx, "batch_normalization", opts.name.as_deref(), opts.reuse)?;
    let shape = inputs.shape().to_vec();
    let Some(&channels) = shape.last() else {
        return Err(invalid(format!("batch_normalization: input `{}` needs a rank of at least 1", inputs.name())));
    };
    let fused = opts.fused.unwrap_or(shape.len() == 4);
    layer.call(cx, None, |cx| {
        let dtype = inputs.dtype();
        let var = |cx: &Scope, name: &str, init: Init, trainable: bool| {
            cx.get_variable(name, VarSpec::new().shape([channels]).dtype(dtype).init(init).trainable(trainable))
        };
        let gamma = if opts.scale { Some(var(cx, "gamma", Init::Ones, true)?) } else { None };
        let beta = if opts.center { Some(var(cx, "beta", Init::Zeros, true)?) } else { None };
        let moving_mean = var(cx, "moving_mean", Init::Zeros, false)?;
        let moving_variance = var(cx, "moving_variance", Init::Ones, false)?;
        let (y, mean, variance) = if fused {
            let filled = |x: f64| cx.constant(crate::Value::filled(dtype, &[channels], x)?);
            let g = match &gamma {
                Some(g) => g.tensor().clone(),
                None => filled(1.0)?,
            };
            let b = match &beta {
                Some(b) => b.tensor().clone(),
                None => filled(0.0)?,
            };
            let out = cx.fused_batch_norm(
                inputs,
                &g,
                &b,
                moving_mean.tensor(),
                moving_variance.tensor(),
                opts.epsilon,
                opts.training,
            )?;
            (out[0].clone(), out[1].clone(), out[2].clone())
        } else {
            let (mean, variance) = if opts.training {
                moments(cx, inputs)?
            } else {
                (moving_mean.tensor().clone(), moving_variance.tensor().clone())
            };
            let y = normalize(cx, inputs, &mean, &variance, beta.as_ref(), gamma.as_ref(), opts.epsilon)?;
            (y, mean, variance)
        };
        if opts.training {
            for (v, value) in [(&moving_mean, &mean), (&moving_variance, &variance)] {
                // Building the update must not move the average (TF's does
                // not run at build time): the eager assignment is undone.
                let before = v.value();
                let update = assign_moving_average(cx, v, value, opts.momentum)?;
                v.assign(before)?;
                cx.graph().add_update_op(&update);
            }
        }
        Ok(y)
    })
}

/// `tf.nn.moments` over every axis but the last: the mean and the biased
/// variance, in a name scope `moments`.
fn moments(cx: &mut Scope, x: &Tensor) -> Result<(Tensor, Tensor)> {
    let axes: Vec<isize> = (0..x.shape().len() as isize - 1).collect();
    cx.push_name_scope("moments")?;
    let result: Result<(Tensor, Tensor)> = (|| {
        let mean = cx.named("mean").reduce_mean(x, axes.as_slice(), false)?;
        let diff = cx.sub(x, &mean)?;
        let square = cx.named("SquaredDifference").mul(&diff, &diff)?;
        let variance = cx.named("variance").reduce_mean(&square, axes.as_slice(), false)?;
        Ok((mean, variance))
    })();
    cx.pop_scope()?;
    result
}

/// `tf.nn.batch_normalization` in a name scope `batchnorm`: `x · inv +
/// (beta - mean · inv)` with `inv = rsqrt(variance + epsilon) · gamma`.
fn normalize(
    cx: &mut Scope,
    x: &Tensor,
    mean: &Tensor,
    variance: &Tensor,
    beta: Option<&Variable>,
    gamma: Option<&Variable>,
    epsilon: f64,
) -> Result<Tensor> {
    cx.push_name_scope("batchnorm")?;
    let result: Result<Tensor> = (|| {
        let eps = scalar(cx, epsilon, x.dtype())?;
        let mut inv = cx.rsqrt(&cx.add(variance, &eps)?)?;
        if let Some(g) = gamma {
            inv = cx.mul(&inv, g.tensor())?;
        }
        let scaled = cx.mul(x, &inv)?;
        let shift = cx.mul(mean, &inv)?;
        let offset = match beta {
            Some(b) => cx.sub(b.tensor(), &shift)?,
            None => cx.neg(&shift)?,
        };
        cx.add(&scaled, &offset)
    })();
    cx.pop_scope()?;
    result
}

/// Keras's `_assign_moving_average`: `var -= (var - value) · (1 - momentum)`
/// as an `AssignSub` named after its name scope `AssignMovingAvg`.
fn assign_moving_average(cx: &mut Scope, var: &Variable, value: &Tensor, momentum: f64) -> Result<Tensor> {
    let scope = cx.push_name_scope("AssignMovingAvg")?;
    let result: Result<Tensor> = (|| {
        let decay = cx.named("decay").constant(crate::Value::filled(var.dtype(), &[], 1.0 - momentum)?)?;
        let delta = cx.mul(&cx.sub(var.tensor(), value)?, &decay)?;
        cx.named(&scope).assign_sub(var.tensor(), &delta)
    })();
    cx.pop_scope()?;
    result
}
