//! Initializers: how a new variable gets its first value.
//!
//! Random initializers draw from a stream of their own, derived from the
//! graph's seed and the variable's full name (see
//! [`Graph::with_seed`](crate::Graph::with_seed)), so a run can be reproduced
//! and no variable's value depends on which others exist or when they were made.

use ndarray::{ArcArray, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{StandardNormal, Uniform};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Value;

/// A number as the user wrote it: an integer or a float.
///
/// The difference matters for `int32` variables: like TensorFlow, an integer
/// variable refuses a float constant (`1.5`, and also `2.0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Float(f64),
}

impl Scalar {
    /// The value as `f64`.
    pub fn as_f64(self) -> f64 {
        match self {
            Scalar::Int(i) => i as f64,
            Scalar::Float(x) => x,
        }
    }
}

impl From<i32> for Scalar {
    fn from(x: i32) -> Scalar {
        Scalar::Int(i64::from(x))
    }
}
impl From<i64> for Scalar {
    fn from(x: i64) -> Scalar {
        Scalar::Int(x)
    }
}
impl From<f32> for Scalar {
    fn from(x: f32) -> Scalar {
        Scalar::Float(f64::from(x))
    }
}
impl From<f64> for Scalar {
    fn from(x: f64) -> Scalar {
        Scalar::Float(x)
    }
}

/// How a new variable gets its first value.
///
/// A scope's initializer is the default for every variable created inside it
/// and inside its sub-scopes; an explicit one given to `get_variable` wins.
/// Without any, floats get [`Init::GlorotUniform`] and integers [`Init::Zeros`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Every element is this number.
    Constant(Scalar),
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Normal distribution.
    RandomNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Normal distribution truncated at two standard deviations: a draw further
    /// from the mean is drawn again (TF's `truncated_normal_initializer`).
    TruncatedNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation (of the normal before truncation).
        stddev: f64,
    },
    /// Uniform distribution on `[min, max)`. For an `int32` variable both
    /// bounds must be integers, as in TensorFlow.
    RandomUniform {
        /// Lower bound.
        min: Scalar,
        /// Upper bound.
        max: Scalar,
    },
    /// Glorot (Xavier) uniform: `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`.
    GlorotUniform,
}

impl Init {
    /// A constant initializer.
    ///
    /// ```
    /// use varscope::{Init, Scalar};
    /// assert_eq!(Init::constant(0.5), Init::Constant(Scalar::Float(0.5)));
    /// assert_eq!(Init::constant(7), Init::Constant(Scalar::Int(7)));
    /// ```
    pub fn constant(x: impl Into<Scalar>) -> Init {
        Init::Constant(x.into())
    }

    /// A normal initializer.
    pub fn random_normal(mean: f64, stddev: f64) -> Init {
        Init::RandomNormal { mean, stddev }
    }

