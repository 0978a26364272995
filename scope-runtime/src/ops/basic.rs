//! The first ops: `Const`, `AddV2`, `Mul`, `MatMul`, `Relu`, `Identity`.

use ndarray::{ArcArray, Ix2, IxDyn, LinalgScalar};

use super::{Naming, same_dtype};
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::tensor::{Tensor, Value};

/// The shape NumPy/TensorFlow broadcasting gives two shapes, if they fit.
///
/// ```
/// use scope_runtime::ops::broadcast_shapes;
/// assert_eq!(broadcast_shapes(&[8, 1, 3], &[4, 3]), Some(vec![8, 4, 3]));
/// assert_eq!(broadcast_shapes(&[2], &[3]), None);
/// ```
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() >= rank { s[i + s.len() - rank] } else { 1 };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

fn broadcast_error(op: &'static str, node: &str, a: &Tensor, b: &Tensor) -> Error {
    Error::IncompatibleShapes {
        op,
        node: node.to_string(),
        lhs: a.shape().to_vec(),
        rhs: b.shape().to_vec(),
        reason: "dimensions must be equal or 1 to broadcast".to_string(),
    }
}

/// Applies `f` elementwise with broadcasting; the shapes were checked.
fn zip_broadcast(a: &Value, b: &Value, node: &str, f: BinaryFns) -> Result<Value> {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => Ok(Value::F32((f.f32)(x, y).into_shared())),
        (Value::F64(x), Value::F64(y)) => Ok(Value::F64((f.f64)(x, y).into_shared())),
        (Value::I32(x), Value::I32(y)) => Ok(Value::I32((f.i32)(x, y).into_shared())),
        _ => Err(Error::invalid(format!("op `{node}`: inputs of different dtypes"))),
    }
}

type Binary<T> = fn(&ArcArray<T, IxDyn>, &ArcArray<T, IxDyn>) -> ndarray::ArrayD<T>;

struct BinaryFns {
    f32: Binary<f32>,
    f64: Binary<f64>,
    i32: Binary<i32>,
}

const ADD: BinaryFns = BinaryFns { f32: |x, y| x + y, f64: |x, y| x + y, i32: |x, y| x + y };
const MUL: BinaryFns = BinaryFns { f32: |x, y| x * y, f64: |x, y| x * y, i32: |x, y| x * y };

fn matmul2<T: LinalgScalar>(a: &ArcArray<T, IxDyn>, b: &ArcArray<T, IxDyn>) -> Option<ArcArray<T, IxDyn>> {
    let a = a.view().into_dimensionality::<Ix2>().ok()?;
    let b = b.view().into_dimensionality::<Ix2>().ok()?;
    Some(a.dot(&b).into_dyn().into_shared())
}

impl Scope {
    /// A constant (TF's `tf.constant`, op `Const`, default name `Const`).
    pub fn constant(&mut self, value: impl Into<Value>) -> Result<Tensor> {
        let value = value.into();
        self.record_op(Naming::Direct { default: "Const" }, "Const", &[], |_| Ok(()), |_| Ok(value))
    }

    /// Elementwise sum with broadcasting (op `AddV2`, default name `add` as
    /// Python's `a + b`; name it `Add` for `tf.add`'s default).
    pub fn add(&mut self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary("add", "AddV2", a, b, ADD)
    }

    /// Elementwise product with broadcasting (op `Mul`, default name `mul` as
    /// Python's `a * b`; name it `Mul` for `tf.multiply`'s default).
    pub fn mul(&mut self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        self.binary("mul", "Mul", a, b, MUL)
    }

    fn binary(
        &mut self,
        default: &'static str,
        op: &'static str,
        a: &Tensor,
        b: &Tensor,
        f: BinaryFns,
    ) -> Result<Tensor> {
        self.record_op(
            Naming::Scoped { default },
            op,
            &[a, b],
            |node| same_dtype(op, node, a, b),
            |node| {
                broadcast_shapes(a.shape(), b.shape()).ok_or_else(|| broadcast_error(op, node, a, b))?;
                zip_broadcast(&a.value(), &b.value(), node, f)
            },
        )
    }

    /// Matrix product of two rank-2 tensors (op and default name `MatMul`).
    pub fn matmul(&mut self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        const OP: &str = "MatMul";
        self.record_op(
            Naming::Scoped { default: OP },
            OP,
            &[a, b],
            |node| same_dtype(OP, node, a, b),
            |node| {
                let (sa, sb) = (a.shape(), b.shape());
                let fits = sa.len() == 2 && sb.len() == 2 && sa[1] == sb[0];
                if !fits {
                    let reason = if sa.len() != 2 || sb.len() != 2 {
                        "both inputs must be of rank 2"
                    } else {
                        "the first input's columns must equal the second input's rows"
                    };
                    return Err(Error::IncompatibleShapes {
                        op: OP,
                        node: node.to_string(),
                        lhs: sa.to_vec(),
                        rhs: sb.to_vec(),
                        reason: reason.to_string(),
                    });
                }
                let out = match (&a.value(), &b.value()) {
                    (Value::F32(x), Value::F32(y)) => matmul2(x, y).map(Value::F32),
                    (Value::F64(x), Value::F64(y)) => matmul2(x, y).map(Value::F64),
                    (Value::I32(x), Value::I32(y)) => matmul2(x, y).map(Value::I32),
                    _ => None,
                };
                out.ok_or_else(|| Error::invalid(format!("op `{node}` (MatMul): inputs are not matrices")))
            },
        )
    }

    /// `max(x, 0)` elementwise (op and default name `Relu`).
    pub fn relu(&mut self, x: &Tensor) -> Result<Tensor> {
        self.record_op(
            Naming::Scoped { default: "Relu" },
            "Relu",
            &[x],
            |_| Ok(()),
            |_| {
                Ok(match x.value() {
                    Value::F32(a) => Value::F32(a.mapv(|v| v.max(0.0)).into_shared()),
                    Value::F64(a) => Value::F64(a.mapv(|v| v.max(0.0)).into_shared()),
                    Value::I32(a) => Value::I32(a.mapv(|v| v.max(0)).into_shared()),
                })
            },
        )
    }

    /// The same value under a new name (op and default name `Identity`).
    pub fn identity(&mut self, x: &Tensor) -> Result<Tensor> {
        self.record_op(Naming::Scoped { default: "Identity" }, "Identity", &[x], |_| Ok(()), |_| Ok(x.value()))
    }
}
