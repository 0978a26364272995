//! Const manifests of `#[model]` functions and the const-evaluated checks across model calls.
//!
//! `#[model] fn f` generates `f::MANIFEST`: every variable `f` declares (its name relative to
//! the scope `f` is called in, literal shape or dynamic, dtype, initializer, reuse mode and
//! source line) and every call into another model. Manifests are statics that point at each
//! other, so they work across modules and crates and are usable before any tensor exists;
//! [`Manifest`]'s `Display` prints them as a table.
//!
//! A model that calls other models also gets one analysis const ([`analyze`]) and one small
//! check const per item after its first call ([`conflicts`]), emitted at that item's span so that
//! a failure underlines the offending call. The analysis walks callees with an explicit stack
//! (no recursion, so rustc's `recursion_limit` never applies), compares 64-bit path hashes that
//! the macro precomputed in an open-addressing table (linear in the number of variables, not
//! pairwise; a small state first, the largest only when it runs out of room), and never skips
//! anything silently: nesting deeper than [`MAX_DEPTH`] or more than
//! [`MAX_ENTRIES`] variables is reported as a compile error.

use std::fmt;

/// Multiplier chaining segment hashes into a path hash (the macro uses the same).
pub const PATH_MUL: u64 = 0x9e37_79b9_7f4a_7c15;
/// Deepest chain of model calls the compile-time check follows.
pub const MAX_DEPTH: usize = 512;
/// Most variables that may reach one model through its calls for the compile-time check.
pub const MAX_ENTRIES: usize = 6144;
const SLOTS: usize = 8192;
const STACK_BUCKETS: usize = 4096;
const MSG_LEN: usize = 480;
const MAX_CONFLICTS: usize = 8;
const EMPTY: u32 = u32::MAX;
/// Words of a [`Summary`].
pub const SUMMARY_WORDS: usize = 256;
/// Calls per body up to which [`analyze`] uses summaries to skip walks.
const SUMMARY_CALLS: usize = 16;

/// A Bloom filter (16,384 bits, two bits per name) of the leaf names of every variable a model
/// declares, itself or through its calls. Leaf names do not depend on the scope a model is
/// called in, so a caller's check can skip walking a call whose summary shares no bit with the
/// other declarations of the body. Each model's summary is a static computed from its own names
/// and its callees' summaries (a self-call is left out by the macro); mutual recursion between
/// models makes those statics a cycle, which rustc reports naming the summary static, whose
/// name says to mark one of the calls `opaque!(..)`.
pub type Summary = [u64; SUMMARY_WORDS];

const fn summary_bits(h: u64) -> [(usize, u64); 2] {
    let a = ((h >> 50) & 0x3fff) as usize;
    let b = ((h >> 22) & 0x3fff) as usize;
    [(a / 64, 1u64 << (a % 64)), (b / 64, 1u64 << (b % 64))]
}

/// The summary of a model from the hashes of its own leaf names and its callees' summaries.
/// Called by generated code.
pub const fn summarize(own: &[u64], callees: &[&Summary]) -> Summary {
    // Copying a whole array is one step of const evaluation; OR-ing is one step per word, so
    // the first callee (often the only one) is copied.
    let mut s = if callees.is_empty() { [0u64; SUMMARY_WORDS] } else { *callees[0] };
    let mut k = 0;
    while k < own.len() {
        let bits = summary_bits(own[k]);
        s[bits[0].0] |= bits[0].1;
        s[bits[1].0] |= bits[1].1;
        k += 1;
    }
    let mut c = 1;
    while c < callees.len() {
        let other = callees[c];
        let mut w = 0;
        while w < SUMMARY_WORDS {
            s[w] |= other[w];
            w += 1;
        }
        c += 1;
    }
    s
}

/// The summary of a model whose summary is not computed (an opaque helper): every bit set.
pub const FULL_SUMMARY: Summary = [u64::MAX; SUMMARY_WORDS];

