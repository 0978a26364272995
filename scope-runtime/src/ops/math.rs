//! Elementwise ops: `AddV2`, `Sub`, `Mul`, `RealDiv`, `Pow` with
//! NumPy/TensorFlow broadcasting, and `Neg`, `Exp`, `Log`, `Sqrt`, `Relu`,
//! `Sigmoid`, `Tanh`.

use ndarray::{ArcArray, ArrayD, ArrayViewD, IxDyn, Zip};

use super::basic::broadcast_shapes;
use super::{
    BinaryOp, Elem, Float, MathOp, Naming, UnaryOp, arg, float_only, internal, same_dtype, same_value_dtype,
    shapes_error, typed, unbroadcast, unsupported,
};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::{self, par};
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

/// A binary op on floats: every one of them applies.
fn binary_float<T: Float>(op: BinaryOp, a: &Value, b: &Value, shape: &[usize]) -> Result<Value> {
    let (a, b) = (typed::<T>(a)?.view(), typed::<T>(b)?.view());
    let out = match op {
        BinaryOp::Add => zip2(a, b, shape, T::plus)?,
        BinaryOp::Sub => zip2(a, b, shape, T::minus)?,
        BinaryOp::Mul => zip2(a, b, shape, T::times)?,
        BinaryOp::Div => zip2(a, b, shape, |x, y| x / y)?,
        BinaryOp::Pow => zip2(a, b, shape, |x, y| x.powf(y))?,
    };
    Ok(T::wrap(out))
}

