//! Const manifests of `#[model]` functions and the const-evaluated checks across model calls.
//!
//! `#[model] fn f` generates `f::MANIFEST`: every variable `f` declares (its name relative to
//! the scope `f` is called in, literal shape or dynamic, dtype, initializer, reuse mode and
//! source line) and every call into another model. Manifests are statics that point at each
//! other, so they work across modules and crates and are usable before any tensor exists;
//! [`Manifest`]'s `Display` prints them as a table, [`Manifest::variables`] lists them.
//!
//! The macro packs a body's declarations into one array of integers and one string (see
//! [`layout`]): a manifest is a single small static, which keeps `cargo check` fast for crates
//! with hundreds of models. A model that calls other models also gets one analysis const
//! ([`analyze`]) and one small check const per item after its first call ([`conflicts`]),
//! emitted at that item's span so that a failure underlines the offending call; only a failing
//! check builds its message ([`conflict_message`]). The analysis walks callees with an explicit
//! stack (no recursion, so rustc's `recursion_limit` never applies), compares 64-bit path
//! hashes that the macro precomputed in an open-addressing table (linear in the number of
//! variables, not pairwise; a small state first, the largest only when it runs out of room),
//! and never skips anything silently: nesting deeper than [`MAX_DEPTH`] or more than
//! [`MAX_ENTRIES`] variables is reported as a compile error.

use std::fmt;

/// Deepest chain of model calls the compile-time check follows.
pub const MAX_DEPTH: usize = 512;
/// Most variables that may reach one model through its calls for the compile-time check.
pub const MAX_ENTRIES: usize = 6144;
const SLOTS: usize = 8192;
const STACK_BUCKETS: usize = 4096;
const MSG_LEN: usize = 1280;
/// Most bytes of one name or call site in a message, so that the fix always fits.
const PART_LEN: usize = 200;
const EMPTY: u32 = u32::MAX;
/// Words of a [`Summary`].
pub const SUMMARY_WORDS: usize = 64;
/// The bits of a name hash that index a summary bit.
const BLOOM_MASK: u64 = (SUMMARY_WORDS * 64 - 1) as u64;
/// Words of the bit set of a summary's words that have bits.
const OCCUPIED_WORDS: usize = SUMMARY_WORDS / 64;
/// Calls per body up to which [`analyze`] uses summaries to skip walks.
const SUMMARY_CALLS: usize = 16;

use crate::hash::segment;
use crate::layout::*;

pub use crate::hash::PATH_MUL;
#[doc(hidden)]
pub use crate::layout;
pub use crate::layout::Mode;

/// A Bloom filter (4,096 bits, two bits per name: bits 50-61 and 22-33 of the name's hash) of
/// the leaf names of every variable a model
/// declares, itself or through its calls. Leaf names do not depend on the scope a model is
/// called in, so a caller's check can skip walking a call whose summary shares no bit with the
/// other declarations of the body. Each manifest computes its summary from its own names and
/// its callees' summaries (a self-call is left out); mutual recursion between models makes
/// those statics a cycle, which rustc reports naming the manifest static, whose name says to
/// mark one of the calls `opaque!(..)`.
pub type Summary = [u64; SUMMARY_WORDS];

/// The manifest of one `#[model]` fn (or of a `scope!` block that calls models).
#[derive(Debug)]
pub struct Manifest {
    model: &'static str,
    module: &'static str,
    id: u64,
    opaque: bool,
    len: usize,
    data: &'static [u64],
    text: &'static str,
    calls: &'static [&'static Manifest],
    leaves: &'static [u64],
    prefixes: &'static [u64],
    summary: Summary,
    /// One bit per word of `summary` that has bits.
    occupied: [u64; OCCUPIED_WORDS],
}

/// The parts of a body that `#[model]` packs (see [`layout`]); generated code builds one per
/// manifest.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Packed {
    /// Identifies the model in the checks (recursion is detected by identity): a hash of its
    /// name and where it is defined, computed by the macro.
    pub id: u64,
    /// The number of items.
    pub items: usize,
    /// The item words, then their variable-length parts.
    pub data: &'static [u64],
    /// The strings the items refer to.
    pub text: &'static str,
    /// The manifests of the models called: other models first, then the model itself.
    pub calls: &'static [&'static Manifest],
    /// How many of `calls` are other models.
    pub callees: usize,
    /// The hashes of the leaf names of the variables the body declares statically.
    pub leaves: &'static [u64],
    /// The hashes of every prefix of those variables' scopes, sorted.
    pub prefixes: &'static [u64],
}

/// The hash of one name segment, as the macro computes it.
pub const fn segment_hash(name: &str) -> u64 {
    segment(name)
}

