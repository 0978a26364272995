//! Tensors as a checkpoint stores them: the runtime's dtypes plus the int64 and bool tensors that
//! TF models keep (a global step, counters, masks), which the runtime cannot hold as values.

use ndarray::{ArcArray, IxDyn};

use crate::proto::DataType;
use crate::tensor::Value;

use super::error::CheckpointError;

/// The element type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoredDType {
    /// `float32`.
    F32,
    /// `float64`.
    F64,
    /// `int32`.
    I32,
    /// `int64` (not a runtime dtype).
    I64,
    /// `bool` (not a runtime dtype).
    Bool,
}

impl StoredDType {
    /// TensorFlow's name: `float32`, `float64`, `int32`, `int64`, `bool`.
    pub fn name(self) -> &'static str {
        match self {
            StoredDType::F32 => "float32",
            StoredDType::F64 => "float64",
            StoredDType::I32 => "int32",
            StoredDType::I64 => "int64",
            StoredDType::Bool => "bool",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            StoredDType::F32 | StoredDType::I32 => 4,
            StoredDType::F64 | StoredDType::I64 => 8,
            StoredDType::Bool => 1,
        }
    }

    /// The runtime dtype, if the runtime has it.
    pub fn runtime(self) -> Option<crate::DType> {
        match self {
            StoredDType::F32 => Some(crate::DType::F32),
            StoredDType::F64 => Some(crate::DType::F64),
            StoredDType::I32 => Some(crate::DType::I32),
            StoredDType::I64 => Some(crate::DType::I64),
            StoredDType::Bool => None,
        }
    }

    /// The stored dtype of a runtime dtype.
    pub fn of(dtype: crate::DType) -> StoredDType {
        match dtype {
            crate::DType::F32 => StoredDType::F32,
            crate::DType::F64 => StoredDType::F64,
            crate::DType::I32 => StoredDType::I32,
            crate::DType::I64 => StoredDType::I64,
        }
    }

    pub(crate) fn proto(self) -> DataType {
        match self {
            StoredDType::F32 => DataType::DtFloat,
            StoredDType::F64 => DataType::DtDouble,
            StoredDType::I32 => DataType::DtInt32,
            StoredDType::I64 => DataType::DtInt64,
            StoredDType::Bool => DataType::DtBool,
        }
    }

    /// The dtype of a `DataType` number, or TF's name of an unsupported one.
    pub(crate) fn from_proto(n: i32) -> Result<StoredDType, String> {
        match DataType::try_from(n) {
            Ok(DataType::DtFloat) => Ok(StoredDType::F32),
            Ok(DataType::DtDouble) => Ok(StoredDType::F64),
            Ok(DataType::DtInt32) => Ok(StoredDType::I32),
            Ok(DataType::DtInt64) => Ok(StoredDType::I64),
            Ok(DataType::DtBool) => Ok(StoredDType::Bool),
            Ok(DataType::DtString) => Err("string".into()),
            Ok(DataType::DtHalf) => Err("float16".into()),
            Ok(DataType::DtBfloat16) => Err("bfloat16".into()),
            Ok(DataType::DtUint8) => Err("uint8".into()),
            Ok(DataType::DtInt8) => Err("int8".into()),
            Ok(DataType::DtInt16) => Err("int16".into()),
            Ok(DataType::DtComplex64) => Err("complex64".into()),
            _ => Err(format!("DataType {n}")),
        }
    }
}

impl std::fmt::Display for StoredDType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A tensor read from or written to a checkpoint.
///
/// The runtime's values convert for free (`From<Value>`, an `Arc` clone); bool tensors
/// are kept as they are and refused, naming their key, by [`StoredTensor::into_value`].
///
/// ```
/// use varscope::checkpoint::{StoredDType, StoredTensor};
/// use varscope::Value;
///
/// let t = StoredTensor::from(Value::from(2.5f32));
/// assert_eq!(t.dtype(), StoredDType::F32);
/// let step = StoredTensor::i64(&[], vec![7])?;
/// assert_eq!(step.into_value("global_step")?.to_f64_vec(), vec![7.0]); // int64, as TF's global_step
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StoredTensor {
    /// `float32`.
    F32(ArcArray<f32, IxDyn>),
    /// `float64`.
    F64(ArcArray<f64, IxDyn>),
    /// `int32`.
    I32(ArcArray<i32, IxDyn>),
    /// `int64`.
    I64(ArcArray<i64, IxDyn>),
    /// `bool`.
    Bool(ArcArray<bool, IxDyn>),
}

