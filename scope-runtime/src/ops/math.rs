//! Elementwise ops: `AddV2`, `Sub`, `Mul`, `RealDiv`, `Pow` with
//! NumPy/TensorFlow broadcasting, and `Neg`, `Exp`, `Log`, `Sqrt`, `Relu`,
//! `Sigmoid`, `Tanh`.

use ndarray::{ArcArray, ArrayD, ArrayViewD, IxDyn, Zip};

use super::basic::broadcast_shapes;
use super::{Elem, Float, Naming, Op, arg, float_only, same_dtype, same_value_dtype, shapes_error, typed, unbroadcast};
use crate::error::{Error, Result};
use crate::kernels::par;
use crate::scope::Scope;
use crate::tensor::{Tensor, Value, checked_len, too_large};

/// `f(a, b)` elementwise, both broadcast to `shape` (already checked).
pub(crate) fn zip2<T: Elem, U: Elem>(
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
    shape: &[usize],
    f: impl Fn(T, T) -> U + Sync,
) -> Result<ArrayD<U>> {
    if let Some(out) = zip2_contiguous(&a, &b, shape, &f) {
        return Ok(out);
    }
    let dim = IxDyn(shape);
    let (Some(a), Some(b)) = (a.broadcast(dim.clone()), b.broadcast(dim)) else {
        return Err(Error::internal("shapes do not broadcast"));
    };
    Ok(Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)))
}

/// Whether `small`, without leading 1s, is the tail of `shape`: it repeats
/// contiguously along the row-major order of `shape`.
fn is_tail(small: &[usize], shape: &[usize]) -> bool {
    let lead = small.iter().take_while(|&&d| d == 1).count();
    shape.ends_with(&small[lead..])
}

/// The fast paths of [`zip2`] for row-major inputs: equal shapes, or one
/// side (a bias, a scalar) repeating along the other; on both cores for large
/// inputs (the kernels' elementwise passes).
fn zip2_contiguous<T: Elem, U: Elem>(
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
    shape: &[usize],
    f: &(impl Fn(T, T) -> U + Sync),
) -> Option<ArrayD<U>> {
    let (xs, ys) = (a.as_slice()?, b.as_slice()?);
    let n: usize = shape.iter().product();
    let out: Vec<U> = if xs.len() == n && ys.len() == n && a.shape() == b.shape() {
        par::map2(xs, ys, f)
    } else if xs.len() == n && !ys.is_empty() && a.shape() == shape && is_tail(b.shape(), shape) {
        par::map2_tail(xs, ys, false, U::zero(), f)
    } else if ys.len() == n && !xs.is_empty() && b.shape() == shape && is_tail(a.shape(), shape) {
        par::map2_tail(ys, xs, true, U::zero(), f)
    } else {
        return None;
    };
    ArrayD::from_shape_vec(IxDyn(shape), out).ok()
}

/// `f(a, b, c)` elementwise, all broadcast to `shape` (already checked).
pub(crate) fn zip3<T: Elem>(
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
    c: ArrayViewD<'_, T>,
    shape: &[usize],
    f: impl Fn(T, T, T) -> T,
) -> Result<ArrayD<T>> {
    let dim = IxDyn(shape);
    let (Some(a), Some(b), Some(c)) = (a.broadcast(dim.clone()), b.broadcast(dim.clone()), c.broadcast(dim)) else {
        return Err(Error::internal("shapes do not broadcast"));
    };
    Ok(Zip::from(&a).and(&b).and(&c).map_collect(|&x, &y, &z| f(x, y, z)))
}

fn binary_any<T: Elem>(op: &Op, a: &Value, b: &Value, shape: &[usize]) -> Result<Value> {
    let (a, b) = (typed::<T>(a)?.view(), typed::<T>(b)?.view());
    let out = match op {
        Op::Add => zip2(a, b, shape, T::plus)?,
        Op::Sub => zip2(a, b, shape, T::minus)?,
        Op::Mul => zip2(a, b, shape, T::times)?,
        _ => return Err(not_here(op)),
    };
    Ok(T::wrap(out))
}