/// The part of `text` that `r` refers to.
const fn text_at(text: &str, r: u64) -> &str {
    let bytes = text.as_bytes();
    let off = (r >> 32) as usize;
    let len = (r & 0x7fff_ffff) as usize;
    if off > bytes.len() || len > bytes.len() - off {
        return "?";
    }
    let (_, rest) = bytes.split_at(off);
    match core::str::from_utf8(rest.split_at(len).0) {
        Ok(s) => s,
        Err(_) => "?",
    }
}

impl Manifest {
    /// A manifest of the body `packed` describes; called by generated code. Computes the
    /// model's [`Summary`] from its own leaf names and its callees' summaries.
    #[doc(hidden)]
    pub const fn new(model: &'static str, module: &'static str, opaque: bool, packed: Packed) -> Manifest {
        let Packed { id, items, data, text, calls, callees, leaves, prefixes } = packed;
        let len = if items < data.len() / ITEM_WORDS { items } else { data.len() / ITEM_WORDS };
        // Const evaluation pays for every step: the first callee's summary (often the only
        // one) is copied whole, the others are OR-ed in only where they have bits, and the
        // loops below call no function.
        let mut summary = [0u64; SUMMARY_WORDS];
        let mut occupied = [0u64; OCCUPIED_WORDS];
        let callees = if callees < calls.len() { callees } else { calls.len() };
        if callees > 0 {
            summary = calls[0].summary;
            occupied = calls[0].occupied;
        }
        let mut c = 1;
        while c < callees {
            let other = calls[c];
            let mut q = 0;
            while q < OCCUPIED_WORDS {
                let mut mask = other.occupied[q];
                occupied[q] |= mask;
                while mask != 0 {
                    let w = q * 64 + mask.trailing_zeros() as usize;
                    summary[w] |= other.summary[w];
                    mask &= mask - 1;
                }
                q += 1;
            }
            c += 1;
        }
        let mut k = 0;
        while k < leaves.len() {
            let h = leaves[k];
            let a = ((h >> 50) & BLOOM_MASK) as usize;
            let b = ((h >> 22) & BLOOM_MASK) as usize;
            summary[a >> 6] |= 1 << (a & 63);
            summary[b >> 6] |= 1 << (b & 63);
            occupied[a >> 12] |= 1 << ((a >> 6) & 63);
            occupied[b >> 12] |= 1 << ((b >> 6) & 63);
            k += 1;
        }
        // Identities must differ across files and crates: the macro's hash of name and
        // position, mixed with the module path (which names the crate).
        let id = id ^ segment(module).rotate_left(29);
        Manifest { model, module, id, opaque, len, data, text, calls, leaves, prefixes, summary, occupied }
    }

