//! How the macro packs a body into a manifest's `data` words and `text`: the one definition
//! that `scope-macros` encodes with and [`manifest`](crate::manifest) decodes.
//!
//! `data` holds [`ITEM_WORDS`] words per item, in source order, then the
//! items' variable-length parts. A text reference is `offset << 32 | length` into `text`.
//! Per item:
//! - word 0, flags: bits 0-1 the kind ([`VAR`], [`CALL`],
//!   [`OPAQUE`]), bits 2-3 the [`Mode`] (create, reuse, auto, unknown), then one
//!   bit each for the flags below; bits 16-31 the number of scope segments, 32-47 the number of
//!   `if`/`match` arms, 48-63 the rank of a literal shape;
//! - words 1 and 2: the hash of the scope path and `PATH_MUL` to the power of its length;
//! - word 3: a variable's leaf-name hash, a call's index into `calls`, an opaque call's callee
//!   (a text reference);
//! - word 4: the call-site text (a text reference);
//! - word 5: the source line `<< 32`, then the offset of the variable-length part: one text
//!   reference per segment (bit [`SEG_DYNAMIC`] set when the segment is
//!   dynamic), one word per arm (`branch site << 32 | arm`, bit [`ARM_MUST`] set for the arms
//!   the item is bound to), then for a variable its name, its initializer and its dtype (text
//!   references, length 0 when absent) and its dimensions.

/// Words per item.
pub const ITEM_WORDS: usize = 6;
/// Kind: a variable declaration.
pub const VAR: u64 = 0;
/// Kind: a call into another model.
pub const CALL: u64 = 1;
/// Kind: a call the checks do not follow.
pub const OPAQUE: u64 = 2;
/// Flag: the path or name is only known at run time.
pub const DYNAMIC: u64 = 1 << 4;
/// Flag: the item may not run (it sits in an `if`/`match` arm or a loop body).
pub const COND: u64 = 1 << 5;
/// Flag: the item repeats in a loop under a fixed path.
pub const LOOPED: u64 = 1 << 6;
/// Flag: the variable's leaf name is only known at run time.
pub const DYNAMIC_NAME: u64 = 1 << 7;
/// Flag: the call is to the model itself.
pub const SELF_CALL: u64 = 1 << 8;
/// Flag: `trainable` is given as a literal.
pub const HAS_TRAINABLE: u64 = 1 << 9;
/// Flag: the literal `trainable` value.
pub const TRAINABLE: u64 = 1 << 10;
/// Flag: the shape is a literal.
pub const HAS_SHAPE: u64 = 1 << 11;
/// Flag: a call the macro proved cannot conflict with the rest of its body: not walked.
pub const ISOLATED: u64 = 1 << 12;
/// Bit of a segment's text reference that marks it dynamic.
pub const SEG_DYNAMIC: u64 = 1 << 31;
/// Bit of an arm word that marks an arm the item's effect is bound to.
pub const ARM_MUST: u64 = 1 << 31;

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

    /// Whether an earlier declaration in this mode leaves the variable existing.
    pub const fn defines(self) -> bool {
        matches!(self, Mode::Create | Mode::Auto)
    }

    /// Whether a declaration in this mode is checked at all (its shape and dtype too).
    pub const fn declares(self) -> bool {
        !matches!(self, Mode::Unknown)
    }

    /// The mode of 2-bit field `bits`.
    pub const fn from_bits(bits: u64) -> Mode {
        match bits & 3 {
            0 => Mode::Create,
            1 => Mode::Reuse,
            2 => Mode::Auto,
            _ => Mode::Unknown,
        }
    }

    /// The 2-bit field of this mode in an item's flags.
    pub const fn bits(self) -> u64 {
        match self {
            Mode::Create => 0,
            Mode::Reuse => 1,
            Mode::Auto => 2,
            Mode::Unknown => 3,
        }
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