/// A binary op on integers (wrapping); `Div` and `Pow` take floats only.
fn binary_int<T: Elem>(op: BinaryOp, node: &str, a: &Value, b: &Value, shape: &[usize]) -> Result<Value> {
    let f = match op {
        BinaryOp::Add => T::plus,
        BinaryOp::Sub => T::minus,
        BinaryOp::Mul => T::times,
        BinaryOp::Div | BinaryOp::Pow => return Err(unsupported(op.op_type(), node, T::DTYPE, "float32 or float64")),
    };
    let (a, b) = (typed::<T>(a)?.view(), typed::<T>(b)?.view());
    Ok(T::wrap(zip2(a, b, shape, f)?))
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

/// A unary op on floats: every one of them applies.
fn unary_float<T: Float>(op: UnaryOp, x: &Value) -> Result<Value> {
    let a = typed::<T>(x)?;
    let zero = T::zero();
    let out = match op {
        UnaryOp::Neg => map_elems(a, |v| zero.minus(v)),
        UnaryOp::Relu => kernels::relu(a.view()),
        UnaryOp::Exp => map_elems(a, T::exp),
        UnaryOp::Log => map_elems(a, T::ln),
        UnaryOp::Sqrt => map_elems(a, T::sqrt),
        UnaryOp::Sigmoid => kernels::sigmoid(a.view()),
        UnaryOp::Tanh => kernels::tanh(a.view()),
    };
    Ok(T::wrap(out))
}

/// A unary op on integers: `Neg` (wrapping) and `Relu`; the others take floats only.
fn unary_int<T: Elem>(op: UnaryOp, node: &str, x: &Value) -> Result<Value> {
    let a = typed::<T>(x)?;
    let zero = T::zero();
    let out = match op {
        UnaryOp::Neg => map_elems(a, |v| zero.minus(v)),
        UnaryOp::Relu => map_elems(a, |v| if v > zero { v } else { zero }),
        UnaryOp::Exp | UnaryOp::Log | UnaryOp::Sqrt | UnaryOp::Sigmoid | UnaryOp::Tanh => {
            return Err(unsupported(op.op_type(), node, T::DTYPE, "float32 or float64"));
        }
    };
    Ok(T::wrap(out))
}

/// `tf.sigmoid` opens a wrapper name scope; the other unary ops do not.
const WRAPPED: bool = true;
const HELPER: bool = false;

impl Scope {
    /// `a + b` with broadcasting (op `AddV2`, default name `add` as Python's
    /// `a + b`; name it `Add` for `tf.add`'s default).
    pub fn add(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Scoped { default: "add" }, BinaryOp::Add, a, b)
    }

    /// `a - b` with broadcasting (op `Sub`, default name `sub` as Python's `a - b`).
    pub fn sub(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Helper { default: "sub" }, BinaryOp::Sub, a, b)
    }

    /// `a * b` with broadcasting (op `Mul`, default name `mul` as Python's
    /// `a * b`; name it `Mul` for `tf.multiply`'s default).
    pub fn mul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Helper { default: "mul" }, BinaryOp::Mul, a, b)
    }

    /// `a / b` for floats with broadcasting (op `RealDiv`, default name
    /// `truediv` as Python's `a / b`).
    pub fn div(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Scoped { default: "truediv" }, BinaryOp::Div, a, b)
    }

    /// `a` to the power `b` for floats with broadcasting (op `Pow`, default
    /// name `pow` as Python's `a ** b`).
    pub fn pow(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary(Naming::Scoped { default: "pow" }, BinaryOp::Pow, a, b)
    }

    fn binary(&self, naming: Naming, op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let op_type = op.op_type();
        let float = matches!(op, BinaryOp::Div | BinaryOp::Pow);
        self.record_op(naming, op, &[a, b], |node| {
            same_dtype(op_type, node, a, b)?;
            if float { float_only(op_type, node, a) } else { Ok(()) }
        })
    }

    /// `-x` (op and default name `Neg`).
    pub fn neg(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, UnaryOp::Neg, x)
    }

    /// `e^x` (op and default name `Exp`).
    pub fn exp(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, UnaryOp::Exp, x)
    }

    /// The natural logarithm (op and default name `Log`).
    pub fn log(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, UnaryOp::Log, x)
    }

    /// The square root (op and default name `Sqrt`).
    pub fn sqrt(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, UnaryOp::Sqrt, x)
    }

    /// `max(x, 0)` elementwise (op and default name `Relu`).
    pub fn relu(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, UnaryOp::Relu, x)
    }

    /// The logistic function `1 / (1 + e^-x)` (op and default name `Sigmoid`).
    pub fn sigmoid(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(WRAPPED, UnaryOp::Sigmoid, x)
    }

    /// The hyperbolic tangent (op and default name `Tanh`).
    pub fn tanh(&self, x: &Tensor) -> Result<Tensor> {
        self.unary(HELPER, UnaryOp::Tanh, x)
    }

    /// A unary op named by its type; `wrapped` says whether TF's Python
    /// function opens a wrapper name scope (see [`Naming`]).
    fn unary(&self, wrapped: bool, op: UnaryOp, x: &Tensor) -> Result<Tensor> {
        let op_type = op.op_type();
        let any = matches!(op, UnaryOp::Neg | UnaryOp::Relu);
        let naming = if wrapped { Naming::Scoped { default: op_type } } else { Naming::Helper { default: op_type } };
        self.record_op(naming, op, &[x], |node| if any { Ok(()) } else { float_only(op_type, node, x) })
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
        const OP: MathOp = MathOp::AddN;
        if let [one] = xs {
            self.next_name.set(None);
            return Ok((*one).clone());
        }
        let op_type = OP.op_type();
        self.record_op(Naming::Helper { default: op_type }, OP, xs, |node| {
            let Some(first) = xs.first() else {
                return Err(super::op_error(op_type, node, "needs at least one input"));
            };
            xs.iter().try_for_each(|t| same_dtype(op_type, node, first, t))
        })
    }
}

