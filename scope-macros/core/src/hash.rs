//! Name hashes precomputed by the macros so that const evaluation only combines integers: the
//! one definition is `scope_core::hash`, which the runtime's checker uses too.

pub use scope_core::hash::{PATH_MUL, PathHash, segment};
