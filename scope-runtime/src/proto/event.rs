//! `tensorflow.Event` and `tensorflow.Summary` (`tensorflow/core/util/event.proto`,
//! `tensorflow/core/framework/summary.proto`): the records of a TensorBoard event file.

/// `tensorflow.Event`: one record of an event file.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Event {
    /// Seconds since the epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step (0 is not written).
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries.
    #[prost(oneof = "event::What", tags = "3, 4, 5, 9")]
    pub what: Option<event::What>,
    /// Which library wrote the file (in the first event).
    #[prost(message, optional, tag = "10")]
    pub source_metadata: Option<SourceMetadata>,
}

/// Nested types of [`Event`] (prost's layout: message `Event`'s types live in module `event`).
#[allow(clippy::module_inception)]
pub(crate) mod event {
    use super::Summary;

    /// `Event.what`, the parts varscope writes or meets.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum What {
        /// `brain.Event:2`, the first event of a file.
        #[prost(string, tag = "3")]
        FileVersion(String),
        /// A serialized `GraphDef`.
        #[prost(bytes = "vec", tag = "4")]
        GraphDef(Vec<u8>),
        /// Summaries, such as scalars.
        #[prost(message, tag = "5")]
        Summary(Summary),
        /// A serialized `MetaGraphDef` (TF writes one; varscope reads past it).
        #[prost(bytes = "vec", tag = "9")]
        MetaGraphDef(Vec<u8>),
    }
}

/// `tensorflow.SourceMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SourceMetadata {
    /// The writer's name.
    #[prost(string, tag = "1")]
    pub writer: String,
}

/// `tensorflow.Summary`: values of one step.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<summary::Value>,
}

/// Nested types of [`Summary`].
pub(crate) mod summary {
    /// `Summary.Value`: a tagged value; varscope writes scalars (`simple_value`).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Value {
        /// The tag TensorBoard groups by (`loss`, `metrics/accuracy`).
        #[prost(string, tag = "1")]
        pub tag: String,
        /// The value.
        #[prost(oneof = "value::Value", tags = "2")]
        pub value: Option<value::Value>,
    }

    /// Nested types of [`Value`].
    pub(crate) mod value {
        /// `Summary.Value.value`, the scalar case.
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub(crate) enum Value {
            /// A float32 scalar.
            #[prost(float, tag = "2")]
            SimpleValue(f32),
        }
    }
}
