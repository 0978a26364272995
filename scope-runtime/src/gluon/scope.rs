//! The per-thread part of Gluon naming: top-level hint counters, the current block scope
//! and the stack of entered blocks.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use super::block::{Block, BlockSpec, ParamsSpec, next_auto_part};
use super::dict::ParameterDict;
use crate::error::{Error, Result};

/// One thread's Gluon naming state, held explicitly instead of in thread-local globals.
///
/// MXNet keeps three things per thread: the counters behind top-level automatic prefixes
/// (`dense0_`, `dense1_`), the block scope that is current, and (in `with` statements)
/// the blocks entered. A `GluonScope` holds exactly those; blocks, their counters and
/// their parameters are shared values. Give each thread its own `GluonScope` (a new one
/// starts at top level with every counter at zero) and share blocks freely. Dropping it
/// ends the scopes still entered.
///
/// ```
/// use varscope::gluon::GluonScope;
///
/// let mut cx = GluonScope::new();
/// let model = cx.block("model")?;
/// let from_thread = std::thread::scope(|s| {
///     s.spawn(|| -> varscope::Result<(String, String)> {
///         let mut other = GluonScope::new(); // this thread's own top-level counters
///         let top = other.block("model")?;
///         let inner = other.name_scope(&model).block("dense")?; // `model`'s counter
///         Ok((top.prefix().to_string(), inner.prefix().to_string()))
///     })
///     .join()
/// });
/// let Ok(Ok((top, inner))) = from_thread else { return Err("the thread failed".into()) };
/// assert_eq!(top, "model0_");
/// assert_eq!(inner, "model0_dense0_");
/// // Block counters are shared by every thread.
/// assert_eq!(cx.name_scope(&model).block("dense")?.prefix(), "model0_dense1_");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct GluonScope {
    /// Top-level counters per hint (MXNet's thread-local `NameManager`).
    counters: HashMap<String, usize>,
    /// The block whose scope names new blocks (MXNet's `_BlockScope._current`).
    current: Option<Block>,
    /// Blocks entered and not yet ended, innermost last: `end` pops it, new blocks are
    /// registered under it.
    entered: Vec<Block>,
}

impl GluonScope {
    /// A fresh state: top level, every counter at zero.
    pub fn new() -> GluonScope {
        GluonScope::default()
    }

    /// Makes a block (Gluon's `Block(prefix=, params=)` constructor).
    ///
    /// Its prefix: at top level, the explicit prefix or `HINT` + n + `_` from this
    /// scope's counter for the hint; inside block P's scope, P's prefix + (explicit prefix
    /// or `HINT` + n + `_` from P's own counter). Its dict: at top level, its own prefix;
    /// inside P, P's dict prefix + the part, sharing what P's dict shares; with
    /// [`BlockSpec::params`], `share` or `share_all`, that dict's prefix whatever the
    /// scope. The block becomes a child of the innermost block entered here, if any.
    ///
    /// # Errors
    ///
    /// With [`BlockSpec::share_all`], what collecting the owner's parameters fails with
    /// ([`Error::DuplicateName`]); then no block is made and no counter moves.
    pub fn block(&mut self, spec: impl Into<BlockSpec>) -> Result<Block> {
        let BlockSpec { hint, prefix, params } = spec.into();
        let explicit = match params {
            ParamsSpec::Own => None,
            ParamsSpec::Dict(dict) => Some(dict),
            ParamsSpec::ShareAll(owner) => Some(owner.collect_params(None)?),
        };
        let empty_prefix = prefix.as_deref() == Some("");
        let (full_prefix, dict) = match &self.current {
            None => {
                let prefix = prefix.unwrap_or_else(|| next_auto_part(&mut self.counters, &hint));
                let dict = match explicit {
                    Some(shared) => sharing(shared),
                    None => ParameterDict::new(prefix.clone()),
                };
                (prefix, dict)
            }
            Some(parent) => {
                let part = prefix.unwrap_or_else(|| parent.next_part(&hint));
                let dict = match explicit {
                    Some(shared) => sharing(shared),
                    None => {
                        let parent_dict = parent.params();
                        ParameterDict::from_parts(
                            format!("{}{part}", parent_dict.prefix()),
                            parent_dict.shared().cloned(),
                        )
                    }
                };
                (format!("{}{part}", parent.prefix()), dict)
            }
        };
        let block = Block::new(full_prefix, hint, empty_prefix, dict);
        if let Some(parent) = self.entered.last() {
            parent.push_child(block.clone());
        }
        Ok(block)
    }