/// How a declaration treats existing variables, relative to its model's entry scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create only: a second creation of the name fails.
    Create,
    /// Reuse only.
    Reuse,
    /// Create or reuse.
    Auto,
    /// Chosen at run time; not checked statically.
    Unknown,
}

impl Mode {
    /// The mode of `inner` inside a scope in mode `self`: reuse is inherited.
    pub const fn inherit(self, inner: Mode) -> Mode {
        match inner {
            Mode::Create => self,
            other => other,
        }
    }

    const fn defines(self) -> bool {
        matches!(self, Mode::Create | Mode::Auto)
    }

    /// How the manifest table shows the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Create => "create",
            Mode::Reuse => "reuse",
            Mode::Auto => "auto",
            Mode::Unknown => "dynamic",
        }
    }
}

/// One segment of a scope path.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    /// The literal name, or how a dynamic one is shown.
    pub name: &'static str,
    /// Whether the name is only known at run time.
    pub dynamic: bool,
}

/// A variable declaration.
#[derive(Debug, Clone, Copy)]
pub struct VarItem {
    /// The leaf name (or how a dynamic one is shown).
    pub name: &'static str,
    /// Hash of the leaf name.
    pub hash: u64,
    /// The literal shape, or `None` when it is computed.
    pub shape: Option<&'static [usize]>,
    /// The literal dtype (`f32`, `f64`, `i32`), or `None` for the scope's.
    pub dtype: Option<&'static str>,
    /// The initializer as written, empty for the scope's default.
    pub init: &'static str,
    /// A literal `trainable`.
    pub trainable: Option<bool>,
}