/// An op dispatched to the wrong helper: a bug, reported rather than a panic.
fn not_here(op: &Op) -> Error {
    Error::internal(format!("{op:?} reached the wrong elementwise helper"))
}

fn binary_float<T: Float>(op: &Op, a: &Value, b: &Value, shape: &[usize]) -> Result<Value> {
    let (a, b) = (typed::<T>(a)?.view(), typed::<T>(b)?.view());
    let out = match op {
        Op::Div => zip2(a, b, shape, |x, y| x / y)?,
        Op::Pow => zip2(a, b, shape, |x, y| x.powf(y))?,
        _ => return Err(not_here(op)),
    };
    Ok(T::wrap(out))
}

/// `f(x)` elementwise; on both cores for large row-major inputs.
pub(crate) fn map_elems<T: Elem, U: Elem>(x: &ArcArray<T, IxDyn>, f: impl Fn(T) -> U + Sync) -> ArrayD<U> {
    if let Some(xs) = x.as_slice()
        && let Ok(a) = ArrayD::from_shape_vec(x.raw_dim(), par::map1(xs, &f))
    {
        return a;
    }
    x.mapv(f)
}

fn unary_any<T: Elem>(op: &Op, x: &Value) -> Result<Value> {
    let x = typed::<T>(x)?;
    let zero = T::zero();
    let out = match op {
        Op::Neg => map_elems(x, |v| zero.minus(v)),
        Op::Relu => map_elems(x, |v| if v > zero { v } else { zero }),
        _ => return Err(not_here(op)),
    };
    Ok(T::wrap(out))
}

fn unary_float<T: Float>(op: &Op, x: &Value) -> Result<Value> {
    let a = typed::<T>(x)?;
    let one = T::one();
    let out = match op {
        Op::Exp => map_elems(a, T::exp),
        Op::Log => map_elems(a, T::ln),
        Op::Sqrt => map_elems(a, T::sqrt),
        Op::Sigmoid => map_elems(a, |v| sigmoid(v, one)),
        Op::Tanh => map_elems(a, T::tanh),
        _ => return unary_any::<T>(op, x),
    };
    Ok(T::wrap(out))
}

/// The logistic function, without overflow for large `|v|`.
pub(crate) fn sigmoid<T: Float>(v: T, one: T) -> T {
    if v >= T::zero() {
        one / (one + (-v).exp())
    } else {
        let e = v.exp();
        e / (one + e)
    }
}

/// `tf.sigmoid` opens a wrapper name scope; the other unary ops do not.
const WRAPPED: bool = true;
const HELPER: bool = false;

