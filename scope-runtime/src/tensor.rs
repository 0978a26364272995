//! Tensors: eagerly computed `ndarray` values with a name in the graph.
//!
//! A [`Tensor`] is a cheap handle (an `Arc`) to the output of a node. Its
//! [`Value`] is fixed for op outputs; a variable's tensor holds the variable's
//! current value, which [`Variable::assign`](crate::Variable::assign) replaces.

use std::fmt;
use std::sync::{Arc, RwLock};

use ndarray::{ArcArray, ArrayD, IxDyn};

use crate::dtype::DType;

/// A dense n-dimensional value of one of the supported dtypes.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// 32-bit floats.
    F32(ArcArray<f32, IxDyn>),
    /// 64-bit floats.
    F64(ArcArray<f64, IxDyn>),
    /// 32-bit integers.
    I32(ArcArray<i32, IxDyn>),
}

impl Value {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            Value::F32(_) => DType::F32,
            Value::F64(_) => DType::F64,
            Value::I32(_) => DType::I32,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::F32(a) => a.shape(),
            Value::F64(a) => a.shape(),
            Value::I32(a) => a.shape(),
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether the value has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in row-major order, widened to `f64`.
    ///
    /// ```
    /// use scope_runtime::Value;
    /// assert_eq!(Value::from(2.5f32).to_f64_vec(), vec![2.5]);
    /// ```
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Value::F32(a) => a.iter().map(|&x| f64::from(x)).collect(),
            Value::F64(a) => a.iter().copied().collect(),
            Value::I32(a) => a.iter().map(|&x| f64::from(x)).collect(),
        }
    }

    /// The `f32` array, if this is an `f32` value.
    pub fn as_f32(&self) -> Option<&ArcArray<f32, IxDyn>> {
        match self {
            Value::F32(a) => Some(a),
            _ => None,
        }
    }

    /// The `f64` array, if this is an `f64` value.
    pub fn as_f64(&self) -> Option<&ArcArray<f64, IxDyn>> {
        match self {
            Value::F64(a) => Some(a),
            _ => None,
        }
    }

    /// The `i32` array, if this is an `i32` value.
    pub fn as_i32(&self) -> Option<&ArcArray<i32, IxDyn>> {
        match self {
            Value::I32(a) => Some(a),
            _ => None,
        }
    }

    /// A value of `dtype` with every element set to `x`.
    pub fn filled(dtype: DType, shape: &[usize], x: f64) -> Value {
        let dim = IxDyn(shape);
        match dtype {
            DType::F32 => Value::F32(ArcArray::from_elem(dim, x as f32)),
            DType::F64 => Value::F64(ArcArray::from_elem(dim, x)),
            DType::I32 => Value::I32(ArcArray::from_elem(dim, x as i32)),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::F32(a) => write!(f, "F32({a})"),
            Value::F64(a) => write!(f, "F64({a})"),
            Value::I32(a) => write!(f, "I32({a})"),
        }
    }
}

macro_rules! value_from {
    ($t:ty, $variant:ident) => {
        impl From<$t> for Value {
            fn from(x: $t) -> Value {
                Value::$variant(ArcArray::from_elem(IxDyn(&[]), x))
            }
        }
        impl From<ArrayD<$t>> for Value {
            fn from(a: ArrayD<$t>) -> Value {
                Value::$variant(a.into_shared())
            }
        }
        impl From<ArcArray<$t, IxDyn>> for Value {
            fn from(a: ArcArray<$t, IxDyn>) -> Value {
                Value::$variant(a)
            }
        }
    };
}
value_from!(f32, F32);
value_from!(f64, F64);
value_from!(i32, I32);

/// What produced a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The output of an op.
    Op,
    /// A variable; `trainable` says whether it is in the trainable collection.
    Variable { trainable: bool },
}

pub(crate) struct TensorInner {
    pub(crate) graph_id: u64,
    pub(crate) node: usize,
    pub(crate) name: String,
    pub(crate) dtype: DType,
    pub(crate) shape: Vec<usize>,
    pub(crate) origin: Origin,
    pub(crate) value: RwLock<Value>,
}

/// The output of a node of a [`Graph`](crate::Graph): a name and a value.
///
/// Cloning is cheap and clones share identity.
#[derive(Clone)]
pub struct Tensor {
    pub(crate) inner: Arc<TensorInner>,
}

impl Tensor {
    pub(crate) fn new(graph_id: u64, node: usize, node_name: &str, origin: Origin, value: Value) -> Tensor {
        Tensor {
            inner: Arc::new(TensorInner {
                graph_id,
                node,
                name: format!("{node_name}:0"),
                dtype: value.dtype(),
                shape: value.shape().to_vec(),
                origin,
                value: RwLock::new(value),
            }),
        }
    }

    /// The tensor's name, `node:0` (such as `foo/add:0`).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The name of the node that produced it (`foo/add`).
    pub fn op_name(&self) -> &str {
        self.inner.name.strip_suffix(":0").unwrap_or(&self.inner.name)
    }

    /// The index of the producing node in its graph.
    pub fn node(&self) -> usize {
        self.inner.node
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.inner.shape
    }

    /// The current value (a cheap, shared copy).
    pub fn value(&self) -> Value {
        match self.inner.value.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether both handles are the same tensor.
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn graph_id(&self) -> u64 {
        self.inner.graph_id
    }

    pub(crate) fn origin(&self) -> Origin {
        self.inner.origin
    }

    pub(crate) fn set_value(&self, value: Value) {
        match self.inner.value.write() {
            Ok(mut v) => *v = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tensor")
            .field("name", &self.name())
            .field("dtype", &self.dtype())
            .field("shape", &self.shape())
            .finish()
    }
}