impl From<Value> for StoredTensor {
    fn from(v: Value) -> StoredTensor {
        match v {
            Value::F32(a) => StoredTensor::F32(a),
            Value::F64(a) => StoredTensor::F64(a),
            Value::I32(a) => StoredTensor::I32(a),
            Value::I64(a) => StoredTensor::I64(a),
        }
    }
}

fn shaped<T>(shape: &[usize], data: Vec<T>) -> Result<ArcArray<T, IxDyn>, crate::Error> {
    let n = data.len();
    ArcArray::from_shape_vec(IxDyn(shape), data).map_err(|_| {
        CheckpointError::InvalidRequest {
            reason: format!(
                "{n} elements do not fill shape {}: give as many elements as the shape has",
                crate::error::fmt_shape(shape)
            ),
        }
        .into()
    })
}

impl StoredTensor {
    /// An int64 tensor of `shape` from row-major elements.
    pub fn i64(shape: &[usize], data: Vec<i64>) -> Result<StoredTensor, crate::Error> {
        Ok(StoredTensor::I64(shaped(shape, data)?))
    }

    /// A bool tensor of `shape` from row-major elements.
    pub fn bool(shape: &[usize], data: Vec<bool>) -> Result<StoredTensor, crate::Error> {
        Ok(StoredTensor::Bool(shaped(shape, data)?))
    }

    /// The element type.
    pub fn dtype(&self) -> StoredDType {
        match self {
            StoredTensor::F32(_) => StoredDType::F32,
            StoredTensor::F64(_) => StoredDType::F64,
            StoredTensor::I32(_) => StoredDType::I32,
            StoredTensor::I64(_) => StoredDType::I64,
            StoredTensor::Bool(_) => StoredDType::Bool,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            StoredTensor::F32(a) => a.shape(),
            StoredTensor::F64(a) => a.shape(),
            StoredTensor::I32(a) => a.shape(),
            StoredTensor::I64(a) => a.shape(),
            StoredTensor::Bool(a) => a.shape(),
        }
    }

    /// The number of bytes the tensor takes on disk.
    pub fn byte_len(&self) -> usize {
        self.shape().iter().product::<usize>() * self.dtype().size()
    }

    /// The runtime value, or a typed error naming `key` for bool tensors.
    pub fn into_value(self, key: &str) -> Result<Value, crate::Error> {
        match self {
            StoredTensor::F32(a) => Ok(Value::F32(a)),
            StoredTensor::F64(a) => Ok(Value::F64(a)),
            StoredTensor::I32(a) => Ok(Value::I32(a)),
            StoredTensor::I64(a) => Ok(Value::I64(a)),
            other => Err(CheckpointError::Unsupported {
                key: key.to_string(),
                dtype: other.dtype().name().to_string(),
                hint: "the runtime holds float32, float64 and int32 values only; read it with \
                       `BundleReader::read` as a `StoredTensor`, or leave the key out of the restore",
            }
            .into()),
        }
    }

