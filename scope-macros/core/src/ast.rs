//! What the walker records about a body: one [`Item`] per variable declaration or model call,
//! in source order, with the scope path and reuse mode that the static checks need.

use proc_macro2::{Span, TokenStream};

/// How a scope treats existing variables, relative to the model's entry scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Create only (TF `reuse=None`): a second creation of a name fails.
    Create,
    /// Reuse only (TF `reuse=True`).
    Reuse,
    /// Create or reuse (TF `AUTO_REUSE`).
    Auto,
    /// Chosen at run time (`reuse = expr`, a re-entered captured scope): not checked statically.
    Unknown,
    /// Create or reuse depending on a branch the macro cannot decide (a `reuse_variables()` in
    /// an `if`, an opaque call that may switch reuse): never a duplicate, still a declaration
    /// whose shape and dtype are checked.
    Maybe,
}

impl Mode {
    /// The mode of a scope opened with `inner` inside a scope in mode `self`: reuse is
    /// inherited and never switched off, so the innermost setting other than `Create` wins.
    pub fn inherit(self, inner: Mode) -> Mode {
        match inner {
            Mode::Create => self,
            other => other,
        }
    }

    /// The variant name of the runtime's `Mode`.
    pub fn variant(self) -> &'static str {
        match self {
            Mode::Create => "Create",
            Mode::Reuse => "Reuse",
            Mode::Auto => "Auto",
            Mode::Unknown => "Unknown",
            Mode::Maybe => "Maybe",
        }
    }

    /// The mode the manifest records: maybe-reuse is never a duplicate, so through calls it is
    /// left to the runtime.
    pub fn encoded(self) -> scope_core::layout::Mode {
        use scope_core::layout::Mode as M;
        match self {
            Mode::Create => M::Create,
            Mode::Reuse => M::Reuse,
            Mode::Auto => M::Auto,
            Mode::Unknown | Mode::Maybe => M::Unknown,
        }
    }

    /// Whether an earlier declaration in this mode leaves the variable existing.
    pub fn defines(self) -> bool {
        matches!(self, Mode::Create | Mode::Auto)
    }

    /// Whether a declaration in this mode is checked statically (its shape and dtype too).
    pub fn declares(self) -> bool {
        !matches!(self, Mode::Unknown)
    }
}

/// One segment of a scope path.
#[derive(Clone, Debug)]
pub struct Seg {
    /// The literal name, or how a dynamic segment is shown (`{format!(..)}`).
    pub name: String,
    /// Whether the name is only known at run time.
    pub dynamic: bool,
    /// The key that identifies the segment in the in-body checks: the name, or a per-site
    /// token for a dynamic segment (one execution of that scope).
    pub key: String,
}

/// A declaration or a call.
#[derive(Clone, Debug)]
pub enum Kind {
    /// `var!(cx, name, ..)`.
    Var {
        /// The leaf name, or how a dynamic name is shown.
        name: String,
        /// Whether the name is only known at run time.
        dynamic_name: bool,
        /// A literal shape.
        shape: Option<Vec<usize>>,
        /// A literal dtype (`f32`, `f64`, `i32`).
        dtype: Option<String>,
        /// The initializer as written, or empty for the default.
        init: String,
        /// A literal `trainable`.
        trainable: Option<bool>,
    },
    /// `path(cx, ..)`: a call into another `#[model]` fn.
    Call {
        /// The path of the callee's manifest static, e.g. `layers::conv_relu::MANIFEST`.
        manifest: TokenStream,
        /// The callee's path as written, without generic arguments, e.g. `layers::conv_relu`.
        path: TokenStream,
        /// The callee as written, without generic arguments.
        callee: String,
    },
    /// A call that takes the context but cannot be followed statically (a call through a type
    /// parameter, a method, a closure): the runtime checks it.
    Opaque {
        /// The callee as written.
        callee: String,
    },
}

/// One recorded declaration or call.
#[derive(Clone, Debug)]
pub struct Item {
    /// The scope path relative to the root of the walk.
    pub segs: Vec<Seg>,
    /// The reuse mode in force.
    pub mode: Mode,
    /// Whether the scope path or the name is only known at run time.
    pub dynamic: bool,
    /// Whether the item may not run on a run of the body that gets past it (it sits in an
    /// `if`/`match` arm or a loop body and is not hoisted out by a twin on every arm); the
    /// manifest's `COND` flag. Set by [`Walker::finish`](crate::walk::Walker::finish).
    pub cond: bool,
    /// Whether the item runs at least twice in a loop (a literal count of two or more, no early
    /// exit), under a path fixed across iterations and in a mode no iteration switches.
    pub looped: bool,
    /// The `if`/`match` arms, loop bodies and `let .. else` blocks the item sits in, outermost
    /// first: `(branch site, arm)` pairs.
    pub branch: Vec<(u32, u32)>,
    /// How many of `branch` the item's effect is bound to: the item runs whenever the first
    /// `must` arms run (a twin on every arm of the next one hoists it out).
    pub must: usize,
    /// What the item is.
    pub kind: Kind,
    /// The invocation's tokens, to underline it whole in errors.
    pub site_tokens: TokenStream,
    /// The first span of the invocation.
    pub lo: Span,
    /// The last span of the invocation.
    pub hi: Span,
    /// The source line.
    pub line: u32,
    /// Short source text for messages, e.g. `conv_relu(cx, ..)`.
    pub site: String,
}

