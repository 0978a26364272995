//! Tensors: eagerly computed `ndarray` values with a name in the graph.
//!
//! A [`Tensor`] is a cheap handle (an `Arc`) to the output of a node. Its
//! [`Value`] is fixed for op outputs; a variable's tensor holds the variable's
//! current value, which [`Variable::assign`](crate::Variable::assign) replaces.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, RwLock, Weak};

use ndarray::{ArcArray, ArrayD, IxDyn};

use crate::dtype::DType;
use crate::error::{Error, Result, fmt_shape};

/// The most elements one value may have (2^31 - 1, TensorFlow's int32 index
/// range). Larger shapes, and shapes whose element count overflows, are
/// refused with an error naming the variable or op instead of aborting on
/// allocation.
pub const MAX_ELEMENTS: usize = i32::MAX as usize;

/// The element count of `shape` if it is at most [`MAX_ELEMENTS`].
pub(crate) fn checked_len(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).filter(|&n| n <= MAX_ELEMENTS)
}

/// The error for a shape with too many elements; `what` names the variable
/// or op, such as ``variable `foo/v` ``.
pub(crate) fn too_large(what: &str, shape: &[usize]) -> Error {
    Error::invalid(format!(
        "{what}: shape {} has more than {MAX_ELEMENTS} elements (or its element count overflows): \
         use a smaller shape",
        fmt_shape(shape)
    ))
}

/// A dense n-dimensional value of one of the supported dtypes.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// 32-bit floats.
    F32(ArcArray<f32, IxDyn>),
    /// 64-bit floats.
    F64(ArcArray<f64, IxDyn>),
    /// 32-bit integers.
    I32(ArcArray<i32, IxDyn>),
    /// 64-bit integers.
    I64(ArcArray<i64, IxDyn>),
}

impl Value {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            Value::F32(_) => DType::F32,
            Value::F64(_) => DType::F64,
            Value::I32(_) => DType::I32,
            Value::I64(_) => DType::I64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::F32(a) => a.shape(),
            Value::F64(a) => a.shape(),
            Value::I32(a) => a.shape(),
            Value::I64(a) => a.shape(),
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
    /// use varscope::Value;
    /// assert_eq!(Value::from(2.5f32).to_f64_vec(), vec![2.5]);
    /// ```
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Value::F32(a) => a.iter().map(|&x| f64::from(x)).collect(),
            Value::F64(a) => a.iter().copied().collect(),
            Value::I32(a) => a.iter().map(|&x| f64::from(x)).collect(),
            Value::I64(a) => a.iter().map(|&x| x as f64).collect(),
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

    /// The `i64` array, if this is an `i64` value.
    pub fn as_i64(&self) -> Option<&ArcArray<i64, IxDyn>> {
        match self {
            Value::I64(a) => Some(a),
            _ => None,
        }
    }

    /// Gives the buffer of a large float value to this thread's pool of output buffers when
    /// this is its last handle (`kernels::recycle`), so the next op's output reuses it.
    pub(crate) fn recycle(self) {
        match self {
            Value::F32(a) => crate::kernels::recycle::give_shared(a),
            Value::F64(a) => crate::kernels::recycle::give_shared(a),
            Value::I32(_) | Value::I64(_) => {}
        }
    }

    /// A value of `dtype` with every element set to `x`, refusing a shape of
    /// more than [`MAX_ELEMENTS`] elements and, for `int32`, an `x` that is
    /// not an integer in int32's range (as TensorFlow refuses it; int64 alike).
    ///
    /// ```
    /// use varscope::{DType, Value};
    /// assert_eq!(Value::filled(DType::I32, &[2], 3.0)?.to_f64_vec(), vec![3.0, 3.0]);
    /// assert!(Value::filled(DType::I32, &[1], 3e10).is_err());
    /// assert!(Value::filled(DType::F32, &[1 << 40, 1 << 40], 0.0).is_err());
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn filled(dtype: DType, shape: &[usize], x: f64) -> Result<Value> {
        let Some(len) = checked_len(shape) else {
            return Err(too_large("a filled value", shape));
        };
        // An empty value holds no element that `x` could fail to fit.
        if len == 0 {
            return Ok(Value::filled_unchecked(dtype, shape, 0.0));
        }
        if dtype == DType::I32 && !(x.fract() == 0.0 && x >= f64::from(i32::MIN) && x <= f64::from(i32::MAX)) {
            return Err(Error::invalid(format!(
                "{x} is not an int32: int32 values are integers in [{}, {}]",
                i32::MIN,
                i32::MAX
            )));
        }
        // 2^63 is the first float past i64's range (i64::MAX rounds up to it).
        if dtype == DType::I64 && !(x.fract() == 0.0 && x >= -(2f64.powi(63)) && x < 2f64.powi(63)) {
            return Err(Error::invalid(format!(
                "{x} is not an int64: int64 values are integers in [{}, {}]",
                i64::MIN,
                i64::MAX
            )));
        }
        Ok(Value::filled_unchecked(dtype, shape, x))
    }