    /// The model's name.
    pub fn model(&self) -> &'static str {
        self.model
    }

    /// `module_path!()` of the module that defines the model.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// Whether the model is marked `#[model(opaque)]` (callers' checks do not follow it).
    pub fn is_opaque(&self) -> bool {
        self.opaque
    }

    /// The Bloom filter of every leaf name below the model.
    #[doc(hidden)]
    pub const fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Word `w` of item `k`.
    const fn word(&self, k: usize, w: usize) -> u64 {
        let at = k * ITEM_WORDS + w;
        if at < self.data.len() { self.data[at] } else { 0 }
    }

    /// The number of items (`new` made sure that `data` holds them).
    const fn items(&self) -> usize {
        self.len
    }

    const fn kind(&self, k: usize) -> u64 {
        self.word(k, 0) & 3
    }

    const fn flag(&self, k: usize, flag: u64) -> bool {
        self.word(k, 0) & flag != 0
    }

    const fn mode(&self, k: usize) -> Mode {
        Mode::from_bits(self.word(k, 0) >> 2)
    }

    const fn segs(&self, k: usize) -> usize {
        ((self.word(k, 0) >> 16) & 0xffff) as usize
    }

    const fn arms(&self, k: usize) -> usize {
        ((self.word(k, 0) >> 32) & 0xffff) as usize
    }

    const fn rank(&self, k: usize) -> usize {
        (self.word(k, 0) >> 48) as usize
    }

    const fn line(&self, k: usize) -> u32 {
        (self.word(k, 5) >> 32) as u32
    }

    /// Word `w` of item `k`'s variable-length part.
    const fn extra(&self, k: usize, w: usize) -> u64 {
        let at = (self.word(k, 5) & 0xffff_ffff) as usize + w;
        if at < self.data.len() { self.data[at] } else { 0 }
    }

    const fn site(&self, k: usize) -> &'static str {
        text_at(self.text, self.word(k, 4))
    }

    const fn seg_name(&self, k: usize, s: usize) -> &'static str {
        text_at(self.text, self.extra(k, s))
    }

    const fn arm(&self, k: usize, a: usize) -> u64 {
        self.extra(k, self.segs(k) + a)
    }

    /// The variable fields of item `k`: name, initializer, dtype references, then dimensions.
    const fn var_field(&self, k: usize, f: usize) -> u64 {
        self.extra(k, self.segs(k) + self.arms(k) + f)
    }

    const fn var_name(&self, k: usize) -> &'static str {
        text_at(self.text, self.var_field(k, 0))
    }

    /// The manifest item `k` calls, if it is a followed call.
    const fn callee(&self, k: usize) -> Option<&'static Manifest> {
        if self.kind(k) != CALL {
            return None;
        }
        let c = self.word(k, 3) as usize;
        if c < self.calls.len() { Some(self.calls[c]) } else { None }
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
        for k in 0..self.items() {
            let depth = path.len();
            path.extend((0..self.segs(k)).map(|s| self.seg_name(k, s)));
            let item_mode = mode.inherit(self.mode(k));
            let cond = conditional || self.flag(k, COND);
            match self.kind(k) {
                VAR => {
                    let mut name = path.join("/");
                    if !name.is_empty() {
                        name.push('/');
                    }
                    name.push_str(self.var_name(k));
                    let text = |f| text_at(self.text, self.var_field(k, f));
                    out.push(ManifestVar {
                        name,
                        shape: self
                            .flag(k, HAS_SHAPE)
                            .then(|| (0..self.rank(k)).map(|d| self.var_field(k, 3 + d) as usize).collect()),
                        dtype: Some(text(2)).filter(|d| !d.is_empty()),
                        init: text(1),
                        trainable: self.flag(k, HAS_TRAINABLE).then(|| self.flag(k, TRAINABLE)),
                        mode: item_mode,
                        dynamic: self.flag(k, DYNAMIC),
                        conditional: cond,
                        line: self.line(k),
                        model: declared_in,
                    });
                }
                _ => {
                    if let Some(m) = self.callee(k)
                        && !m.opaque
                        && !models.contains(&m.id)
                    {
                        models.push(m.id);
                        m.collect(out, path, models, item_mode, cond || self.flag(k, DYNAMIC), m.model);
                        models.pop();
                    }
                }
            }
            path.truncate(depth);
        }
    }

    /// The calls into other models (and opaque calls) of this model's own body.
    pub fn calls(&self) -> Vec<ManifestCall> {
        (0..self.items())
            .filter_map(|k| {
                let (callee, followed) = match (self.kind(k), self.callee(k)) {
                    (CALL, Some(m)) => (m.model, !m.opaque),
                    (OPAQUE, _) => (text_at(self.text, self.word(k, 3)), false),
                    _ => return None,
                };
                let scope: Vec<&str> = (0..self.segs(k)).map(|s| self.seg_name(k, s)).collect();
                Some(ManifestCall { callee, scope: scope.join("/"), followed, line: self.line(k) })
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
        writeln!(f, "model `{}` in `{}`", self.model, self.module)?;
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
    /// Where the part being written must stop (`MSG_LEN` outside a part).
    limit: usize,
    /// Whether the part being written was cut.
    cut: bool,
}

impl Buf {
    const fn new() -> Buf {
        Buf { bytes: [0; MSG_LEN], len: 0, limit: MSG_LEN, cut: false }
    }

    /// Writes a name or a call site, cut to `PART_LEN` bytes (marked `..`).
    const fn push_part(&mut self, s: &str) {
        let start = self.len;
        self.limit = start + PART_LEN;
        self.push(s);
        self.end_part();
    }

    /// Ends a part begun at `start`: marks it when it was cut.
    const fn end_part(&mut self) {
        self.limit = MSG_LEN;
        if self.cut {
            self.cut = false;
            self.push("..");
        }
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
            if self.len + width > MSG_LEN || self.len + width > self.limit || i + width > b.len() {
                self.cut = self.limit < MSG_LEN;
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

/// Problems found by [`analyze`] in one model body: one bit per item whose check must fail
/// (`W` words: the macro sizes it to the body, so every conflict is reported).
#[derive(Clone, Copy, Debug)]
pub struct Conflicts<const W: usize> {
    bits: [u64; W],
    len: usize,
}

impl<const W: usize> Conflicts<W> {
    const NONE: Conflicts<W> = Conflicts { bits: [0; W], len: 0 };

    /// How many problems were found.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no problem was found.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    const fn add(&mut self, item: usize) {
        if item / 64 < W && self.bits[item / 64] & (1 << (item % 64)) == 0 {
            self.bits[item / 64] |= 1 << (item % 64);
            self.len += 1;
        }
    }
}

/// The message of a failed check, built during const evaluation.
pub struct Message(Buf);

impl Message {
    /// The message text.
    pub const fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// What one run of the analysis found: the conflicts, and the message of item `want`'s.
struct Outcome<const W: usize> {
    conflicts: Conflicts<W>,
    want: usize,
    msg: Buf,
}

impl<const W: usize> Outcome<W> {
    const fn add(&mut self, item: usize, msg: Option<Buf>) {
        if item == self.want
            && let Some(m) = msg
        {
            self.msg = m;
        }
        self.conflicts.add(item);
    }
}

#[derive(Clone, Copy)]
struct Frame {
    m: &'static Manifest,
    next: usize,
    hash: u64,
    pow: u64,
    mode: Mode,
}

const NO_MANIFEST: Manifest = Manifest {
    model: "",
    module: "",
    id: 0,
    opaque: true,
    len: 0,
    data: &[],
    text: "",
    calls: &[],
    leaves: &[],
    prefixes: &[],
    summary: [0; SUMMARY_WORDS],
    occupied: [0; OCCUPIED_WORDS],
};
const NO_FRAME: Frame = Frame { m: &NO_MANIFEST, next: 0, hash: 0, pow: 1, mode: Mode::Create };

/// The state of one analysis.
struct State<const S: usize, const D: usize, const B: usize> {
    table: [u64; S],
    owner: [u32; S],
    /// The manifest and item that declared each entry (for shapes and dtypes).
    origin: [(&'static Manifest, u32); S],
    /// Whether the last conflict `entry` returned is one of shapes or dtypes.
    mismatch: bool,
    /// The slot of the last conflict `entry` returned.
    found: usize,
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
    /// Whether messages are wanted for the current item.
    messages: bool,
    /// Whether the current call is the only one walked (and not in a loop): it can then only
    /// meet the body's own variables, so a callee walked under a scope that is no prefix of
    /// theirs (the manifest's `prefixes`) is skipped with everything below it.
    prune: bool,
}

/// Whether the sorted `set` holds `hash`.
const fn holds(set: &[u64], hash: u64) -> bool {
    let (mut lo, mut hi) = (0, set.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if set[mid] == hash {
            return true;
        } else if set[mid] < hash {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    false
}

/// Whether item `a` (earlier) has run whenever item `b` runs: each arm `a`'s effect is bound
/// to (marked [`ARM_MUST`](layout::ARM_MUST)) is one `b` sits in, and no arm of `a` excludes
/// one of `b` (another arm of the same branch).
const fn dominates(m: &Manifest, a: usize, b: usize) -> bool {
    const ARM: u64 = !ARM_MUST;
    let mut x = 0;
    while x < m.arms(a) {
        let ax = m.arm(a, x);
        let mut found = ax & ARM_MUST == 0;
        let mut y = 0;
        while y < m.arms(b) {
            let by = m.arm(b, y);
            if ax >> 32 == by >> 32 {
                if ax & ARM & 0xffff_ffff != by & ARM & 0xffff_ffff {
                    return false;
                }
                found = true;
            }
            y += 1;
        }
        if !found {
            return false;
        }
        x += 1;
    }
    true
}

const fn push_segments(buf: &mut Buf, m: &Manifest, k: usize) {
    let mut s = 0;
    while s < m.segs(k) {
        buf.push(m.seg_name(k, s));
        buf.push("/");
        s += 1;
    }
}

/// Writes the path of the variable the analysis is at: item `j`'s scope, then each frame's
/// current item.
const fn push_path<const S: usize, const D: usize, const B: usize>(
    buf: &mut Buf,
    m: &Manifest,
    j: usize,
    st: &State<S, D, B>,
) {
    let start = buf.len;
    buf.limit = start + PART_LEN;
    push_path_in(buf, m, j, st);
    buf.end_part();
}

const fn push_path_in<const S: usize, const D: usize, const B: usize>(
    buf: &mut Buf,
    m: &Manifest,
    j: usize,
    st: &State<S, D, B>,
) {
    push_segments(buf, m, j);
    if m.kind(j) == VAR {
        buf.push(m.var_name(j));
        return;
    }
    let mut k = 0;
    while k < st.depth {
        let f = &st.stack[k];
        push_segments(buf, f.m, f.next - 1);
        if f.m.kind(f.next - 1) == VAR {
            buf.push(f.m.var_name(f.next - 1));
        }
        k += 1;
    }
}

const fn site(buf: &mut Buf, m: &Manifest, k: usize) {
    buf.push("`");
    buf.push_part(m.site(k));
    buf.push("` (line ");
    buf.push_u32(m.line(k));
    buf.push(")");
}

/// Probes the table for an earlier declaration of `hash` that item `j` conflicts with, then
/// records `hash` if it defines the variable. `src` and `k` are the manifest and item of the
/// declaration (item `j` itself, or a callee's item the walk is at). A conflict is a second
/// creation in a non-reuse scope, or (any mode) two literal shapes or dtypes that differ; one
/// of the two must come through a call (two declarations of one body are the macro's). Returns
/// the earlier item (its slot in `st.found`, `st.mismatch` telling the kind), or `EMPTY`;
/// returns `EMPTY - 1` when the table is full.
const fn entry<const S: usize, const D: usize, const B: usize>(
    st: &mut State<S, D, B>,
    m: &Manifest,
    hash: u64,
    mode: Mode,
    j: usize,
    src: &'static Manifest,
    k: usize,
) -> u32 {
    let bit = 1u64 << (hash >> 58);
    if st.bloom & bit == 0 && !st.insert {
        return EMPTY;
    }
    let mask = S - 1;
    let mut slot = ((hash >> 32) as usize ^ hash as usize) & mask;
    // An unconditional earlier declaration of the name stands for this one in the table (one
    // entry per distinct name keeps an unrolled cell linear).
    let mut covered = false;
    if st.bloom & bit != 0 {
        loop {
            let owner = st.owner[slot];
            if owner == EMPTY {
                break;
            }
            if st.table[slot] == hash && owner as usize != j {
                let i = owner as usize;
                let (om, ok) = st.origin[slot];
                if (m.kind(i) == CALL || m.kind(j) == CALL) && dominates(m, i, j) {
                    // Any earlier declaration that succeeded leaves the variable existing.
                    if matches!(mode, Mode::Create) || differ(om, ok as usize, src, k) {
                        st.mismatch = !matches!(mode, Mode::Create);
                        st.found = slot;
                        return owner;
                    }
                }
                if m.arms(i) == 0 && !covered {
                    covered = true;
                    if !has_spec(om, ok as usize) && has_spec(src, k) {
                        st.origin[slot] = (src, k as u32);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    } else {
        while st.owner[slot] != EMPTY {
            slot = (slot + 1) & mask;
        }
    }
    if st.insert && !covered {
        if st.count >= st.max_entries {
            if !st.big {
                st.overflow = true;
                return EMPTY;
            }
            return EMPTY - 1;
        }
        st.table[slot] = hash;
        st.owner[slot] = j as u32;
        st.origin[slot] = (src, k as u32);
        st.count += 1;
        st.bloom |= bit;
    }
    EMPTY
}

/// Whether a declaration gives a literal shape or dtype.
const fn has_spec(a: &Manifest, i: usize) -> bool {
    a.flag(i, HAS_SHAPE) || a.var_field(i, 2) & 0x7fff_ffff != 0
}

/// Whether two variable declarations give literal shapes, or literal dtypes, that differ.
const fn differ(a: &Manifest, i: usize, b: &Manifest, k: usize) -> bool {
    if a.flag(i, HAS_SHAPE) && b.flag(k, HAS_SHAPE) {
        if a.rank(i) != b.rank(k) {
            return true;
        }
        let mut d = 0;
        while d < a.rank(i) {
            if a.var_field(i, 3 + d) != b.var_field(k, 3 + d) {
                return true;
            }
            d += 1;
        }
    }
    let (x, y) = (text_at(a.text, a.var_field(i, 2)).as_bytes(), text_at(b.text, b.var_field(k, 2)).as_bytes());
    if x.is_empty() || y.is_empty() || x.len() != y.len() {
        return !x.is_empty() && !y.is_empty();
    }
    let mut c = 0;
    while c < x.len() {
        if x[c] != y[c] {
            return true;
        }
        c += 1;
    }
    false
}

/// Writes a declaration's literal shape and dtype, e.g. `shape [5, 5] and dtype f32`.
const fn push_spec(buf: &mut Buf, m: &Manifest, k: usize) {
    if m.flag(k, HAS_SHAPE) {
        buf.push("shape [");
        let mut d = 0;
        while d < m.rank(k) {
            if d > 0 {
                buf.push(", ");
            }
            buf.push_u32(m.var_field(k, 3 + d) as u32);
            d += 1;
        }
        buf.push("]");
    } else {
        buf.push("a computed shape");
    }
    let dtype = text_at(m.text, m.var_field(k, 2));
    if !dtype.is_empty() {
        buf.push(" and dtype ");
        buf.push(dtype);
    }
}

/// The message of a shape or dtype conflict at item `j` with the entry in slot `st.found`,
/// declared by the current declaration `(src, k)`.
const fn mismatched<const S: usize, const D: usize, const B: usize>(
    m: &Manifest,
    i: usize,
    j: usize,
    st: &State<S, D, B>,
    src: &Manifest,
    k: usize,
    model: &str,
) -> Buf {
    let (om, ok) = st.origin[st.found];
    let mut buf = Buf::new();
    buf.push("conflicting declarations of variable `");
    push_path(&mut buf, m, j, st);
    buf.push("` in ");
    buf.push_part(model);
    buf.push(": ");
    site(&mut buf, m, i);
    buf.push(" declares it with ");
    push_spec(&mut buf, om, ok as usize);
    buf.push(", and ");
    site(&mut buf, m, j);
    buf.push(" with ");
    push_spec(&mut buf, src, k);
    buf.push("; use one shape and dtype for a variable, or give the other one another name");
    buf
}

const fn duplicate<const S: usize, const D: usize, const B: usize>(
    m: &Manifest,
    i: usize,
    j: usize,
    st: &State<S, D, B>,
    model: &str,
) -> Buf {
    let mut buf = Buf::new();
    buf.push("duplicate variable `");
    push_path(&mut buf, m, j, st);
    buf.push("` in ");
    buf.push_part(model);
    buf.push(": declared by ");
    site(&mut buf, m, i);
    buf.push(" and again by ");
    site(&mut buf, m, j);
    buf.push(" in a non-reuse scope; wrap the second in a reuse scope (`scope!(cx, .., reuse { .. })` or `cx.reuse_variables()`), or rename it");
    buf
}

const fn too_many(m: &Manifest, j: usize, model: &str) -> Buf {
    let mut buf = Buf::new();
    buf.push("more than 6144 variables reach ");
    buf.push(model);
    buf.push(" by ");
    site(&mut buf, m, j);
    buf.push(", too many for the compile-time check; split the model, or mark calls with `opaque!(..)` to leave them to the runtime");
    buf
}

/// Finds duplicate creations across the model calls of one body; `model` describes the body
/// for messages (``model `net` `` or `` `scope!` ``). Called by generated code, once per body,
/// with `W` words of result: one bit per item (the macro passes `items / 64 + 1`).
pub const fn analyze<const W: usize>(m: &'static Manifest, model: &'static str) -> Conflicts<W> {
    run::<W>(m, model, usize::MAX).conflicts
}

/// Whether [`analyze`] found a problem at item `j`. The check const that generated code
/// spans at each item asserts that it did not, with [`conflict_message`] as the message.
pub const fn conflicts<const W: usize>(c: &Conflicts<W>, j: usize) -> bool {
    j / 64 < W && c.bits[j / 64] & (1 << (j % 64)) != 0
}

/// The message of the problem found at item `j` (the analysis runs again, so only a failing
/// check pays for messages; empty when item `j` has none). rustc shows it after "evaluation
/// panicked:", so it ends by saying what that is.
pub const fn conflict_message(m: &'static Manifest, model: &'static str, j: usize) -> Message {
    let mut buf = run::<1>(m, model, j).msg;
    if buf.len > 0 {
        buf.push(EXPLAIN);
    }
    Message(buf)
}

/// The sentence that ends every message of the checks across calls (and the macro's const
/// messages), after rustc's "evaluation panicked:".
#[doc(hidden)]
pub const EXPLAIN: &str = " (varscope's compile-time check of model calls found this; rustc reports the check as a \
                       const evaluation that panicked)";

const fn run<const W: usize>(m: &'static Manifest, model: &'static str, want: usize) -> Outcome<W> {
    let none = Outcome { conflicts: Conflicts::NONE, want, msg: Buf::new() };
    // Variables against variables are the macro's job; if no call is left to walk, nothing is
    // left to do here.
    let (walks, beyond) = calls_to_walk(m);
    if walks == 0 && !beyond {
        return none;
    }
    // Most bodies need a few dozen entries: a small state is much cheaper to set up in const
    // evaluation; only when it runs out of room is the analysis redone with the largest.
    match analyze_in::<128, 16, 64, W>(m, model, walks, beyond, 96, false, want) {
        Some(r) => r,
        None => {
            match analyze_in::<SLOTS, MAX_DEPTH, STACK_BUCKETS, W>(m, model, walks, beyond, MAX_ENTRIES, true, want) {
                Some(r) => r,
                None => none,
            }
        }
    }
}

/// The analysis with a state of `S` table slots, `D` frames and `B` recursion buckets; `None`
/// when the state is too small. `walks` holds the calls among the first 64 items to walk;
/// `beyond` says whether later items hold calls (always walked).
///
/// Const evaluation pays for every call and every local, so the loops here and in
/// [`walk_call`] read the item words directly instead of through `Manifest`'s accessors.
const fn analyze_in<const S: usize, const D: usize, const B: usize, const W: usize>(
    m: &'static Manifest,
    model: &'static str,
    walks: u64,
    beyond: bool,
    max_entries: usize,
    big: bool,
    want: usize,
) -> Option<Outcome<W>> {
    let mut out = Outcome { conflicts: Conflicts::NONE, want, msg: Buf::new() };
    let mut st = State::<S, D, B> {
        table: [0; S],
        owner: [EMPTY; S],
        origin: [(&NO_MANIFEST, 0); S],
        mismatch: false,
        found: 0,
        count: 0,
        stack: [NO_FRAME; D],
        depth: 0,
        on_stack: [0; B],
        max_entries,
        big,
        overflow: false,
        bloom: 0,
        insert: true,
        messages: false,
        prune: false,
    };
    let single = walks.count_ones() == 1 && !beyond;
    let data = m.data;
    let n = m.len;
    // Entries of the last item that can conflict need not be recorded.
    let mut last = 0;
    let mut k = 0;
    while k < n {
        let flags = data[k * ITEM_WORDS];
        if flags & DYNAMIC == 0 && Mode::from_bits(flags >> 2).declares() {
            last = k;
        }
        k += 1;
    }
    let mut j = 0;
    while j < n {
        let base = j * ITEM_WORDS;
        let flags = data[base];
        let mode = Mode::from_bits(flags >> 2);
        if flags & DYNAMIC != 0 || !mode.declares() {
            j += 1;
            continue;
        }
        st.insert = j < last;
        st.messages = j == want;
        st.prune = single && flags & LOOPED == 0;
        if flags & 3 == VAR {
            let hash = data[base + 1].wrapping_mul(PATH_MUL).wrapping_add(data[base + 3]);
            let i = entry(&mut st, m, hash, mode, j, m, j);
            if i == EMPTY - 1 {
                out.add(j, if st.messages { Some(too_many(m, j, model)) } else { None });
            } else if i != EMPTY {
                let msg = if !st.messages {
                    None
                } else if st.mismatch {
                    Some(mismatched(m, i as usize, j, &st, m, j, model))
                } else {
                    Some(duplicate(m, i as usize, j, &st, model))
                };
                out.add(j, msg);
            }
        } else if flags & 3 == CALL
            && if j < 64 {
                walks & (1u64 << j) != 0
            } else {
                flags & ISOLATED == 0 && !m.calls[data[base + 3] as usize].opaque
            }
            && (!st.prune || holds(m.prefixes, data[base + 1]))
        {
            let callee = m.calls[data[base + 3] as usize];
            st.stack[0] = Frame { m: callee, next: 0, hash: data[base + 1], pow: data[base + 2], mode };
            st.depth = 1;
            st.on_stack[(callee.id as usize) % B] += 1;
            if let Some(msg) = walk_call(&mut st, m, j, model) {
                out.add(j, msg);
            }
            // Unwind whatever the walk left on the stack.
            while st.depth > 0 {
                st.depth -= 1;
                let id = st.stack[st.depth].m.id;
                st.on_stack[(id as usize) % B] -= 1;
            }
        }
        if st.overflow {
            return None;
        }
        j += 1;
    }
    Some(out)
}

/// The calls to walk, as a bit set over the first 64 items, and whether later items hold calls
/// (always walked). A call is not walked when the macro proved it isolated,
/// when its callee is opaque, or when its summary shares no bit with the other declarations
/// of the body: no conflict can involve it. Only bodies with at most `SUMMARY_CALLS` such
/// calls are prefiltered with summaries (the test is quadratic in calls).
const fn calls_to_walk(m: &Manifest) -> (u64, bool) {
    let data = m.data;
    let n = m.len;
    let mut walks = 0u64;
    let mut beyond = false;
    let mut calls = 0;
    let mut only = 0;
    let mut k = 0;
    while k < n {
        let flags = data[k * ITEM_WORDS];
        if flags & 3 == CALL && flags & ISOLATED == 0 && !m.calls[data[k * ITEM_WORDS + 3] as usize].opaque {
            calls += 1;
            only = k;
            if k < 64 {
                walks |= 1u64 << k;
            } else {
                beyond = true;
            }
        }
        k += 1;
    }
    if calls == 0 {
        return (0, false);
    }
    if beyond || calls > SUMMARY_CALLS {
        return (walks, beyond);
    }
    if calls == 1 {
        // The common case (and the long chain): test the call's summary at the bits of the
        // body's own names only.
        if data[only * ITEM_WORDS] & LOOPED != 0 {
            return (walks, false);
        }
        let summary = &m.calls[data[only * ITEM_WORDS + 3] as usize].summary;
        let mut k = 0;
        while k < m.leaves.len() {
            let h = m.leaves[k];
            let a = ((h >> 50) & BLOOM_MASK) as usize;
            let b = ((h >> 22) & BLOOM_MASK) as usize;
            if summary[a >> 6] & (1 << (a & 63)) != 0 && summary[b >> 6] & (1 << (b & 63)) != 0 {
                return (walks, false);
            }
            k += 1;
        }
        return (0, false);
    }
    // The names the body declares itself.
    let mut own = [0u64; SUMMARY_WORDS];
    k = 0;
    while k < m.leaves.len() {
        let h = m.leaves[k];
        let a = ((h >> 50) & BLOOM_MASK) as usize;
        let b = ((h >> 22) & BLOOM_MASK) as usize;
        own[a >> 6] |= 1 << (a & 63);
        own[b >> 6] |= 1 << (b & 63);
        k += 1;
    }
    // A call clashes when a word where its summary has bits shares one with the others'.
    let candidates = walks;
    let mut j = 0;
    while j < n && j < 64 {
        if candidates & (1u64 << j) != 0 && data[j * ITEM_WORDS] & LOOPED == 0 {
            let callee = m.calls[data[j * ITEM_WORDS + 3] as usize];
            let mut clash = false;
            let mut q = 0;
            while q < OCCUPIED_WORDS && !clash {
                let mut mask = callee.occupied[q];
                while mask != 0 && !clash {
                    let w = q * 64 + mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    let mut others = own[w];
                    let mut c = 0;
                    while c < n && c < 64 {
                        if c != j && candidates & (1u64 << c) != 0 {
                            others |= m.calls[data[c * ITEM_WORDS + 3] as usize].summary[w];
                        }
                        c += 1;
                    }
                    clash = callee.summary[w] & others != 0;
                }
                q += 1;
            }
            if !clash {
                walks &= !(1u64 << j);
            }
        }
        j += 1;
    }
    (walks, false)
}

const fn on_stack<const S: usize, const D: usize, const B: usize>(st: &State<S, D, B>, id: u64) -> bool {
    if st.on_stack[(id as usize) % B] == 0 {
        return false;
    }
    let mut k = 0;
    while k < st.depth {
        if st.stack[k].m.id == id {
            return true;
        }
        k += 1;
    }
    false
}

/// Walks the variables that call item `j` creates; returns the first problem (`Some(None)`
/// when messages are not wanted).
const fn walk_call<const S: usize, const D: usize, const B: usize>(
    st: &mut State<S, D, B>,
    m: &Manifest,
    j: usize,
    model: &str,
) -> Option<Option<Buf>> {
    let looped = m.flag(j, LOOPED) && matches!(m.mode(j), Mode::Create);
    while st.depth > 0 {
        let top = st.depth - 1;
        let f = &mut st.stack[top];
        let cm = f.m;
        let k = f.next;
        if k >= cm.len {
            let id = cm.id;
            st.depth -= 1;
            st.on_stack[(id as usize) % B] -= 1;
            continue;
        }
        f.next += 1;
        // The hot loop reads the item's words directly (each call costs in const evaluation).
        let base = k * ITEM_WORDS;
        let flags = cm.data[base];
        if flags & (DYNAMIC | COND) != 0 {
            continue;
        }
        // Reuse is inherited: an item in create mode takes the frame's mode.
        let bits = (flags >> 2) & 3;
        let mode = if bits == 0 { f.mode } else { Mode::from_bits(bits) };
        if !mode.declares() {
            continue;
        }
        let hash = f.hash.wrapping_mul(cm.data[base + 2]).wrapping_add(cm.data[base + 1]);
        if flags & 3 == VAR {
            if looped && matches!(mode, Mode::Create) {
                if !st.messages {
                    return Some(None);
                }
                let mut buf = Buf::new();
                buf.push("model call ");
                site(&mut buf, m, j);
                buf.push(" in ");
                buf.push(model);
                buf.push(" repeats in a loop that runs at least twice, in a non-reuse scope, but it creates `");
                push_path(&mut buf, m, j, st);
                buf.push("`: the second iteration fails with `already exists`; open a scope per iteration (`scope!(cx, format!(\"layer{i}\") { .. })`) or use `auto_reuse`");
                return Some(Some(buf));
            }
            let full = hash.wrapping_mul(PATH_MUL).wrapping_add(cm.data[base + 3]);
            if st.bloom & (1u64 << (full >> 58)) == 0 && !st.insert {
                // Nothing recorded can match, and nothing is to be recorded: `entry`'s first test.
                continue;
            }
            let i = entry(st, m, full, mode, j, cm, k);
            if st.overflow {
                return None;
            }
            if i == EMPTY - 1 {
                return Some(if st.messages { Some(too_many(m, j, model)) } else { None });
            } else if i != EMPTY {
                if !st.messages {
                    return Some(None);
                }
                if st.mismatch {
                    return Some(Some(mismatched(m, i as usize, j, st, cm, k, model)));
                }
                return Some(Some(duplicate(m, i as usize, j, st, model)));
            }
        } else if flags & 3 == CALL && (cm.data[base + 3] as usize) < cm.calls.len() {
            let callee = cm.calls[cm.data[base + 3] as usize];
            if callee.opaque || on_stack(st, callee.id) || (st.prune && !holds(m.prefixes, hash)) {
                // A recursive call creates the same names again at a deeper path, which the
                // runtime checks; following it would never end. A pruned callee cannot meet
                // the body's variables.
                continue;
            }
            if st.depth == D {
                if !st.big {
                    st.overflow = true;
                    return None;
                }
                if !st.messages {
                    return Some(None);
                }
                let mut buf = Buf::new();
                buf.push("model calls nest more than 512 deep below ");
                site(&mut buf, m, j);
                buf.push(" in ");
                buf.push(model);
                buf.push(", too deep for the compile-time check; flatten the nesting, or mark the call with `opaque!(..)` to leave it to the runtime");
                return Some(Some(buf));
            }
            let pow = st.stack[top].pow.wrapping_mul(cm.data[base + 2]);
            st.stack[st.depth] = Frame { m: callee, next: 0, hash, pow, mode };
            st.depth += 1;
            st.on_stack[(callee.id as usize) % B] += 1;
        }
    }
    None
}