impl Scope {
    /// `a + b` with broadcasting (op `AddV2`, default name `add` as Python's
    /// `a + b`; name it `Add` for `tf.add`'s default).
    pub fn add(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Scoped { default: "add" }, "AddV2", Op::Add, a, b)
    }

    /// `a - b` with broadcasting (op `Sub`, default name `sub` as Python's `a - b`).
    pub fn sub(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Helper { default: "sub" }, "Sub", Op::Sub, a, b)
    }

    /// `a * b` with broadcasting (op `Mul`, default name `mul` as Python's
    /// `a * b`; name it `Mul` for `tf.multiply`'s default).
    pub fn mul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Helper { default: "mul" }, "Mul", Op::Mul, a, b)
    }

    /// `a / b` for floats with broadcasting (op `RealDiv`, default name
    /// `truediv` as Python's `a / b`).
    pub fn div(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Scoped { default: "truediv" }, "RealDiv", Op::Div, a, b)
    }

    /// `a` to the power `b` for floats with broadcasting (op `Pow`, default
    /// name `pow` as Python's `a ** b`).
    pub fn pow(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Scoped { default: "pow" }, "Pow", Op::Pow, a, b)
    }

    fn binary(&self, naming: Naming, op_type: &'static str, op: Op, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let float = matches!(op, Op::Div | Op::Pow);
        self.record_op(naming, op_type, op, &[a, b], |node| {
            same_dtype(op_type, node, a, b)?;
            if float { float_only(op_type, node, a) } else { Ok(()) }
        })
    }

    /// `-x` (op and default name `Neg`).
    pub fn neg(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, "Neg", Op::Neg, x)
    }

    /// `e^x` (op and default name `Exp`).
    pub fn exp(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, "Exp", Op::Exp, x)
    }

    /// The natural logarithm (op and default name `Log`).
    pub fn log(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, "Log", Op::Log, x)
    }

    /// The square root (op and default name `Sqrt`).
    pub fn sqrt(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, "Sqrt", Op::Sqrt, x)
    }

    /// `max(x, 0)` elementwise (op and default name `Relu`).
    pub fn relu(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, "Relu", Op::Relu, x)
    }

    /// The logistic function `1 / (1 + e^-x)` (op and default name `Sigmoid`).
    pub fn sigmoid(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(WRAPPED, "Sigmoid", Op::Sigmoid, x)
    }

    /// The hyperbolic tangent (op and default name `Tanh`).
    pub fn tanh(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, "Tanh", Op::Tanh, x)
    }

    /// A unary op named by its type; `wrapped` says whether TF's Python
    /// function opens a wrapper name scope (see [`Naming`]).
    fn unary(&self, wrapped: bool, op_type: &'static str, op: Op, x: &Tensor) -> Result<Tensor> {
        let any = matches!(op, Op::Neg | Op::Relu);
        let naming = if wrapped { Naming::Scoped { default: op_type } } else { Naming::Helper { default: op_type } };
        self.record_op(naming, op_type, op, &[x], |node| if any { Ok(()) } else { float_only(op_type, node, x) })
    }
}

impl Scope {
    /// The elementwise sum of tensors of one dtype and shape (TF's `tf.add_n`, op and default
    /// name `AddN`); one input is returned as it is, as TF does.
    ///
    /// ```
    /// use varscope::{Graph, Value};
    /// let graph = Graph::new();
    /// let cx = graph.scope();
    /// let (a, b) = (cx.constant(Value::from(vec![1.0f32, 2.0]))?, cx.constant(Value::from(vec![3.0f32, 4.0]))?);
    /// let total = cx.named("total_loss").add_n(&[&a, &b])?;
    /// assert_eq!((total.name(), total.value().to_f64_vec()), ("total_loss:0", vec![4.0, 6.0]));
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn add_n(&self, xs: &[&Tensor]) -> Result<Tensor> {
        const OP: &str = "AddN";
        if let [one] = xs {
            self.next_name.set(None);
            return Ok((*one).clone());
        }
        self.record_op(Naming::Helper { default: OP }, OP, Op::AddN, xs, |node| {
            let Some(first) = xs.first() else {
                return Err(super::op_error(OP, node, "needs at least one input"));
            };
            xs.iter().try_for_each(|t| same_dtype(OP, node, first, t))
        })
    }
}

/// `AddN`'s value: inputs of one dtype and one shape (no broadcasting).
pub(crate) fn add_n_forward(op_type: &'static str, node: &str, v: &[Value]) -> Result<Value> {
    let first = arg(op_type, node, v, 0)?;
    for x in &v[1..] {
        same_value_dtype(op_type, node, first, x)?;
        if x.shape() != first.shape() {
            return Err(shapes_error(op_type, node, first.shape(), x.shape(), "all inputs must have one shape"));
        }
    }
    any_dispatch!(first.dtype(), add_n_values(v))
}

fn add_n_values<T: Elem>(v: &[Value]) -> Result<Value> {
    let mut sum = typed::<T>(&v[0])?.to_owned();
    for x in &v[1..] {
        let x = typed::<T>(x)?;
        sum.zip_mut_with(x, |s, &y| *s = s.plus(y));
    }
    Ok(T::wrap(sum))
}