    fn filled_unchecked(dtype: DType, shape: &[usize], x: f64) -> Value {
        let dim = IxDyn(shape);
        match dtype {
            DType::F32 => Value::F32(ArcArray::from_elem(dim, x as f32)),
            DType::F64 => Value::F64(ArcArray::from_elem(dim, x)),
            DType::I32 => Value::I32(ArcArray::from_elem(dim, x as i32)),
            DType::I64 => Value::I64(ArcArray::from_elem(dim, x as i64)),
        }
    }
}

/// The elements as `ndarray` prints them (`[[1, 2],\n [3, 4]]`).
///
/// ```
/// use varscope::Value;
/// assert_eq!(Value::from(2.5f32).to_string(), "2.5");
/// ```
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::F32(a) => write!(f, "{a}"),
            Value::F64(a) => write!(f, "{a}"),
            Value::I32(a) => write!(f, "{a}"),
            Value::I64(a) => write!(f, "{a}"),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::F32(a) => write!(f, "F32({a})"),
            Value::F64(a) => write!(f, "F64({a})"),
            Value::I32(a) => write!(f, "I32({a})"),
            Value::I64(a) => write!(f, "I64({a})"),
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
        impl From<Vec<$t>> for Value {
            /// A vector (rank 1).
            fn from(x: Vec<$t>) -> Value {
                Value::$variant(ArcArray::from_vec(x).into_dyn())
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
value_from!(i64, I64);

/// What produced a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The output of an op.
    Op,
    /// A variable; `trainable` says whether it is in the trainable collection.
    Variable { trainable: bool },
}

/// A weak handle to the graph that made a tensor, without naming the graph's
/// type (graphs sit above values); compared by address.
pub(crate) type GraphRef = Weak<dyn Any + Send + Sync>;

pub(crate) struct TensorInner {
    /// The graph that made it. A weak handle: it does not keep the graph
    /// alive, but it keeps the graph's allocation, so no later graph can have
    /// the same address while this tensor exists.
    pub(crate) graph: GraphRef,
    /// The graph's `clear_ops` epoch when it was made:
    /// op outputs of an earlier epoch were removed by `clear_ops`.
    pub(crate) epoch: u64,
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
    pub(crate) fn new(
        graph: GraphRef,
        epoch: u64,
        node: usize,
        node_name: &str,
        origin: Origin,
        value: Value,
    ) -> Tensor {
        Tensor::output(graph, epoch, node, format!("{node_name}:0"), origin, value)
    }

    /// Output `name` (`node:i`) of node `node`.
    pub(crate) fn output(
        graph: GraphRef,
        epoch: u64,
        node: usize,
        name: String,
        origin: Origin,
        value: Value,
    ) -> Tensor {
        Tensor {
            inner: Arc::new(TensorInner {
                graph,
                epoch,
                node,
                name,
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

    /// Whether this tensor was made by the graph `graph` (also after that
    /// graph was dropped: the address is never reused while this tensor lives).
    pub(crate) fn graph_ptr(&self) -> *const () {
        self.inner.graph.as_ptr() as *const ()
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.inner.epoch
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

/// TensorFlow's spelling: `Tensor("foo/add:0", shape=(2, 3), dtype=float32)`.
///
/// ```
/// use varscope::Graph;
/// let graph = Graph::new();
/// let cx = graph.scope();
/// let c = cx.constant(1.0f32)?;
/// assert_eq!(c.to_string(), r#"Tensor("Const:0", shape=(), dtype=float32)"#);
/// # Ok::<(), varscope::Error>(())
/// ```
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor(\"{}\", shape={}, dtype={})", self.name(), fmt_shape(self.shape()), self.dtype())
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
