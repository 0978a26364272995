//! Snappy decompression of raw blocks (`format.cc` accepts table blocks of type 1). TF's
//! `BundleWriter` never compresses, but a reader must take what a LevelDB table may hold. The
//! output never grows past the declared length, and the declared length is only trusted as far
//! as the input could possibly expand, so hostile input cannot make it allocate without bound.

use super::table::get_varint;

/// The most one input byte can expand to (a 3-byte copy of 64 bytes), rounded up.
const MAX_EXPANSION: usize = 22;

/// Decompresses a raw snappy block, or `None` if it is malformed.
pub(crate) fn decompress(input: &[u8]) -> Option<Vec<u8>> {
    let mut pos = 0;
    let len = get_varint(input, &mut pos, 5)? as usize;
    if len > input.len().saturating_mul(MAX_EXPANSION) {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    while pos < input.len() {
        let tag = input[pos];
        pos += 1;
        match tag & 3 {
            0 => {
                let mut n = usize::from(tag >> 2);
                if n >= 60 {
                    let bytes = n - 59;
                    let b = input.get(pos..pos.checked_add(bytes)?)?;
                    n = b.iter().rev().fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
                    pos += bytes;
                }
                let n = n.checked_add(1)?;
                let lit = input.get(pos..pos.checked_add(n)?)?;
                if out.len() + n > len {
                    return None;
                }
                out.extend_from_slice(lit);
                pos += n;
            }
            kind => {
                let (n, offset) = match kind {
                    1 => {
                        let b = *input.get(pos)?;
                        pos += 1;
                        (usize::from((tag >> 2) & 7) + 4, (usize::from(tag >> 5) << 8) | usize::from(b))
                    }
                    2 => {
                        let b = input.get(pos..pos + 2)?;
                        pos += 2;
                        (usize::from(tag >> 2) + 1, usize::from(u16::from_le_bytes([b[0], b[1]])))
                    }
                    _ => {
                        let b = input.get(pos..pos + 4)?;
                        pos += 4;
                        (usize::from(tag >> 2) + 1, u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    }
                };
                if offset == 0 || offset > out.len() || out.len() + n > len {
                    return None;
                }
                let start = out.len() - offset;
                for i in 0..n {
                    out.push(out[start + i]);
                }
            }
        }
    }
    (out.len() == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::decompress;

    #[test]
    fn literals_and_overlapping_copies_decode() {
        // "abcabcabcab": length 11, literal "abc", then a 1-byte-offset copy of 8 at offset 3.
        let block = [11, 2 << 2, b'a', b'b', b'c', ((8 - 4) << 2) | 1, 3];
        assert_eq!(decompress(&block).unwrap(), b"abcabcabcab");
    }

    #[test]
    fn malformed_blocks_are_refused() {
        assert_eq!(decompress(&[5, 0, b'a']), None, "shorter than declared");
        assert_eq!(decompress(&[4, 1, 9]), None, "copy before any output");
        assert_eq!(decompress(&[0xff, 0xff, 0xff, 0xff, 0x0f]), None, "declared length beyond any expansion");
        assert_eq!(decompress(&[1, 0, b'a', 0, b'b']), None, "longer than declared");
    }
}
