//! Gluon-style naming: blocks that own parameter dicts, exact to MXNet Gluon 1.9.1.
//!
//! The second naming style of the runtime, beside TensorFlow's variable scopes. A
//! [`Block`] has a prefix (`model0_dense1_`) and a [`ParameterDict`] whose
//! [`Parameter`]s are named prefix + name (`model0_dense1_weight`). Blocks are made
//! through a thread's [`GluonScope`], inside each other's scopes, and may share
//! parameters by handing over a dict ([`BlockSpec::share`], [`BlockSpec::share_all`]).
//! [`Block::collect_params`] lists a block's parameters and its children's in Gluon's
//! order. See [`Block`] for both styles side by side.
//!
//! Blocks, dicts and parameters are `Send + Sync` handles; only the [`GluonScope`] is
//! per thread. Parameters become variables of a [`Graph`](crate::Graph) when initialised,
//! beside TF-style variables.
//!
//! ```
//! use varscope::gluon::{BlockSpec, GluonScope};
//! use varscope::{Graph, Init};
//!
//! let mut cx = GluonScope::new(); // this thread's counters and current block
//! let model = cx.block("model")?;
//! let (first, second) = {
//!     let mut inside = cx.name_scope(&model); // `with model.name_scope():`
//!     let first = inside.block("dense")?;
//!     let second = inside.block(BlockSpec::new("dense").share(&first))?;
//!     (first, second)
//! };
//! let w = first.params().get("weight", &[4, 0])?; // 0: not known yet
//! assert_eq!(w.name(), "model0_dense0_weight");
//! assert!(second.params().get("weight", &[4, 3])?.same(&w)); // shared, shape now [4, 3]
//! assert_eq!(w.shape(), [4, 3]);
//! assert_eq!(model.collect_params(Some(".*weight"))?.keys(), ["model0_dense0_weight"]);
//! let vars = model.initialize(&Graph::new(), Init::Ones)?;
//! assert_eq!(vars[0].name(), "model0_dense0_weight:0");
//! # Ok::<(), varscope::Error>(())
//! ```

mod block;
mod dict;
mod param;
mod scope;
mod select;

pub use block::{Block, BlockSpec};
pub use dict::ParameterDict;
pub use param::Parameter;
pub use scope::{BlockScopeGuard, GluonScope};

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, also after a panic elsewhere: every critical section here leaves the
/// data consistent, so a poisoned lock holds valid data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::{Block, GluonScope, Parameter, ParameterDict};

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_are_send_and_sync_and_the_scope_is_send() {
        assert_send_sync::<Block>();
        assert_send_sync::<ParameterDict>();
        assert_send_sync::<Parameter>();
        fn assert_send<T: Send>() {}
        assert_send::<GluonScope>();
    }
}