    /// A truncated normal initializer (TF's `truncated_normal_initializer`).
    ///
    /// ```
    /// use varscope::{Graph, Init, VarSpec};
    /// let graph = Graph::with_seed(1);
    /// let mut cx = graph.scope();
    /// let w = cx.get_variable("w", VarSpec::new().shape([1000]).init(Init::truncated_normal(0.0, 0.05)))?;
    /// assert!(w.value().to_f64_vec().iter().all(|x| x.abs() <= 0.1));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn truncated_normal(mean: f64, stddev: f64) -> Init {
        Init::TruncatedNormal { mean, stddev }
    }

    /// A uniform initializer on `[min, max)`.
    ///
    /// ```
    /// use varscope::{Init, Scalar};
    /// assert_eq!(Init::random_uniform(0, 5), Init::RandomUniform { min: Scalar::Int(0), max: Scalar::Int(5) });
    /// ```
    pub fn random_uniform(min: impl Into<Scalar>, max: impl Into<Scalar>) -> Init {
        Init::RandomUniform { min: min.into(), max: max.into() }
    }

    /// Refuses a random initializer whose parameters are not finite numbers
    /// (a NaN or infinite mean, deviation or bound); constants may be any float.
    fn check_finite(&self, name: &str) -> Result<()> {
        let params: &[(&str, f64)] = match *self {
            Init::RandomNormal { mean, stddev } | Init::TruncatedNormal { mean, stddev } => {
                &[("mean", mean), ("stddev", stddev)]
            }
            Init::RandomUniform { min, max } => &[("min", min.as_f64()), ("max", max.as_f64())],
            _ => &[],
        };
        match params.iter().find(|(_, x)| !x.is_finite()) {
            Some((what, x)) => Err(Error::invalid(format!(
                "variable `{name}`: the initializer's {what} is {x}: random initializers need finite parameters"
            ))),
            None => Ok(()),
        }
    }

    /// TensorFlow's default for a dtype: Glorot uniform for floats, zeros otherwise.
    pub fn default_for(dtype: DType) -> Init {
        if dtype.is_float() { Init::GlorotUniform } else { Init::Zeros }
    }

    /// Builds a value of `shape` and `dtype`; `name` is the variable's full
    /// name, used in error messages.
    pub(crate) fn build(&self, name: &str, shape: &[usize], dtype: DType, rng: &mut ChaCha8Rng) -> Result<Value> {
        let n: usize = shape.iter().product();
        self.check_finite(name)?;
        match *self {
            Init::Constant(Scalar::Float(x)) if !dtype.is_float() && n > 0 => Err(Error::invalid(format!(
                "cannot initialise {dtype} variable `{name}` from the float constant {x}: \
                 use an integer constant (`Init::constant({})`) or a float dtype",
                x.trunc() as i64
            ))),
            Init::Constant(Scalar::Int(i)) if dtype == DType::I32 && i32::try_from(i).is_err() => {
                Err(Error::invalid(format!(
                    "cannot initialise int32 variable `{name}` from the constant {i}: it is out of int32's range \
                     [{}, {}]; use a smaller constant or a wider dtype",
                    i32::MIN,
                    i32::MAX
                )))
            }
            Init::Constant(c) => Value::filled(dtype, shape, c.as_f64()),
            Init::Zeros => Value::filled(dtype, shape, 0.0),
            Init::Ones => Value::filled(dtype, shape, 1.0),
            Init::RandomNormal { mean, stddev } => {
                if !dtype.is_float() {
                    return Err(not_for_int(name, dtype, "random_normal"));
                }
                Ok(sample(dtype, shape, || {
                    let z: f64 = rng.sample(StandardNormal);
                    z * stddev + mean
                }))
            }
            Init::TruncatedNormal { mean, stddev } => {
                if !dtype.is_float() {
                    return Err(not_for_int(name, dtype, "truncated_normal"));
                }
                Ok(sample(dtype, shape, || {
                    // Two standard deviations hold 95% of the mass: redraws are rare.
                    let z: f64 = loop {
                        let z: f64 = rng.sample(StandardNormal);
                        if z.abs() <= 2.0 {
                            break z;
                        }
                    };
                    z * stddev + mean
                }))
            }
            Init::RandomUniform { min, max } => {
                if dtype == DType::I64 {
                    return Err(Error::invalid(format!(
                        "cannot initialise int64 variable `{name}` with random_uniform: int64 variables take \
                         zeros, ones or an integer constant; use int32 for random integers"
                    )));
                }
                if dtype == DType::I32 {
                    return uniform_int(name, shape, min, max, rng);
                }
                let (min, max) = (min.as_f64(), max.as_f64());
                Ok(sample(dtype, shape, || rng.random::<f64>() * (max - min) + min))
            }
            Init::GlorotUniform => {
                if !dtype.is_float() {
                    return Err(not_for_int(name, dtype, "glorot_uniform"));
                }
                let (fan_in, fan_out) = fans(shape);
                let scale = 1.0 / f64::max(1.0, (fan_in + fan_out) / 2.0);
                let limit = (3.0 * scale).sqrt();
                Ok(sample(dtype, shape, || rng.random::<f64>() * 2.0 * limit - limit))
            }
        }
    }
}

/// The random stream of the variable `name` in a graph seeded with `seed`:
/// ChaCha8 keyed by the seed, on the stream numbered by the 64-bit FNV-1a
/// hash of the full name.
pub(crate) fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    rng.set_stream(hash);
    rng
}