impl Item {
    /// The path relative to the root of the walk, for messages.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in &self.segs {
            out.push_str(&seg.name);
            out.push('/');
        }
        match &self.kind {
            Kind::Var { name, .. } => out.push_str(name),
            Kind::Call { callee, .. } | Kind::Opaque { callee } => {
                out.push_str(callee);
                out.push_str("(..)");
            }
        }
        out
    }

    /// The key of a statically named variable, if this is one.
    pub fn var_key(&self) -> Option<String> {
        match &self.kind {
            Kind::Var { name, dynamic_name: false, .. } => {
                let mut key = String::new();
                for seg in &self.segs {
                    key.push_str(&seg.key);
                    key.push('/');
                }
                key.push_str(name);
                Some(key)
            }
            _ => None,
        }
    }

    /// The arms the item's effect is bound to.
    pub fn must_arms(&self) -> &[(u32, u32)] {
        &self.branch[..self.must.min(self.branch.len())]
    }

    /// Whether `self` (earlier in source order) has run whenever `later` runs: its arms are
    /// among the arms `later` sits in.
    pub fn dominates(&self, later: &Item) -> bool {
        self.must_arms().iter().all(|a| later.branch.contains(a)) && !self.exclusive_with(later)
    }

    /// Whether `self` and `other` sit in different arms of one branch (never both run).
    pub fn exclusive_with(&self, other: &Item) -> bool {
        self.branch.iter().any(|(site, arm)| other.branch.iter().any(|(osite, oarm)| site == osite && arm != oarm))
    }

    /// Whether the item is a call into a model whose manifest is followed.
    pub fn is_call(&self) -> bool {
        matches!(self.kind, Kind::Call { .. })
    }
}

/// Whether the scope path `a` is a prefix of `b` (or equal to it).
fn is_prefix(a: &[Seg], b: &[Seg]) -> bool {
    a.len() <= b.len() && a.iter().zip(b).all(|(x, y)| x.key == y.key)
}

/// Which items are calls that the const analysis must walk. A call made under scope `S` only
/// creates names below `S/`: it can meet a variable whose scope starts with `S`, or a call whose
/// scope is a prefix of `S` or starts with it, and nothing else. A call that shares no such
/// path with any other item the checks see (creations, and reuses whose shape could differ),
/// and does not repeat in a loop, cannot conflict: the macro proves it here and the analysis
/// skips it.
pub fn calls_to_walk(items: &[Item]) -> Vec<bool> {
    let checked = |it: &Item| !it.dynamic && it.mode.declares();
    let repeats = repeats(items);
    items
        .iter()
        .enumerate()
        .map(|(j, call)| {
            if !call.is_call() || !checked(call) || repeats[j] {
                return false;
            }
            call.looped
                || items.iter().enumerate().any(|(i, other)| {
                    i != j
                        && checked(other)
                        && match other.kind {
                            Kind::Var { .. } => is_prefix(&call.segs, &other.segs),
                            Kind::Call { .. } => {
                                is_prefix(&call.segs, &other.segs) || is_prefix(&other.segs, &call.segs)
                            }
                            Kind::Opaque { .. } => false,
                        }
                })
        })
        .collect()
}

/// Which items are calls that repeat an earlier call exactly (the same callee, scope, arms,
/// and a reuse or auto-reuse mode): an unrolled cell. Such a call creates nothing new and meets
/// exactly what the first one met, whose check reports it, so it needs no walk and no check.
pub fn repeats(items: &[Item]) -> Vec<bool> {
    let mut seen = std::collections::HashSet::new();
    items
        .iter()
        .map(|it| match &it.kind {
            Kind::Call { manifest, .. } if !it.dynamic && matches!(it.mode, Mode::Auto | Mode::Reuse) => {
                let segs: Vec<&str> = it.segs.iter().map(|s| s.key.as_str()).collect();
                let key = format!("{manifest} {segs:?} {:?} {:?}", it.mode, it.branch);
                !seen.insert(key)
            }
            _ => false,
        })
        .collect()
}