/// The elementwise ops' value.
pub(crate) fn forward(op: &Op, op_type: &'static str, node: &str, v: &[Value]) -> Result<Value> {
    let x = arg(op_type, node, v, 0)?;
    match op {
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow => {
            let y = arg(op_type, node, v, 1)?;
            same_value_dtype(op_type, node, x, y)?;
            let shape = broadcast_shapes(x.shape(), y.shape()).ok_or_else(|| {
                shapes_error(op_type, node, x.shape(), y.shape(), "dimensions must be equal or 1 to broadcast")
            })?;
            if checked_len(&shape).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &shape));
            }
            if matches!(op, Op::Div | Op::Pow) {
                float_dispatch!(x.dtype(), op_type, node, binary_float(op, x, y, &shape))
            } else {
                any_dispatch!(x.dtype(), binary_any(op, x, y, &shape))
            }
        }
        Op::Neg | Op::Relu => any_dispatch!(x.dtype(), unary_any(op, x)),
        _ => float_dispatch!(x.dtype(), op_type, node, unary_float(op, x)),
    }
}

/// Gradients of the elementwise ops: `g` is the output's gradient.
pub(crate) fn backward<T: Float>(op: &Op, x: &[Value], y: &Value, g: &ArrayD<T>) -> Result<Vec<Option<ArrayD<T>>>> {
    let gv = g.view();
    let shape = g.shape().to_vec();
    let one = T::one();
    let zero = T::zero();
    let binary = |fa: &dyn Fn(T, T, T) -> T, fb: &dyn Fn(T, T, T) -> T| -> Result<Vec<Option<ArrayD<T>>>> {
        let (a, b) = (typed::<T>(&x[0])?, typed::<T>(&x[1])?);
        let ga = zip3(gv.clone(), a.view(), b.view(), &shape, fa)?;
        let gb = zip3(gv.clone(), a.view(), b.view(), &shape, fb)?;
        Ok(vec![Some(unbroadcast(ga, a.shape())), Some(unbroadcast(gb, b.shape()))])
    };
    match op {
        // Sums pass the gradient through (negated for the subtrahend):
        // no elementwise pass over the inputs is needed.
        Op::Add | Op::Sub => {
            let ga = unbroadcast(g.clone(), x[0].shape());
            let gb = if *op == Op::Sub { g.mapv(|v| -v) } else { g.clone() };
            Ok(vec![Some(ga), Some(unbroadcast(gb, x[1].shape()))])
        }
        Op::Mul => binary(&|g, _, b| g * b, &|g, a, _| g * a),
        Op::Div => binary(&|g, _, b| g / b, &|g, a, b| -g * a / (b * b)),
        Op::Pow => binary(&|g, a, b| g * b * a.powf(b - one), &|g, a, b| {
            if a > zero { g * a.powf(b) * a.ln() } else { zero }
        }),
        _ => {
            let xa = typed::<T>(&x[0])?.view();
            let ya = typed::<T>(y)?.view();
            let out = match op {
                Op::Identity => g.clone(),
                Op::Neg => g.mapv(|v| -v),
                Op::Exp => zip2(gv, ya, &shape, |g, y| g * y)?,
                Op::Log => zip2(gv, xa, &shape, |g, x| g / x)?,
                Op::Sqrt => zip2(gv, ya, &shape, |g, y| g * T::c(0.5) / y)?,
                // From the output: `relu(x) > 0` exactly where `x > 0`, and a fused
                // Conv2D/bias/Relu run keeps only the output.
                Op::Relu => zip2(gv, ya, &shape, |g, y| if y > zero { g } else { zero })?,
                Op::Sigmoid => zip2(gv, ya, &shape, |g, y| g * y * (one - y))?,
                Op::Tanh => zip2(gv, ya, &shape, |g, y| g * (one - y * y))?,
                _ => return Err(Error::internal(format!("{op:?} is not elementwise"))),
            };
            Ok(vec![Some(out)])
        }
    }
}
