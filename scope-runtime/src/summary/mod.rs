//! TensorBoard event files: the graph (Graphs tab) and scalars per step (Scalars tab).
//!
//! A [`SummaryWriter`] writes TensorFlow's format: TFRecords ([`frame_record`]: length, masked
//! CRC32C, data, masked CRC32C) holding `tensorflow.Event`s, first `brain.Event:2`, then the
//! recorded graph as a `GraphDef` and `Summary` scalars. TensorBoard groups the graph's nodes by
//! the `/` of their names, so every variable and name scope is one collapsible box.
//! [`read_event_file`] reads such files back (also TensorFlow's).
//!
//! ```no_run
//! use varscope::summary::SummaryWriter;
//! use varscope::Graph;
//!
//! let graph = Graph::new();
//! // ... build the model ...
//! let mut writer = SummaryWriter::new("logs/run1")?;
//! writer.graph(&graph)?;
//! for step in 0..100 {
//!     let loss = 1.0 / (step + 1) as f64; // a training step's loss
//!     writer.scalar("loss", step, loss)?;
//! }
//! // then: tensorboard --logdir logs
//! # Ok::<(), varscope::Error>(())
//! ```

mod graph_def;
mod reader;
mod record;
mod writer;

pub use reader::{EventLog, GraphNode, ScalarEvent, read_event_file};
pub use record::{FRAMING_BYTES, Records, frame_record, read_records};
pub use writer::{FILE_VERSION, SummaryWriter};