/// What a manifest item is.
#[derive(Debug, Clone, Copy)]
pub enum ItemKind {
    /// `var!(cx, ..)`.
    Var(VarItem),
    /// A call into another model.
    Call(&'static Manifest),
    /// A call the checks cannot follow (through a type parameter, a method, `opaque!`).
    Opaque(&'static str),
}

/// One declaration or call of a model body, in source order.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// The scope path relative to the model's entry scope.
    pub scope: &'static [Segment],
    /// Hash of `scope`.
    pub scope_hash: u64,
    /// `PATH_MUL` to the power of the number of segments.
    pub scope_pow: u64,
    /// The reuse mode in force.
    pub mode: Mode,
    /// Whether the path or name is only known at run time.
    pub dynamic: bool,
    /// Whether the item sits in an `if`/`match` arm.
    pub cond: bool,
    /// Whether the item repeats in a loop under a fixed path.
    pub looped: bool,
    /// `(branch site, arm)` pairs, flattened.
    pub branch: &'static [u32],
    /// The declaration or call.
    pub kind: ItemKind,
    /// Source line.
    pub line: u32,
    /// Short source text.
    pub site: &'static str,
}

/// The manifest of one `#[model]` fn.
#[derive(Debug)]
pub struct Manifest {
    /// The model's name.
    pub model: &'static str,
    /// `module_path!()` of the manifest (the model's module, then its name).
    pub module: &'static str,
    /// A hash of `module`, identifying the model in the checks.
    pub id: u64,
    /// The declarations and calls.
    pub items: &'static [Item],
    /// `#[model(opaque)]`: callers do not follow this model.
    pub opaque: bool,
    /// The Bloom filter of every leaf name below the model.
    pub summary: &'static Summary,
}

/// FNV-1a, in const.
const fn fnv(s: &str) -> u64 {
    let bytes = s.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// The hash of one name segment, as the macro computes it.
pub const fn segment_hash(name: &str) -> u64 {
    fnv(name)
}

impl Manifest {
    /// A manifest; called by generated code.
    pub const fn new(
        model: &'static str,
        module: &'static str,
        items: &'static [Item],
        opaque: bool,
        summary: &'static Summary,
    ) -> Manifest {
        Manifest { model, module, id: fnv(module), items, opaque, summary }
    }

    /// Every variable declared by the model and, through its calls, its sub-models, with names
    /// relative to the scope the model is called in. A recursive call is not followed.
    pub fn variables(&self) -> Vec<ManifestVar> {
        let mut out = Vec::new();
        let mut path: Vec<&'static str> = Vec::new();
        let mut models: Vec<u64> = vec![self.id];
        self.collect(&mut out, &mut path, &mut models, Mode::Create, false, self.model);
        out
    }

    fn collect(
        &self,
        out: &mut Vec<ManifestVar>,
        path: &mut Vec<&'static str>,
        models: &mut Vec<u64>,
        mode: Mode,
        conditional: bool,
        declared_in: &'static str,
    ) {
        for item in self.items {
            let depth = path.len();
            path.extend(item.scope.iter().map(|s| s.name));
            let item_mode = mode.inherit(item.mode);
            match item.kind {
                ItemKind::Var(v) => {
                    let mut name = path.join("/");
                    if !name.is_empty() {
                        name.push('/');
                    }
                    name.push_str(v.name);
                    out.push(ManifestVar {
                        name,
                        shape: v.shape.map(<[usize]>::to_vec),
                        dtype: v.dtype,
                        init: v.init,
                        trainable: v.trainable,
                        mode: item_mode,
                        dynamic: item.dynamic,
                        conditional: conditional || item.cond,
                        line: item.line,
                        model: declared_in,
                    });
                }
                ItemKind::Call(m) => {
                    if !m.opaque && !models.contains(&m.id) {
                        models.push(m.id);
                        m.collect(out, path, models, item_mode, conditional || item.cond || item.dynamic, m.model);
                        models.pop();
                    }
                }
                ItemKind::Opaque(_) => {}
            }
            path.truncate(depth);
        }
    }

    /// The calls into other models (and opaque calls) of this model's own body.
    pub fn calls(&self) -> Vec<ManifestCall> {
        self.items
            .iter()
            .filter_map(|item| {
                let callee = match item.kind {
                    ItemKind::Call(m) => m.model,
                    ItemKind::Opaque(name) => name,
                    ItemKind::Var(_) => return None,
                };
                Some(ManifestCall {
                    callee,
                    scope: item.scope.iter().map(|s| s.name).collect::<Vec<_>>().join("/"),
                    followed: matches!(item.kind, ItemKind::Call(m) if !m.opaque),
                    line: item.line,
                })
            })
            .collect()
    }
}

/// A variable listed by [`Manifest::variables`].
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestVar {
    /// Full name relative to the model's entry scope, e.g. `conv1/weights`.
    pub name: String,
    /// Literal shape, or `None` when computed at run time.
    pub shape: Option<Vec<usize>>,
    /// Literal dtype, or `None` for the scope's.
    pub dtype: Option<&'static str>,
    /// The initializer as written, empty for the default.
    pub init: &'static str,
    /// A literal `trainable`.
    pub trainable: Option<bool>,
    /// The reuse mode in force.
    pub mode: Mode,
    /// Whether part of the name is only known at run time.
    pub dynamic: bool,
    /// Whether the declaration sits in an `if`/`match` arm.
    pub conditional: bool,
    /// Source line of the declaration.
    pub line: u32,
    /// The model whose body declares it.
    pub model: &'static str,
}

impl ManifestVar {
    /// Whether a run of the model creates this variable for sure: a create (or auto) declaration
    /// outside any condition, under a name known statically.
    pub fn created(&self) -> bool {
        self.mode.defines() && !self.dynamic && !self.conditional
    }
}

/// A call listed by [`Manifest::calls`].
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestCall {
    /// The callee's name.
    pub callee: &'static str,
    /// The scope the call is made in, relative to the model's entry scope.
    pub scope: String,
    /// Whether the compile-time checks follow the call.
    pub followed: bool,
    /// Source line.
    pub line: u32,
}

impl fmt::Display for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vars = self.variables();
        let rows: Vec<[String; 7]> = vars
            .iter()
            .map(|v| {
                [
                    v.name.clone(),
                    match &v.shape {
                        Some(s) => format!("{s:?}"),
                        None => "dynamic".to_owned(),
                    },
                    v.dtype.unwrap_or("scope").to_owned(),
                    if v.init.is_empty() { "scope".to_owned() } else { v.init.to_owned() },
                    format!("{}{}", v.mode.as_str(), if v.conditional { "?" } else { "" }),
                    v.line.to_string(),
                    v.model.to_owned(),
                ]
            })
            .collect();
        let header = ["variable", "shape", "dtype", "init", "reuse", "line", "model"];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        writeln!(f, "model `{}` ({})", self.model, self.module)?;
        let line = |f: &mut fmt::Formatter<'_>, cells: &[&str]| -> fmt::Result {
            let mut text = String::new();
            for (k, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if k > 0 {
                    text.push_str(" | ");
                }
                text.push_str(&format!("{cell:<w$}"));
            }
            writeln!(f, "{}", text.trim_end())
        };
        line(f, &header)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(f, &rule.iter().map(String::as_str).collect::<Vec<_>>())?;
        for row in &rows {
            line(f, &row.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        for call in self.calls() {
            let scope = if call.scope.is_empty() { "the entry scope".to_owned() } else { format!("`{}`", call.scope) };
            let how = if call.followed { "" } else { " (not followed: checked at run time)" };
            writeln!(f, "calls `{}` in {} (line {}){how}", call.callee, scope, call.line)?;
        }
        Ok(())
    }
}

/// A fixed-size message built during const evaluation.
#[derive(Clone, Copy)]
struct Buf {
    bytes: [u8; MSG_LEN],
    len: usize,
}

impl Buf {
    const fn new() -> Buf {
        Buf { bytes: [0; MSG_LEN], len: 0 }
    }

