//! Reading event files back: what TensorBoard would show of them.

use std::path::Path;

use prost::Message;

use super::record::read_records;
use crate::error::{Error, Result};
use crate::proto::event::{Event, event::What, summary};
use crate::proto::graph::GraphDef;

/// A node of a graph read from an event file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphNode {
    /// The node name.
    pub name: String,
    /// The op type.
    pub op: String,
    /// The inputs as the GraphDef writes them (`node`, `node:1`, `^node`).
    pub inputs: Vec<String>,
    /// The device, usually empty.
    pub device: String,
    /// The attribute names, sorted.
    pub attr_keys: Vec<String>,
}

/// One scalar read from an event file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarEvent {
    /// Seconds since the epoch.
    pub wall_time: f64,
    /// The step.
    pub step: i64,
    /// The tag.
    pub tag: String,
    /// The value (a float32, as stored).
    pub value: f32,
}

/// What an event file holds, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventLog {
    /// The first event's file version (`brain.Event:2`).
    pub file_version: Option<String>,
    /// The writer named by the first event (`tensorflow.core.util.events_writer`, `varscope`).
    pub writer: Option<String>,
    /// Each GraphDef's nodes.
    pub graphs: Vec<Vec<GraphNode>>,
    /// Every scalar.
    pub scalars: Vec<ScalarEvent>,
    /// How many records the file holds.
    pub records: usize,
    /// The offset of an incomplete last record, if the writer stopped while writing it.
    pub truncated_at: Option<usize>,
}

impl EventLog {
    /// The `(step, value)` pairs of `tag`, in file order.
    pub fn scalars(&self, tag: &str) -> Vec<(i64, f32)> {
        self.scalars.iter().filter(|s| s.tag == tag).map(|s| (s.step, s.value)).collect()
    }
}

/// Reads an event file written by varscope or TensorFlow: checks the framing and CRCs and
/// decodes its events (see [`SummaryWriter`](super::SummaryWriter) for an example).
pub fn read_event_file(path: impl AsRef<Path>) -> Result<EventLog> {
    let path = path.as_ref();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::invalid(format!("cannot read event file `{}`: {e}; check the path", path.display())))?;
    let records = read_records(&bytes).map_err(|e| Error::invalid(format!("event file `{}`: {e}", path.display())))?;
    let mut log =
        EventLog { records: records.records.len(), truncated_at: records.truncated_at, ..EventLog::default() };
    for (i, data) in records.records.iter().enumerate() {
        let not_event = |what: &str, e: prost::DecodeError| {
            Error::invalid(format!(
                "record {i} of event file `{}` is not {what}: {e}; is it a TensorBoard event file?",
                path.display()
            ))
        };
        let event = Event::decode(data.as_slice()).map_err(|e| not_event("an Event", e))?;
        if i == 0 {
            log.writer = event.source_metadata.as_ref().map(|m| m.writer.clone());
        }
        match event.what {
            Some(What::FileVersion(v)) if i == 0 => log.file_version = Some(v),
            Some(What::GraphDef(bytes)) => {
                let graph = GraphDef::decode(bytes.as_slice()).map_err(|e| not_event("a GraphDef", e))?;
                log.graphs.push(
                    graph
                        .node
                        .into_iter()
                        .map(|n| GraphNode {
                            name: n.name,
                            op: n.op,
                            inputs: n.input,
                            device: n.device,
                            attr_keys: n.attr.into_keys().collect(),
                        })
                        .collect(),
                );
            }
            Some(What::Summary(s)) => {
                for v in s.value {
                    if let Some(summary::value::Value::SimpleValue(value)) = v.value {
                        log.scalars.push(ScalarEvent {
                            wall_time: event.wall_time,
                            step: event.step,
                            tag: v.tag,
                            value,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(log)
}
