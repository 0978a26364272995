//! Packs a body's items into the integers and the string of a manifest static.
//!
//! `scope_core::layout` defines and documents the format (re-exported here); the runtime
//! decodes it with the same definitions.
//! One array of integer literals and one string literal per model keep the generated code
//! small: rustc type-checks and const-evaluates a handful of tokens instead of a struct
//! literal per field per item.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use proc_macro2::TokenStream;

use crate::ast::{Item, Kind, Mode};
use crate::hash::PathHash;

pub use scope_core::layout::{
    ARM_MUST, CALL, COND, DYNAMIC, DYNAMIC_NAME, HAS_SHAPE, HAS_TRAINABLE, ISOLATED, ITEM_WORDS, LOOPED, OPAQUE,
    SEG_DYNAMIC, SELF_CALL, TRAINABLE, VAR,
};

/// A packed body.
#[derive(Debug, Default)]
pub struct Encoded {
    /// The item words, then the variable-length parts.
    pub data: Vec<u64>,
    /// Every string the items refer to.
    pub text: String,
    /// The manifest paths of the models called, indexed by call items: other models first,
    /// then the model itself.
    pub calls: Vec<TokenStream>,
    /// How many of `calls` are other models.
    pub callees: usize,
    /// For each of the first `callees` calls: the callee's path and how the call is written
    /// (`helper(cx, ..)`), so that a plain fn taken for a model gets a message of its own.
    pub callee_paths: Vec<(TokenStream, String)>,
    /// The hashes of the leaf names of the variables declared statically (deduplicated).
    pub leaves: Vec<u64>,
    /// The hashes of every prefix of the scope of every variable the body creates statically
    /// (sorted, deduplicated): a callee walked under a scope outside this set cannot meet them.
    pub prefixes: Vec<u64>,
}

impl Encoded {
    /// A reference to `s` in the text (shared with an equal string stored before).
    fn text_ref(&mut self, seen: &mut HashMap<String, u64>, s: &str) -> u64 {
        if let Some(r) = seen.get(s) {
            return *r;
        }
        // Text beyond 2 GiB or a string longer than 2 GiB cannot come from a source file.
        let off = u64::try_from(self.text.len()).unwrap_or(0) & 0xffff_ffff;
        let len = u64::try_from(s.len()).unwrap_or(0) & 0x7fff_ffff;
        self.text.push_str(s);
        let r = off << 32 | len;
        seen.insert(s.to_owned(), r);
        r
    }
}

fn mode_bits(mode: Mode) -> u64 {
    mode.encoded().bits()
}

/// A count as a 16-bit field (`check::check` refuses bodies that exceed it).
fn field16(n: usize) -> u64 {
    u64::try_from(n.min(0xffff)).unwrap_or(0xffff)
}

/// Packs `items` of the body of `model`.
pub fn encode(items: &[Item], model: &str) -> Encoded {
    let mut out = Encoded::default();
    let mut seen = HashMap::new();
    let mut call_index: HashMap<String, u64> = HashMap::new();
    // Other models first, then the model itself, so that the runtime summarizes a prefix.
    let mut own_calls = Vec::new();
    // Each call's manifest path as text, computed once (token printing is costly in a proc
    // macro).
    let keys: Vec<String> = items
        .iter()
        .map(|item| match &item.kind {
            Kind::Call { manifest, .. } => manifest.to_string(),
            _ => String::new(),
        })
        .collect();
    for (item, key) in items.iter().zip(&keys) {
        if let Kind::Call { manifest, path, callee } = &item.kind {
            let key = key.clone();
            if call_index.contains_key(&key) {
                continue;
            }
            if callee == model {
                own_calls.push((key, manifest.clone()));
            } else {
                call_index.insert(key, u64::try_from(out.calls.len()).unwrap_or(u64::MAX));
                out.calls.push(manifest.clone());
                out.callee_paths.push((path.clone(), callee.clone()));
            }
        }
    }
    out.callees = out.calls.len();
    for (key, manifest) in own_calls {
        if let Entry::Vacant(slot) = call_index.entry(key) {
            slot.insert(u64::try_from(out.calls.len()).unwrap_or(u64::MAX));
            out.calls.push(manifest);
        }
    }
    let mut extra = Vec::new();
    let walk = crate::ast::calls_to_walk(items);
    let base = items.len() * ITEM_WORDS;
    for (index, item) in items.iter().enumerate() {
        let mut path = PathHash::EMPTY;
        let offset = base + extra.len();
        let creates = matches!(item.kind, Kind::Var { .. }) && !item.dynamic && item.mode.declares();
        if creates {
            out.prefixes.push(path.hash);
        }
        for (k, seg) in item.segs.iter().enumerate() {
            path = if seg.dynamic { path.push(&format!("\u{0}{model}#{index}#{k}")) } else { path.push(&seg.name) };
            if creates {
                out.prefixes.push(path.hash);
            }
            let r = out.text_ref(&mut seen, &seg.name);
            extra.push(if seg.dynamic { r | SEG_DYNAMIC } else { r });
        }
        // Every arm, those the item's effect is bound to marked: the const checker asks
        // whether an earlier item has run whenever a later one runs.
        let arms = &item.branch;
        extra.extend(arms.iter().enumerate().map(|(k, (site, arm))| {
            let must = if k < item.must { ARM_MUST } else { 0 };
            u64::from(*site) << 32 | u64::from(*arm & 0x7fff_ffff) | must
        }));
        let mut flags = mode_bits(item.mode) << 2 | field16(item.segs.len()) << 16 | field16(arms.len()) << 32;
        for (set, bit) in [(item.dynamic, DYNAMIC), (item.cond, COND), (item.looped, LOOPED)] {
            if set {
                flags |= bit;
            }
        }
        let value = match &item.kind {
            Kind::Var { name, dynamic_name, shape, dtype, init, trainable } => {
                flags |= VAR;
                if *dynamic_name {
                    flags |= DYNAMIC_NAME;
                } else {
                    out.leaves.push(crate::hash::segment(name));
                }
                if let Some(t) = trainable {
                    flags |= HAS_TRAINABLE | if *t { TRAINABLE } else { 0 };
                }
                extra.push(out.text_ref(&mut seen, name));
                extra.push(out.text_ref(&mut seen, init));
                extra.push(out.text_ref(&mut seen, dtype.as_deref().unwrap_or("")));
                if let Some(dims) = shape {
                    flags |= HAS_SHAPE | field16(dims.len()) << 48;
                    extra.extend(dims.iter().map(|d| u64::try_from(*d).unwrap_or(u64::MAX)));
                }
                crate::hash::segment(name)
            }
            Kind::Call { callee, .. } => {
                flags |= CALL;
                if callee == model {
                    flags |= SELF_CALL;
                }
                if !walk[index] {
                    flags |= ISOLATED;
                }
                call_index.get(&keys[index]).copied().unwrap_or(u64::MAX)
            }
            Kind::Opaque { callee } => {
                flags |= OPAQUE;
                out.text_ref(&mut seen, callee)
            }
        };
        let site = out.text_ref(&mut seen, &item.site);
        let offset = u64::try_from(offset).unwrap_or(0) & 0xffff_ffff;
        out.data.extend([flags, path.hash, path.pow, value, site, u64::from(item.line) << 32 | offset]);
    }
    out.data.extend(extra);
    out.prefixes.sort_unstable();
    out.prefixes.dedup();
    out.leaves.sort_unstable();
    out.leaves.dedup();
    out
}