    const fn push(&mut self, s: &str) {
        let b = s.as_bytes();
        // Whole characters only, so that the buffer stays UTF-8.
        let mut i = 0;
        while i < b.len() {
            let width = if b[i] < 0x80 {
                1
            } else if b[i] >= 0xf0 {
                4
            } else if b[i] >= 0xe0 {
                3
            } else {
                2
            };
            if self.len + width > MSG_LEN || i + width > b.len() {
                return;
            }
            let mut k = 0;
            while k < width {
                self.bytes[self.len] = b[i + k];
                self.len += 1;
                k += 1;
            }
            i += width;
        }
    }

    const fn push_u32(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < MSG_LEN {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
    }

    const fn as_str(&self) -> &str {
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(s) => s,
            Err(_) => "conflicting variable declarations across model calls",
        }
    }
}

/// One problem found by [`analyze`], reported by the check const of `item`.
#[derive(Clone, Copy)]
struct Conflict {
    item: usize,
    msg: Buf,
}

/// What [`analyze`] found in one model body; generated code asks [`conflicts`] about it.
pub struct Report {
    conflicts: [Conflict; MAX_CONFLICTS],
    len: usize,
}

impl Report {
    /// How many problems were found (at most 8 are kept).
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no problem was found.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The message of the `k`th problem.
    pub const fn message(&self, k: usize) -> &str {
        self.conflicts[k].msg.as_str()
    }

