//! Element types of tensors and variables.

use std::fmt;

/// The element type of a tensor or variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DType {
    /// 32-bit float, the default.
    #[default]
    F32,
    /// 64-bit float.
    F64,
    /// 32-bit signed integer.
    I32,
    /// 64-bit signed integer (TF's `global_step`).
    I64,
}

impl DType {
    /// TensorFlow's name of the dtype: `float32`, `float64`, `int32`, `int64`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I32 => "int32",
            DType::I64 => "int64",
        }
    }

    /// Parses TensorFlow's name of a dtype.
    ///
    /// ```
    /// use varscope::DType;
    /// assert_eq!(DType::from_name("float64"), Some(DType::F64));
    /// assert_eq!(DType::from_name("complex64"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<DType> {
        match name {
            "float32" => Some(DType::F32),
            "float64" => Some(DType::F64),
            "int32" => Some(DType::I32),
            "int64" => Some(DType::I64),
            _ => None,
        }
    }

    /// Whether the dtype is a floating-point type.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
