//! Layers and RNN cells with TensorFlow's exact names: `tf.compat.v1.layers`
//! ([`dense`], [`conv2d`], [`max_pooling2d`], [`flatten`],
//! [`batch_normalization`], [`dropout_layer`]) and `tf.compat.v1.nn.rnn_cell` ([`BasicRnnCell`],
//! [`BasicLstmCell`], [`LstmCell`], [`GruCell`], [`MultiRnnCell`],
//! [`ResidualWrapper`], [`DropoutWrapper`]) with [`static_rnn`], [`dynamic_rnn`],
//! [`bidirectional_dynamic_rnn`], [`static_bidirectional_rnn`] and
//! [`embedding_lookup`] and [`dropout`].
//!
//! Every variable, name scope and output op is named as TF 2.21 names it
//! (pinned by `tests/conformance/layers_rnn.json`): an unnamed layer takes
//! the next free `dense`, `dense_1`, .. from the same counters as the user's
//! `variable_scope(default_name=..)`; `name` and `reuse` behave as TF's.
//!
//! These are written on the runtime API: an unnamed layer's scope is numbered
//! at run time (`dense_1`), which a const manifest cannot spell, and a cell
//! captures its scope on its first call. The runtime checks every name they
//! create; a `#[model]` calls them as `opaque!(dense(cx, ..))`. The same layers
//! and cells as `#[model]`s, named by the scope the caller opens so that the
//! compile-time checks see through them, are in [`dsl`].
//!
//! A TF cell is an object that remembers the variable scope of its first
//! call; here a cell is a value holding that captured scope (interior
//! mutability: calls take `&self`), so calling one cell value again reuses its
//! variables, while a new cell value makes new ones, exactly as in TF.
//! Share a cell between containers with `Rc` ([`MultiRnnCell::new`] takes
//! `Rc<dyn RnnCell>`).

mod cell;
mod conv;
mod core;
pub mod dsl;
mod layer;
mod norm;
mod rnn;

pub use cell::{
    BasicLstmCell, BasicRnnCell, DropoutWrapper, GruCell, LstmCell, LstmOptions, MultiRnnCell, ResidualWrapper,
    RnnCell, State, StateSize,
};
pub use conv::{Conv2d, MaxPooling2d, conv2d, max_pooling2d};
pub use core::{Activation, Dense, Dropout, dense, dropout, dropout_layer, embedding_lookup, flatten};
pub use norm::{BatchNorm, batch_normalization};
pub use rnn::{RnnOutput, bidirectional_dynamic_rnn, dynamic_rnn, static_bidirectional_rnn, static_rnn};