/// `AddN`'s value: inputs of one dtype and one shape (no broadcasting).
fn add_n_forward(op_type: &'static str, node: &str, v: &[Value]) -> Result<Value> {
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
pub(crate) fn forward(op: &MathOp, node: &str, v: &[Value]) -> Result<Value> {
    let op_type = op.op_type();
    match *op {
        MathOp::Binary(op) => {
            let (x, y) = (arg(op_type, node, v, 0)?, arg(op_type, node, v, 1)?);
            same_value_dtype(op_type, node, x, y)?;
            let shape = broadcast_shapes(x.shape(), y.shape()).ok_or_else(|| {
                shapes_error(op_type, node, x.shape(), y.shape(), "dimensions must be equal or 1 to broadcast")
            })?;
            if checked_len(&shape).is_none() {
                return Err(too_large(&format!("op `{node}` ({op_type})"), &shape));
            }
            match x.dtype() {
                DType::F32 => binary_float::<f32>(op, x, y, &shape),
                DType::F64 => binary_float::<f64>(op, x, y, &shape),
                DType::I32 => binary_int::<i32>(op, node, x, y, &shape),
                DType::I64 => binary_int::<i64>(op, node, x, y, &shape),
            }
        }
        MathOp::Unary(op) => {
            let x = arg(op_type, node, v, 0)?;
            match x.dtype() {
                DType::F32 => unary_float::<f32>(op, x),
                DType::F64 => unary_float::<f64>(op, x),
                DType::I32 => unary_int::<i32>(op, node, x),
                DType::I64 => unary_int::<i64>(op, node, x),
            }
        }
        MathOp::AddN => add_n_forward(op_type, node, v),
    }
}

/// Gradients of the elementwise ops: `g` is the output's gradient.
pub(crate) fn backward<T: Float>(op: &MathOp, x: &[Value], y: &Value, g: &ArrayD<T>) -> Result<Vec<Option<ArrayD<T>>>> {
    let gv = g.view();
    let shape = g.shape().to_vec();
    let one = T::one();
    let zero = T::zero();
    let binary = |fa: &dyn Fn(T, T, T) -> T, fb: &dyn Fn(T, T, T) -> T| -> Result<Vec<Option<ArrayD<T>>>> {
        let (a, b) = (typed::<T>(&x[0])?, typed::<T>(&x[1])?);
        let ga = zip3(gv.clone(), a.view(), b.view(), &shape, fa)?;
        let gb = zip3(gv.clone(), a.view(), b.view(), &shape, fb)?;
        Ok(vec![Some(unbroadcast(ga, a.shape())?), Some(unbroadcast(gb, b.shape())?)])
    };
    match *op {
        MathOp::Binary(op) => match op {
            // Sums pass the gradient through (negated for the subtrahend):
            // no elementwise pass over the inputs is needed.
            BinaryOp::Add | BinaryOp::Sub => {
                let ga = unbroadcast(g.clone(), x[0].shape())?;
                let gb = if op == BinaryOp::Sub { g.mapv(|v| -v) } else { g.clone() };
                Ok(vec![Some(ga), Some(unbroadcast(gb, x[1].shape())?)])
            }
            BinaryOp::Mul => binary(&|g, _, b| g * b, &|g, a, _| g * a),
            BinaryOp::Div => binary(&|g, _, b| g / b, &|g, a, b| -g * a / (b * b)),
            BinaryOp::Pow => binary(&|g, a, b| g * b * a.powf(b - one), &|g, a, b| {
                if a > zero { g * a.powf(b) * a.ln() } else { zero }
            }),
        },
        MathOp::Unary(op) => {
            let xa = typed::<T>(&x[0])?.view();
            let ya = typed::<T>(y)?.view();
            let out = match op {
                UnaryOp::Neg => g.mapv(|v| -v),
                UnaryOp::Exp => zip2(gv, ya, &shape, |g, y| g * y)?,
                UnaryOp::Log => zip2(gv, xa, &shape, |g, x| g / x)?,
                UnaryOp::Sqrt => zip2(gv, ya, &shape, |g, y| g * T::c(0.5) / y)?,
                // From the output: `relu(x) > 0` exactly where `x > 0`, and a fused
                // Conv2D/bias/Relu run keeps only the output.
                UnaryOp::Relu => kernels::relu_grad(ya, gv).map_err(internal)?,
                UnaryOp::Sigmoid => kernels::sigmoid_grad(ya, gv).map_err(internal)?,
                UnaryOp::Tanh => kernels::tanh_grad(ya, gv).map_err(internal)?,
            };
            Ok(vec![Some(out)])
        }
        MathOp::AddN => Ok(x.iter().map(|_| Some(g.clone())).collect()),
    }
}