/// The op names TensorFlow's initializer creates inside `<variable>/Initializer/`
/// for `n` elements: a name scope (if any) and the ops inside it. They are
/// reserved so that later names uniquify as they do in TensorFlow.
pub(crate) fn helper_names(init: &Init, n: usize) -> (Option<&'static str>, &'static [&'static str]) {
    // `array_ops.zeros`/`ones` make one constant below 1000 elements, else a fill.
    const FILL: &[&str] = &["shape_as_tensor", "Const"];
    match init {
        Init::Constant(_) => (None, &["Const"]),
        Init::Zeros => (Some("zeros"), if n < 1000 { &[] } else { FILL }),
        Init::Ones => (Some("ones"), if n < 1000 { &[] } else { FILL }),
        Init::RandomNormal { .. } => {
            (Some("random_normal"), &["shape", "mean", "stddev", "RandomStandardNormal", "mul"])
        }
        Init::TruncatedNormal { .. } => {
            (Some("truncated_normal"), &["shape", "mean", "stddev", "TruncatedNormal", "mul"])
        }
        Init::RandomUniform { .. } | Init::GlorotUniform => {
            (Some("random_uniform"), &["shape", "min", "max", "RandomUniform", "sub", "mul"])
        }
    }
}

fn not_for_int(name: &str, dtype: DType, init: &str) -> Error {
    Error::invalid(format!(
        "cannot initialise {dtype} variable `{name}` with {init}: it only makes floats; \
         use zeros, ones, an integer constant or an integer random_uniform"
    ))
}

fn uniform_int(name: &str, shape: &[usize], min: Scalar, max: Scalar, rng: &mut ChaCha8Rng) -> Result<Value> {
    // Like TF, which converts both bounds to int32 first: a float bound is
    // refused even when it is integral, and even for an empty shape.
    let (Scalar::Int(lo), Scalar::Int(hi)) = (min, max) else {
        return Err(Error::invalid(format!(
            "cannot initialise int32 variable `{name}` with random_uniform({}, {}): \
             integer variables need integer bounds (`Init::random_uniform(0, 10)`)",
            min.as_f64(),
            max.as_f64()
        )));
    };
    let bound = |x: i64| {
        i32::try_from(x).map_err(|_| Error::invalid(format!("variable `{name}`: bound {x} does not fit in int32")))
    };
    let (lo, hi) = (bound(lo)?, bound(hi)?);
    if lo >= hi {
        // TensorFlow accepts these bounds when the variable is created and
        // only fails when the initializer runs. An eager runtime has no later
        // moment, so it gives what the float rule gives for `min == max`.
        return Value::filled(DType::I32, shape, f64::from(lo));
    }
    let dist = Uniform::new(lo, hi).map_err(|e| Error::invalid(format!("variable `{name}`: {e}")))?;
    Ok(Value::I32(ArcArray::from_shape_simple_fn(IxDyn(shape), || rng.sample(dist))))
}

/// Draws one `f64` per element, in row-major order, and stores it as `dtype`.
fn sample(dtype: DType, shape: &[usize], mut draw: impl FnMut() -> f64) -> Value {
    let dim = IxDyn(shape);
    match dtype {
        DType::F32 => Value::F32(ArcArray::from_shape_simple_fn(dim, || draw() as f32)),
        DType::F64 => Value::F64(ArcArray::from_shape_simple_fn(dim, draw)),
        DType::I32 => Value::I32(ArcArray::from_shape_simple_fn(dim, || draw() as i32)),
        DType::I64 => Value::I64(ArcArray::from_shape_simple_fn(dim, || draw() as i64)),
    }
}

/// TensorFlow's `_compute_fans`.
fn fans(shape: &[usize]) -> (f64, f64) {
    match shape {
        [] => (1.0, 1.0),
        [n] => (*n as f64, *n as f64),
        [a, b] => (*a as f64, *b as f64),
        [rest @ .., i, o] => {
            let receptive: usize = rest.iter().product();
            ((i * receptive) as f64, (o * receptive) as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_kernel_fans() {
        assert_eq!(fans(&[5, 5, 32, 64]), (800.0, 1600.0));
        assert_eq!(fans(&[]), (1.0, 1.0));
    }

    #[test]
    fn glorot_stays_in_its_limit() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let v = Init::GlorotUniform.build("w", &[10, 20], DType::F32, &mut rng).unwrap();
        let limit = (6.0f64 / 30.0).sqrt();
        assert!(v.to_f64_vec().iter().all(|x| x.abs() <= limit));
    }

    #[test]
    fn int_refuses_float_constant_unless_empty() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let err = Init::constant(1.5).build("s/i", &[2], DType::I32, &mut rng).unwrap_err();
        assert!(err.to_string().contains("`s/i`"));
        assert!(Init::constant(1.5).build("s/i", &[0], DType::I32, &mut rng).is_ok());
        assert!(Init::constant(2).build("s/i", &[2], DType::I32, &mut rng).is_ok());
    }
}