    const fn add(&mut self, item: usize, msg: Buf) {
        if self.len < MAX_CONFLICTS {
            self.conflicts[self.len] = Conflict { item, msg };
            self.len += 1;
        }
    }
}

#[derive(Clone, Copy)]
struct Frame {
    items: &'static [Item],
    next: usize,
    hash: u64,
    pow: u64,
    mode: Mode,
    id: u64,
}

const NO_FRAME: Frame = Frame { items: &[], next: 0, hash: 0, pow: 1, mode: Mode::Create, id: 0 };

/// The state of one analysis.
struct State<const S: usize, const D: usize, const B: usize> {
    table: [u64; S],
    owner: [u32; S],
    count: usize,
    stack: [Frame; D],
    depth: usize,
    on_stack: [u16; B],
    /// Most entries this state holds.
    max_entries: usize,
    /// Whether this is the largest state: running out of room is then an error to report.
    big: bool,
    /// Whether a smaller state ran out of room (the analysis is redone with the largest).
    overflow: bool,
    /// One bit per table entry (the top six bits of its hash): most probes stop here.
    bloom: u64,
    /// Whether the current item's entries must be recorded (a later item may conflict).
    insert: bool,
}

const fn exclusive(a: &Item, b: &Item) -> bool {
    let mut x = 0;
    while x + 1 < a.branch.len() {
        let mut y = 0;
        while y + 1 < b.branch.len() {
            if a.branch[x] == b.branch[y] && a.branch[x + 1] != b.branch[y + 1] {
                return true;
            }
            y += 2;
        }
        x += 2;
    }
    false
}

const fn is_call(item: &Item) -> bool {
    matches!(item.kind, ItemKind::Call(_))
}

const fn push_segments(buf: &mut Buf, item: &Item) {
    let mut k = 0;
    while k < item.scope.len() {
        buf.push(item.scope[k].name);
        buf.push("/");
        k += 1;
    }
}

/// Writes the path of the variable the analysis is at: item `j`'s scope, then each frame's
/// current item.
const fn push_path<const S: usize, const D: usize, const B: usize>(
    buf: &mut Buf,
    items: &[Item],
    j: usize,
    st: &State<S, D, B>,
) {
    push_segments(buf, &items[j]);
    if let ItemKind::Var(v) = items[j].kind {
        buf.push(v.name);
        return;
    }
    let mut k = 0;
    while k < st.depth {
        let f = &st.stack[k];
        let item = &f.items[f.next - 1];
        push_segments(buf, item);
        if let ItemKind::Var(v) = item.kind {
            buf.push(v.name);
        }
        k += 1;
    }
}

const fn site(buf: &mut Buf, item: &Item) {
    buf.push("`");
    buf.push(item.site);
    buf.push("` (line ");
    buf.push_u32(item.line);
    buf.push(")");
}

/// Probes the table for an earlier definition of `hash` that item `j` conflicts with, then
/// records `hash` if it defines the variable. Returns the earlier item, or `EMPTY`; returns
/// `EMPTY - 1` when the table is full.
const fn entry<const S: usize, const D: usize, const B: usize>(
    st: &mut State<S, D, B>,
    items: &[Item],
    hash: u64,
    mode: Mode,
    j: usize,
) -> u32 {
    let bit = 1u64 << (hash >> 58);
    if st.bloom & bit == 0 && !st.insert {
        return EMPTY;
    }
    let mask = S - 1;
    let mut slot = ((hash >> 32) as usize ^ hash as usize) & mask;
    if st.bloom & bit != 0 {
        loop {
            let owner = st.owner[slot];
            if owner == EMPTY {
                break;
            }
            if st.table[slot] == hash && owner as usize != j {
                let i = owner as usize;
                if matches!(mode, Mode::Create)
                    && (is_call(&items[i]) || is_call(&items[j]))
                    && !exclusive(&items[i], &items[j])
                {
                    return owner;
                }
            }
            slot = (slot + 1) & mask;
        }
    } else {
        while st.owner[slot] != EMPTY {
            slot = (slot + 1) & mask;
        }
    }
    if st.insert && matches!(mode, Mode::Create | Mode::Auto) {
        if st.count >= st.max_entries {
            if !st.big {
                st.overflow = true;
                return EMPTY;
            }
            return EMPTY - 1;
        }
        st.table[slot] = hash;
        st.owner[slot] = j as u32;
        st.count += 1;
        st.bloom |= bit;
    }
    EMPTY
}

const fn duplicate<const S: usize, const D: usize, const B: usize>(
    items: &[Item],
    i: usize,
    j: usize,
    st: &State<S, D, B>,
    model: &str,
) -> Buf {
    let mut buf = Buf::new();
    buf.push("duplicate variable `");
    push_path(&mut buf, items, j, st);
    buf.push("` in ");
    buf.push(model);
    buf.push(": declared by ");
    site(&mut buf, &items[i]);
    buf.push(" and again by ");
    site(&mut buf, &items[j]);
    buf.push(" in a non-reuse scope; wrap the second in a reuse scope (`scope!(cx, .., reuse { .. })` or `cx.reuse_variables()`), or rename it");
    buf
}

const fn too_many(items: &[Item], j: usize, model: &str) -> Buf {
    let mut buf = Buf::new();
    buf.push("more than 6144 variables reach ");
    buf.push(model);
    buf.push(" by ");
    site(&mut buf, &items[j]);
    buf.push(", too many for the compile-time check; split the model, or mark calls with `opaque!(..)` to leave them to the runtime");
    buf
}

/// Finds duplicate creations across the model calls of one body; `model` describes the body
/// for messages (``model `net` `` or `` `scope!` ``). Called by generated code.
pub const fn analyze(items: &'static [Item], model: &'static str) -> Report {
    let report = Report { conflicts: [Conflict { item: usize::MAX, msg: Buf::new() }; MAX_CONFLICTS], len: 0 };
    // Variables against variables are the macro's job; if every call is skipped, nothing is
    // left to do here.
    let skip = skippable_calls(items);
    let mut pending = false;
    let mut k = 0;
    while k < items.len() {
        if let ItemKind::Call(m) = items[k].kind {
            let skipped = k < 64 && skip & (1u64 << k) != 0 && !items[k].looped;
            if !m.opaque && !skipped {
                pending = true;
            }
        }
        k += 1;
    }
    if !pending {
        return report;
    }
    // Most bodies need a few dozen entries: a small state is much cheaper to set up in const
    // evaluation; only when it runs out of room is the analysis redone with the largest.
    match analyze_in::<128, 16, 64>(items, model, skip, 96, false) {
        Some(r) => r,
        None => match analyze_in::<SLOTS, MAX_DEPTH, STACK_BUCKETS>(items, model, skip, MAX_ENTRIES, true) {
            Some(r) => r,
            None => report,
        },
    }
}

/// [`analyze`] with a state of `S` table slots, `D` frames and `B` recursion buckets; `None`
/// when the state is too small.
const fn analyze_in<const S: usize, const D: usize, const B: usize>(
    items: &'static [Item],
    model: &'static str,
    skip: u64,
    max_entries: usize,
    big: bool,
) -> Option<Report> {
    let mut report = Report { conflicts: [Conflict { item: usize::MAX, msg: Buf::new() }; MAX_CONFLICTS], len: 0 };
    let mut st = State::<S, D, B> {
        table: [0; S],
        owner: [EMPTY; S],
        count: 0,
        stack: [NO_FRAME; D],
        depth: 0,
        on_stack: [0; B],
        max_entries,
        big,
        overflow: false,
        bloom: 0,
        insert: true,
    };
    // Entries of the last item that can conflict need not be recorded.
    let mut last = 0;
    let mut k = 0;
    while k < items.len() {
        if !items[k].dynamic && matches!(items[k].mode, Mode::Create | Mode::Auto) {
            last = k;
        }
        k += 1;
    }
    let mut j = 0;
    while j < items.len() {
        let it = &items[j];
        st.insert = j < last;
        if it.dynamic || matches!(it.mode, Mode::Reuse | Mode::Unknown) {
            j += 1;
            continue;
        }
        match it.kind {
            ItemKind::Var(v) => {
                let hash = it.scope_hash.wrapping_mul(PATH_MUL).wrapping_add(v.hash);
                let i = entry(&mut st, items, hash, it.mode, j);
                if i == EMPTY - 1 {
                    report.add(j, too_many(items, j, model));
                } else if i != EMPTY {
                    report.add(j, duplicate(items, i as usize, j, &st, model));
                }
            }
            ItemKind::Call(m) => {
                let skipped = j < 64 && skip & (1u64 << j) != 0 && !it.looped;
                if !m.opaque && !skipped {
                    st.stack[0] = Frame {
                        items: m.items,
                        next: 0,
                        hash: it.scope_hash,
                        pow: it.scope_pow,
                        mode: it.mode,
                        id: m.id,
                    };
                    st.depth = 1;
                    st.on_stack[(m.id as usize) % B] += 1;
                    if let Some(msg) = walk_call(&mut st, items, j, model) {
                        report.add(j, msg);
                    }
                    // Unwind whatever the walk left on the stack.
                    while st.depth > 0 {
                        st.depth -= 1;
                        let id = st.stack[st.depth].id;
                        st.on_stack[(id as usize) % B] -= 1;
                    }
                }
            }
            ItemKind::Opaque(_) => {}
        }
        if st.overflow {
            return None;
        }
        j += 1;
    }
    Some(report)
}

/// The calls (as a bit set over the first 64 items) whose summary shares no bit with the
/// other declarations of the body: no conflict can involve them, so they are not walked. Only
/// bodies with at most `SUMMARY_CALLS` calls are prefiltered (the test is quadratic in calls).
const fn skippable_calls(items: &[Item]) -> u64 {
    let mut calls = 0;
    let mut k = 0;
    while k < items.len() {
        if is_call(&items[k]) {
            calls += 1;
        }
        k += 1;
    }
    if calls == 0 || calls > SUMMARY_CALLS {
        return 0;
    }
    if calls == 1 {
        // The common case (and the long chain): test the call's summary at the bits of the
        // body's own names only.
        let mut j = 0;
        while j < items.len() {
            if let ItemKind::Call(m) = items[j].kind {
                if j >= 64 {
                    return 0;
                }
                let mut k = 0;
                while k < items.len() {
                    if let ItemKind::Var(v) = items[k].kind {
                        let bits = summary_bits(v.hash);
                        if m.summary[bits[0].0] & bits[0].1 != 0 && m.summary[bits[1].0] & bits[1].1 != 0 {
                            return 0;
                        }
                    }
                    k += 1;
                }
                return 1u64 << j;
            }
            j += 1;
        }
        return 0;
    }
    // The names the body declares itself.
    let mut own = [0u64; SUMMARY_WORDS];
    k = 0;
    while k < items.len() {
        if let ItemKind::Var(v) = items[k].kind {
            let bits = summary_bits(v.hash);
            own[bits[0].0] |= bits[0].1;
            own[bits[1].0] |= bits[1].1;
        }
        k += 1;
    }
    let mut skip = 0u64;
    let mut j = 0;
    while j < items.len() && j < 64 {
        if let ItemKind::Call(m) = items[j].kind {
            let mut clash = false;
            let mut w = 0;
            while w < SUMMARY_WORDS && !clash {
                let mut others = own[w];
                let mut c = 0;
                while c < items.len() {
                    if let ItemKind::Call(o) = items[c].kind
                        && c != j
                    {
                        others |= o.summary[w];
                    }
                    c += 1;
                }
                clash = m.summary[w] & others != 0;
                w += 1;
            }
            if !clash {
                skip |= 1u64 << j;
            }
        }
        j += 1;
    }
    skip
}

const fn on_stack<const S: usize, const D: usize, const B: usize>(st: &State<S, D, B>, id: u64) -> bool {
    if st.on_stack[(id as usize) % B] == 0 {
        return false;
    }
    let mut k = 0;
    while k < st.depth {
        if st.stack[k].id == id {
            return true;
        }
        k += 1;
    }
    false
}

/// Walks the variables that call item `j` creates; returns the first problem.
const fn walk_call<const S: usize, const D: usize, const B: usize>(
    st: &mut State<S, D, B>,
    items: &[Item],
    j: usize,
    model: &str,
) -> Option<Buf> {
    let looped = items[j].looped && matches!(items[j].mode, Mode::Create);
    while st.depth > 0 {
        let top = st.depth - 1;
        let f = &mut st.stack[top];
        if f.next >= f.items.len() {
            let id = f.id;
            st.depth -= 1;
            st.on_stack[(id as usize) % B] -= 1;
            continue;
        }
        let items_here: &'static [Item] = f.items;
        let ci = &items_here[f.next];
        f.next += 1;
        let f = *f;
        if ci.dynamic || ci.cond {
            continue;
        }
        let mode = match ci.mode {
            Mode::Create => f.mode,
            other => other,
        };
        if !matches!(mode, Mode::Create | Mode::Auto) {
            continue;
        }
        let hash = f.hash.wrapping_mul(ci.scope_pow).wrapping_add(ci.scope_hash);
        match ci.kind {
            ItemKind::Var(v) => {
                if looped && matches!(mode, Mode::Create) {
                    let mut buf = Buf::new();
                    buf.push("model call ");
                    site(&mut buf, &items[j]);
                    buf.push(" in ");
                    buf.push(model);
                    buf.push(" repeats in a loop in a non-reuse scope, but it creates `");
                    push_path(&mut buf, items, j, st);
                    buf.push("`: the second iteration fails with `already exists`; open a scope per iteration (`scope!(cx, format!(\"layer{i}\") { .. })`) or use `auto_reuse`");
                    return Some(buf);
                }
                let full = hash.wrapping_mul(PATH_MUL).wrapping_add(v.hash);
                let i = entry(st, items, full, mode, j);
                if st.overflow {
                    return None;
                }
                if i == EMPTY - 1 {
                    return Some(too_many(items, j, model));
                } else if i != EMPTY {
                    return Some(duplicate(items, i as usize, j, st, model));
                }
            }
            ItemKind::Call(m) => {
                if m.opaque || on_stack(st, m.id) {
                    // A recursive call creates the same names again at a deeper path, which
                    // the runtime checks; following it would never end.
                    continue;
                }
                if st.depth == D {
                    if !st.big {
                        st.overflow = true;
                        return None;
                    }
                    let mut buf = Buf::new();
                    buf.push("model calls nest more than 512 deep below ");
                    site(&mut buf, &items[j]);
                    buf.push(" in ");
                    buf.push(model);
                    buf.push(", too deep for the compile-time check; flatten the nesting, or mark the call with `opaque!(..)` to leave it to the runtime");
                    return Some(buf);
                }
                let pow = f.pow.wrapping_mul(ci.scope_pow);
                st.stack[st.depth] = Frame { items: m.items, next: 0, hash, pow, mode, id: m.id };
                st.depth += 1;
                st.on_stack[(m.id as usize) % B] += 1;
            }
            ItemKind::Opaque(_) => {}
        }
    }
    None
}

/// Whether [`analyze`] found a problem at item `j`. The check const that generated code
/// spans at each item asserts that it did not, with [`conflict_message`] as the message.
pub const fn conflicts(r: &Report, j: usize) -> bool {
    let mut k = 0;
    while k < r.len {
        if r.conflicts[k].item == j {
            return true;
        }
        k += 1;
    }
    false
}

/// The message of the problem found at item `j`, or `""`.
pub const fn conflict_message(r: &Report, j: usize) -> &str {
    let mut k = 0;
    while k < r.len {
        if r.conflicts[k].item == j {
            return r.conflicts[k].msg.as_str();
        }
        k += 1;
    }
    ""
}
