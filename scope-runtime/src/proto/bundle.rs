//! The messages of a V2 checkpoint's `.index` (`tensorflow/core/protobuf/tensor_bundle.proto`,
//! `tensor_slice.proto`, `versions.proto`), field numbers and types as there.

use super::{TensorShapeProto, VersionDef};

/// `tensorflow.BundleHeaderProto`: the value under the empty key.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BundleHeaderProto {
    /// How many `.data-NNNNN-of-NNNNN` files the bundle has.
    #[prost(int32, tag = "1")]
    pub num_shards: i32,
    /// 0 = little-endian (the only one varscope writes or reads).
    #[prost(int32, tag = "2")]
    pub endianness: i32,
    /// Format version.
    #[prost(message, optional, tag = "3")]
    pub version: Option<VersionDef>,
}

/// `tensorflow.BundleEntryProto`: where one tensor (or one slice) lives.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BundleEntryProto {
    /// `DataType` number.
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape; TF always writes it (`12 00` for a scalar).
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
    /// Which data file.
    #[prost(int32, tag = "3")]
    pub shard_id: i32,
    /// Byte offset in that file.
    #[prost(int64, tag = "4")]
    pub offset: i64,
    /// Byte length.
    #[prost(int64, tag = "5")]
    pub size: i64,
    /// Masked CRC32C of the bytes.
    #[prost(fixed32, tag = "6")]
    pub crc32c: u32,
    /// For a partitioned tensor's full entry: the slices stored under their own keys.
    #[prost(message, repeated, tag = "7")]
    pub slices: Vec<TensorSliceProto>,
}

/// `tensorflow.TensorSliceProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorSliceProto {
    /// One extent per dimension.
    #[prost(message, repeated, tag = "1")]
    pub extent: Vec<tensor_slice_proto::Extent>,
}

/// Nested messages of [`TensorSliceProto`].
pub(crate) mod tensor_slice_proto {
    /// One dimension of a slice; no `length` means the whole dimension.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Extent {
        /// First index.
        #[prost(int64, tag = "1")]
        pub start: i64,
        /// Number of indices, in a oneof (written whenever set).
        #[prost(oneof = "extent::HasLength", tags = "2")]
        pub has_length: Option<extent::HasLength>,
    }

    /// The oneof of [`Extent`].
    pub(crate) mod extent {
        /// `oneof has_length { int64 length = 2; }`.
        #[derive(Clone, Copy, PartialEq, prost::Oneof)]
        pub(crate) enum HasLength {
            /// The extent's length.
            #[prost(int64, tag = "2")]
            Length(i64),
        }
    }
}