    /// Calls `sink` with the little-endian bytes of the elements, in row-major order, in chunks.
    pub(crate) fn for_each_chunk(&self, mut sink: impl FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<()> {
        match self {
            StoredTensor::F32(a) => chunks(a, f32::to_le_bytes, &mut sink),
            StoredTensor::F64(a) => chunks(a, f64::to_le_bytes, &mut sink),
            StoredTensor::I32(a) => chunks(a, i32::to_le_bytes, &mut sink),
            StoredTensor::I64(a) => chunks(a, i64::to_le_bytes, &mut sink),
            StoredTensor::Bool(a) => chunks(a, |b: bool| [u8::from(b)], &mut sink),
        }
    }

    /// Decodes `len` little-endian bytes from `src` in [`CHUNK`]-sized pieces (so the peak
    /// memory is the tensor plus one chunk), returning the tensor and the CRC32C of the bytes.
    /// `len` must be the shape's element count times the element size (the caller checks).
    pub(crate) fn read_from(
        dtype: StoredDType,
        shape: &[usize],
        len: usize,
        src: &mut impl std::io::Read,
    ) -> std::io::Result<(Option<StoredTensor>, u32)> {
        fn typed<const N: usize, T>(
            len: usize,
            src: &mut impl std::io::Read,
            f: impl Fn([u8; N]) -> T,
        ) -> std::io::Result<(Vec<T>, u32)> {
            let mut out = Vec::with_capacity(len / N);
            let mut buf = vec![0u8; CHUNK.min(len)];
            let mut crc = 0u32;
            let mut left = len;
            while left > 0 {
                let n = left.min(buf.len());
                src.read_exact(&mut buf[..n])?;
                crc = crate::crc::extend(crc, &buf[..n]);
                out.extend(buf[..n].chunks_exact(N).map(|c| f(c.try_into().expect("chunks_exact"))));
                left -= n;
            }
            Ok((out, crc))
        }
        let dim = IxDyn(shape);
        Ok(match dtype {
            StoredDType::F32 => {
                let (v, c) = typed(len, src, f32::from_le_bytes)?;
                (ArcArray::from_shape_vec(dim, v).ok().map(StoredTensor::F32), c)
            }
            StoredDType::F64 => {
                let (v, c) = typed(len, src, f64::from_le_bytes)?;
                (ArcArray::from_shape_vec(dim, v).ok().map(StoredTensor::F64), c)
            }
            StoredDType::I32 => {
                let (v, c) = typed(len, src, i32::from_le_bytes)?;
                (ArcArray::from_shape_vec(dim, v).ok().map(StoredTensor::I32), c)
            }
            StoredDType::I64 => {
                let (v, c) = typed(len, src, i64::from_le_bytes)?;
                (ArcArray::from_shape_vec(dim, v).ok().map(StoredTensor::I64), c)
            }
            StoredDType::Bool => {
                let (v, c) = typed(len, src, |[b]: [u8; 1]| b)?;
                let ok = v.iter().all(|&b| b <= 1);
                let t = ok.then(|| ArcArray::from_shape_vec(dim, v.into_iter().map(|b| b == 1).collect()).ok());
                (t.flatten().map(StoredTensor::Bool), c)
            }
        })
    }
}

/// Chunk size of the byte stream of a tensor: large enough for full-speed writes, small enough
/// to add nothing to the peak memory.
pub(crate) const CHUNK: usize = 1 << 20;

/// Streams `a`'s elements as bytes through one [`CHUNK`]-sized buffer; a contiguous array is
/// converted slice by slice (which the compiler vectorises), any other layout element by element.
fn chunks<T: Copy, const N: usize>(
    a: &ArcArray<T, IxDyn>,
    to_bytes: impl Fn(T) -> [u8; N],
    sink: &mut impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let per = CHUNK / N;
    let mut buf = vec![0u8; per.min(a.len()) * N];
    if let Some(s) = a.as_slice() {
        for part in s.chunks(per) {
            let out = &mut buf[..part.len() * N];
            for (d, &x) in out.chunks_exact_mut(N).zip(part) {
                d.copy_from_slice(&to_bytes(x));
            }
            sink(out)?;
        }
        return Ok(());
    }
    let mut filled = 0;
    for &x in a.iter() {
        buf[filled..filled + N].copy_from_slice(&to_bytes(x));
        filled += N;
        if filled == buf.len() {
            sink(&buf)?;
            filled = 0;
        }
    }
    if filled > 0 {
        sink(&buf[..filled])?;
    }
    Ok(())
}
