//! TensorFlow's protobuf messages that varscope reads and writes, as `prost` messages written
//! from the `.proto` files (field numbers and types as there; no build-time code generation, so
//! no `protoc`). One definition of each message: the checkpoint format and the event/GraphDef
//! writer share `DataType` and `TensorShapeProto`. Submodules add the messages of one format each.

pub(crate) mod bundle;
pub(crate) mod event;
pub(crate) mod graph;

/// `tensorflow.DataType` (`tensorflow/core/framework/types.proto`), the values varscope meets.
/// A reference type is its value type plus 100 (`DT_FLOAT_REF` = 101).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(clippy::enum_variant_names)]
pub(crate) enum DataType {
    DtInvalid = 0,
    DtFloat = 1,
    DtDouble = 2,
    DtInt32 = 3,
    DtUint8 = 4,
    DtInt16 = 5,
    DtInt8 = 6,
    DtString = 7,
    DtComplex64 = 8,
    DtInt64 = 9,
    DtBool = 10,
    DtBfloat16 = 14,
    DtHalf = 19,
    DtResource = 20,
    DtFloatRef = 101,
    DtDoubleRef = 102,
    DtInt32Ref = 103,
    DtInt64Ref = 109,
    DtBoolRef = 110,
}

impl From<crate::DType> for DataType {
    /// The (value, not reference) type TF uses for a varscope dtype.
    fn from(dtype: crate::DType) -> DataType {
        match dtype {
            crate::DType::F32 => DataType::DtFloat,
            crate::DType::F64 => DataType::DtDouble,
            crate::DType::I32 => DataType::DtInt32,
            crate::DType::I64 => DataType::DtInt64,
        }
    }
}

/// `tensorflow.VersionDef` (`tensorflow/core/framework/versions.proto`): a tensor bundle's
/// header and a GraphDef carry one.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct VersionDef {
    /// The producer's version (1 for tensor bundles; 2474 for TF 2.21's GraphDefs).
    #[prost(int32, tag = "1")]
    pub producer: i32,
    /// The oldest consumer that can read it.
    #[prost(int32, tag = "2")]
    pub min_consumer: i32,
    /// Consumers that must not read it.
    #[prost(int32, repeated, tag = "3")]
    pub bad_consumers: Vec<i32>,
}

/// `tensorflow.TensorShapeProto` (`tensorflow/core/framework/tensor_shape.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorShapeProto {
    /// The dimensions, outermost first.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<tensor_shape_proto::Dim>,
    /// The rank is unknown (then `dim` is empty).
    #[prost(bool, tag = "3")]
    pub unknown_rank: bool,
}

/// Nested messages of [`TensorShapeProto`].
pub(crate) mod tensor_shape_proto {
    /// One dimension; `size` -1 is unknown.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Dim {
        /// The size, or -1 when unknown.
        #[prost(int64, tag = "1")]
        pub size: i64,
        /// An optional name.
        #[prost(string, tag = "2")]
        pub name: String,
    }
}

impl TensorShapeProto {
    /// The shape of fully known dimensions `dims`.
    pub(crate) fn known(dims: &[usize]) -> TensorShapeProto {
        TensorShapeProto {
            dim: dims.iter().map(|&d| tensor_shape_proto::Dim { size: d as i64, name: String::new() }).collect(),
            unknown_rank: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn a_shape_encodes_as_tensorflow_writes_it() {
        // TensorShapeProto{dim{size:2} dim{size:3}}: field 2 (LEN) twice, each holding field 1 = size.
        let bytes = TensorShapeProto::known(&[2, 3]).encode_to_vec();
        assert_eq!(bytes, [0x12, 0x02, 0x08, 0x02, 0x12, 0x02, 0x08, 0x03]);
        assert_eq!(TensorShapeProto::decode(&bytes[..]).unwrap(), TensorShapeProto::known(&[2, 3]));
        assert_eq!(DataType::try_from(101), Ok(DataType::DtFloatRef));
    }
}
