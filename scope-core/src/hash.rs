//! Name hashes: the macro precomputes them, const evaluation only combines integers.

/// FNV-1a offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// Multiplier that chains segment hashes into a path hash.
pub const PATH_MUL: u64 = 0x9e37_79b9_7f4a_7c15;

/// The FNV-1a hash of one name segment.
pub const fn segment(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut h = FNV_OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    h
}

/// A path hash with the power of [`PATH_MUL`] needed to append it to a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathHash {
    /// The hash of the segments so far.
    pub hash: u64,
    /// `PATH_MUL` raised to the number of segments.
    pub pow: u64,
}

impl PathHash {
    /// The hash of the empty path.
    pub const EMPTY: PathHash = PathHash { hash: 0, pow: 1 };

    /// This path with one more segment appended.
    pub const fn push(self, seg: &str) -> PathHash {
        PathHash {
            hash: self.hash.wrapping_mul(PATH_MUL).wrapping_add(segment(seg)),
            pow: self.pow.wrapping_mul(PATH_MUL),
        }
    }

    /// The hash of a variable `leaf` under this path.
    pub const fn leaf(self, leaf_hash: u64) -> u64 {
        self.hash.wrapping_mul(PATH_MUL).wrapping_add(leaf_hash)
    }
}
