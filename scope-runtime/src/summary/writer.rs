//! [`SummaryWriter`]: an event file TensorBoard reads, written one flushed record at a time.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind as IoKind, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

use super::graph_def::graph_def;
use super::record::frame_record;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::proto::event::{Event, SourceMetadata, Summary, event::What, summary};
use crate::scope::Scope;
use crate::tensor::Tensor;

/// The version string of the first event of every file.
pub const FILE_VERSION: &str = "brain.Event:2";

/// Writes a TensorBoard event file (`events.out.tfevents.<seconds>.<host>.<pid>`) under a log
/// directory: the graph, then scalars per step.
///
/// Each call writes one whole record and flushes it to the operating system before returning,
/// so a program that stops half-way (an error, a panic, Ctrl-C) leaves a file TensorBoard
/// reads up to the last completed call; nothing is buffered in the process.
///
/// ```
/// use varscope::summary::{SummaryWriter, read_event_file};
/// use varscope::Graph;
///
/// let logdir = std::env::temp_dir().join(format!("varscope-doc-{}", std::process::id()));
/// let graph = Graph::new();
/// let mut cx = graph.scope();
/// let w = cx.variable_scope("dense")?.get_variable("w", [2, 2])?;
/// let mut writer = SummaryWriter::new(&logdir)?;
/// writer.graph(&graph)?;
/// for step in 0..3 {
///     writer.scalar("loss", step, 1.0 / f64::from(1 << step))?;
/// }
/// let log = read_event_file(writer.path())?;
/// assert_eq!(log.scalars("loss"), [(0, 1.0), (1, 0.5), (2, 0.25)]);
/// assert!(log.graphs[0].iter().any(|n| n.name == "dense/w/read"));
/// # drop(w);
/// # std::fs::remove_dir_all(&logdir).ok();
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug)]
pub struct SummaryWriter {
    file: File,
    path: PathBuf,
}

impl SummaryWriter {
    /// Creates `logdir` (and its parents) if needed and a new event file in it, and writes the
    /// file's first event (`brain.Event:2`). An existing file is never overwritten.
    pub fn new(logdir: impl AsRef<Path>) -> Result<SummaryWriter> {
        let logdir = logdir.as_ref();
        std::fs::create_dir_all(logdir).map_err(|e| io_error("create the log directory", logdir, &e))?;
        let secs = wall_time() as u64;
        let host = host_name();
        let pid = std::process::id();
        let mut n = 0u32;
        let (file, path) = loop {
            let suffix = if n == 0 { String::new() } else { format!(".{n}") };
            let path = logdir.join(format!("events.out.tfevents.{secs:010}.{host}.{pid}{suffix}"));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (file, path),
                Err(e) if e.kind() == IoKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(io_error("create the event file", &path, &e)),
            }
        };
        let mut writer = SummaryWriter { file, path };
        writer.write_event(Event {
            wall_time: wall_time(),
            step: 0,
            what: Some(What::FileVersion(FILE_VERSION.to_string())),
            source_metadata: Some(SourceMetadata { writer: "varscope".to_string() }),
        })?;
        Ok(writer)
    }

    /// The event file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the graph as TensorFlow's GraphDef (TensorBoard's Graphs tab): every recorded
    /// node with its TF op type, inputs, attributes and output shapes, grouped by the `/` of
    /// its name scopes. Call it before [`Graph::clear_ops`] drops the ops.
    pub fn graph(&mut self, graph: &Graph) -> Result<()> {
        self.graph_with_inputs(graph, &[])
    }

    /// Like [`graph`](Self::graph), with the constants in `inputs` drawn as `Placeholder`s:
    /// the data a TensorFlow program would feed (`image1`, `labels`). Each input must be a
    /// constant recorded in `graph`.
    pub fn graph_with_inputs(&mut self, graph: &Graph, inputs: &[&Tensor]) -> Result<()> {
        for t in inputs {
            let is_const = graph.owns(t) && graph.nodes().iter().any(|n| n.name == t.op_name() && n.op_type == "Const");
            if !is_const {
                return Err(Error::invalid(format!(
                    "cannot draw `{}` as a Placeholder: only a constant of this graph (`cx.constant(..)`) \
                     stands for fed data; pass the constant the model reads",
                    t.name()
                )));
            }
        }
        let bytes = graph_def(graph, inputs).encode_to_vec();
        self.write_event(Event {
            wall_time: wall_time(),
            step: 0,
            what: Some(What::GraphDef(bytes)),
            source_metadata: None,
        })
    }

    /// Writes the scalar `value` under `tag` at `step` (TensorBoard's Scalars tab). Tags
    /// group by their `/` (`loss`, `metrics/accuracy`); see [`scoped_tag`](Self::scoped_tag).
    /// The value is stored as a float32, as TensorFlow's `simple_value`.
    pub fn scalar(&mut self, tag: &str, step: i64, value: impl Into<f64>) -> Result<()> {
        self.scalars(step, &[(tag, value.into())])
    }

    /// Writes several scalars of one step as one event (TF's merged summary).
    pub fn scalars(&mut self, step: i64, values: &[(&str, f64)]) -> Result<()> {
        let mut value = Vec::with_capacity(values.len());
        for &(tag, x) in values {
            if tag.is_empty() {
                return Err(Error::invalid(format!(
                    "empty summary tag at step {step} in `{}`: give every scalar a name such as `loss`",
                    self.path.display()
                )));
            }
            value.push(summary::Value {
                tag: tag.to_string(),
                value: Some(summary::value::Value::SimpleValue(x as f32)),
            });
        }
        self.write_event(Event {
            wall_time: wall_time(),
            step,
            what: Some(What::Summary(Summary { value })),
            source_metadata: None,
        })
    }

    /// `tag` under the current name scope of `cx`, as `tf.summary.scalar(tag)` names it inside
    /// `name_scope("metrics")`: `metrics/loss`.
    ///
    /// ```
    /// use varscope::summary::SummaryWriter;
    /// use varscope::Graph;
    ///
    /// let graph = Graph::new();
    /// let mut cx = graph.scope();
    /// let metrics = cx.name_scope("metrics")?;
    /// assert_eq!(SummaryWriter::scoped_tag(&metrics, "loss"), "metrics/loss");
    /// # Ok::<(), varscope::Error>(())
    /// ```
    pub fn scoped_tag(cx: &Scope, tag: &str) -> String {
        match cx.current_name_scope() {
            "" => tag.to_string(),
            scope => format!("{scope}/{tag}"),
        }
    }

    /// Flushes the file and asks the operating system to store it on disk (every call already
    /// handed its record to the operating system).
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().and_then(|()| self.file.sync_data()).map_err(|e| io_error("flush", &self.path, &e))
    }

    fn write_event(&mut self, event: Event) -> Result<()> {
        // One `write_all` of the whole framed record: a reader never sees a record's head
        // without the rest unless the process dies inside this call.
        let record = frame_record(&event.encode_to_vec());
        self.file.write_all(&record).map_err(|e| io_error("write to", &self.path, &e))
    }
}

fn wall_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The machine's name for the file name, as TensorFlow puts it there; `localhost` if unknown.
fn host_name() -> String {
    let name =
        std::env::var("HOSTNAME").ok().or_else(|| std::fs::read_to_string("/etc/hostname").ok()).unwrap_or_default();
    let clean: String = name.trim().chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
    if clean.is_empty() { "localhost".to_string() } else { clean }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::invalid(format!(
        "cannot {what} `{}`: {e}; check that the directory exists and is writable, or choose another log directory",
        path.display()
    ))
}