    /// Enters `block`'s scope until the guard drops (Gluon's `with block.name_scope():`).
    /// The guard derefs to this scope, so blocks made through it are named inside
    /// `block` and registered as its children.
    ///
    /// Dropping the guard ignores the error of ending a scope that was entered again in
    /// the meantime; call [`BlockScopeGuard::end`] to see it.
    pub fn name_scope(&mut self, block: &Block) -> BlockScopeGuard<'_> {
        let depth = self.entered.len();
        self.enter(block);
        BlockScopeGuard { scope: self, depth, ended: false }
    }

    /// Enters `block`'s scope; pair it with [`end`](Self::end). Prefer
    /// [`name_scope`](Self::name_scope), which cannot be left open.
    ///
    /// A block made with an empty explicit prefix changes no naming (blocks made inside
    /// are named by the enclosing scope), though blocks made inside still become its
    /// children. Entering a block whose scope is still open (here or in another thread)
    /// takes over its saved state, so the outer [`end`](Self::end) will fail.
    pub fn enter(&mut self, block: &Block) {
        self.entered.push(block.clone());
        if block.has_empty_prefix() {
            return;
        }
        block.open_scope(self.current.take());
        self.current = Some(block.clone());
    }

    /// Ends the innermost scope entered here and returns to the scope that was current
    /// when it was entered.
    ///
    /// # Errors
    ///
    /// [`Error::ReenteredScope`] when the block's scope was entered again and that inner
    /// entry already ended: as in Gluon, the block is still popped from the entered
    /// blocks, but the current scope stays what the inner `end` left (the block's own
    /// scope). [`Error::InvalidArgument`] when no scope is entered.
    pub fn end(&mut self) -> Result<()> {
        let block = self.entered.pop().ok_or_else(|| {
            Error::invalid(
                "no block scope is entered in this `GluonScope`: every `end` must match an `enter` \
                 of the same scope",
            )
        })?;
        if block.has_empty_prefix() {
            return Ok(());
        }
        self.current = block.close_scope()?;
        Ok(())
    }

    /// The block whose scope names new blocks, if any (`None` at top level).
    pub fn current_block(&self) -> Option<&Block> {
        self.current.as_ref()
    }

    /// The blocks entered and not yet ended, outermost first.
    pub fn entered(&self) -> &[Block] {
        &self.entered
    }
}

impl Drop for GluonScope {
    /// Ends every scope still entered, innermost first, as leaving Python's `with`
    /// blocks would: blocks do not stay open (or keep each other alive) after the thread's
    /// state is gone.
    fn drop(&mut self) {
        while !self.entered.is_empty() {
            let _ = self.end();
        }
    }
}

/// Gluon's `ParameterDict(params.prefix, params)`.
fn sharing(shared: ParameterDict) -> ParameterDict {
    ParameterDict::with_shared(shared.prefix().to_string(), shared)
}

/// An entered block scope; ends it (and any scope entered through the guard and left
/// open) when dropped. Derefs to the [`GluonScope`].
#[derive(Debug)]
pub struct BlockScopeGuard<'a> {
    scope: &'a mut GluonScope,
    /// How many blocks were entered before this guard's block.
    depth: usize,
    ended: bool,
}

impl BlockScopeGuard<'_> {
    /// Ends the scope now and reports what [`GluonScope::end`] reports for it.
    ///
    /// # Errors
    ///
    /// [`Error::ReenteredScope`] as described at [`GluonScope::end`].
    pub fn end(mut self) -> Result<()> {
        self.ended = true;
        self.close()
    }

    /// Ends scopes entered through the guard and left open, then the guard's own.
    fn close(&mut self) -> Result<()> {
        while self.scope.entered.len() > self.depth + 1 {
            // Inner scopes left open by low-level `enter` calls: their errors are not this
            // guard's to report.
            let _ = self.scope.end();
        }
        if self.scope.entered.len() == self.depth + 1 { self.scope.end() } else { Ok(()) }
    }
}

impl Deref for BlockScopeGuard<'_> {
    type Target = GluonScope;

    fn deref(&self) -> &GluonScope {
        self.scope
    }
}

impl DerefMut for BlockScopeGuard<'_> {
    fn deref_mut(&mut self) -> &mut GluonScope {
        self.scope
    }
}

impl Drop for BlockScopeGuard<'_> {
    fn drop(&mut self) {
        if !self.ended {
            // Drop cannot report the error; `end` exists for callers who want it.
            let _ = self.close();
        }
    }
}
