//! Slices of partitioned tensors: TF's `TensorSlice` (start and length per dimension), its
//! `TensorSliceProto`, and the binary key each slice is stored under
//! (`checkpoint::EncodeTensorNameSlice`, `tensorflow/core/util/saved_tensor_slice_util.cc`), which
//! is written in OrderedCode (`tensorflow/core/lib/strings/ordered_code.cc`).

use crate::proto::bundle::TensorSliceProto;
use crate::proto::bundle::tensor_slice_proto::{Extent, extent::HasLength};

/// One part of a partitioned tensor: per dimension, the first index and the number of indices.
///
/// ```
/// use varscope::checkpoint::TensorSlice;
/// // Rows 2..4 of a [6, 4] tensor, as `save_slice_info.spec` "6 4 2,2:0,4" says.
/// let s = TensorSlice::new(vec![(2, 2), (0, 4)]);
/// assert_eq!(s.spec(&[6, 4]), "6 4 2,2:0,4");
/// assert_eq!(s.shape(), vec![2, 4]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorSlice {
    extents: Vec<(usize, usize)>,
}

impl TensorSlice {
    /// A slice from `(start, length)` per dimension.
    pub fn new(extents: Vec<(usize, usize)>) -> TensorSlice {
        TensorSlice { extents }
    }

    /// `(start, length)` per dimension.
    pub fn extents(&self) -> &[(usize, usize)] {
        &self.extents
    }

    /// The shape of the part.
    pub fn shape(&self) -> Vec<usize> {
        self.extents.iter().map(|&(_, l)| l).collect()
    }

    /// TF's `save_slice_info.spec`: the full shape, then `start,length` per dimension.
    pub fn spec(&self, full_shape: &[usize]) -> String {
        let full: Vec<String> = full_shape.iter().map(usize::to_string).collect();
        let ext: Vec<String> = self.extents.iter().map(|(s, l)| format!("{s},{l}")).collect();
        format!("{} {}", full.join(" "), ext.join(":"))
    }

    /// Whether the slice lies inside `full_shape`.
    pub(crate) fn fits(&self, full_shape: &[usize]) -> bool {
        self.extents.len() == full_shape.len()
            && self.extents.iter().zip(full_shape).all(|(&(s, l), &d)| s.checked_add(l).is_some_and(|e| e <= d))
    }

    /// Whether two slices share an element.
    pub(crate) fn overlaps(&self, other: &TensorSlice) -> bool {
        self.extents.iter().zip(&other.extents).all(|(&(s1, l1), &(s2, l2))| s1 < s2 + l2 && s2 < s1 + l1)
    }

    pub(crate) fn to_proto(&self) -> TensorSliceProto {
        TensorSliceProto {
            extent: self
                .extents
                .iter()
                .map(|&(s, l)| Extent { start: s as i64, has_length: Some(HasLength::Length(l as i64)) })
                .collect(),
        }
    }

    /// The slice of a proto, given the full shape (an extent without a length is the whole
    /// dimension); `None` if it does not lie inside the shape.
    pub(crate) fn from_proto(p: &TensorSliceProto, full_shape: &[usize]) -> Option<TensorSlice> {
        if p.extent.len() != full_shape.len() {
            return None;
        }
        let extents = p
            .extent
            .iter()
            .zip(full_shape)
            .map(|(e, &d)| {
                let start = usize::try_from(e.start).ok()?;
                let len = match e.has_length {
                    Some(HasLength::Length(l)) => usize::try_from(l).ok()?,
                    None => d.checked_sub(start)?,
                };
                Some((start, len))
            })
            .collect::<Option<Vec<_>>>()?;
        let s = TensorSlice { extents };
        s.fits(full_shape).then_some(s)
    }

    /// The key this slice of `name` is stored under (`EncodeTensorNameSlice`).
    pub(crate) fn key(&self, name: &str) -> Vec<u8> {
        let mut out = vec![0u8]; // WriteNumIncreasing(0)
        for &b in name.as_bytes() {
            match b {
                0x00 => out.extend_from_slice(&[0x00, 0xff]),
                0xff => out.extend_from_slice(&[0xff, 0x00]),
                b => out.push(b),
            }
        }
        out.extend_from_slice(&[0x00, 0x01]);
        write_num_increasing(&mut out, self.extents.len() as u64);
        for &(s, l) in &self.extents {
            write_signed_num_increasing(&mut out, s as i64);
            write_signed_num_increasing(&mut out, l as i64);
        }
        out
    }
}

/// Decodes a slice key into the tensor's name and the raw `(start, length)` pairs (length -1 is
/// the whole dimension); `None` if `key` is not a well-formed slice key.
pub(crate) fn decode_key(key: &[u8]) -> Option<(String, Vec<(i64, i64)>)> {
    let mut pos = 0;
    if read_num_increasing(key, &mut pos)? != 0 {
        return None;
    }
    let mut name = Vec::new();
    loop {
        match (*key.get(pos)?, key.get(pos + 1).copied()) {
            (0x00, Some(0x01)) => break,
            (0x00, Some(0xff)) => name.push(0x00),
            (0xff, Some(0x00)) => name.push(0xff),
            (0x00 | 0xff, _) => return None,
            (b, _) => {
                name.push(b);
                pos += 1;
                continue;
            }
        }
        pos += 2;
    }
    pos += 2;
    let rank = read_num_increasing(key, &mut pos)?;
    if rank > 64 {
        return None;
    }
    let mut extents = Vec::new();
    for _ in 0..rank {
        let s = read_signed_num_increasing(key, &mut pos)?;
        let l = read_signed_num_increasing(key, &mut pos)?;
        extents.push((s, l));
    }
    (pos == key.len()).then_some((String::from_utf8(name).ok()?, extents))
}

fn write_num_increasing(out: &mut Vec<u8>, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push((8 - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

fn read_num_increasing(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let n = usize::from(*buf.get(*pos)?);
    if n > 8 {
        return None;
    }
    let bytes = buf.get(*pos + 1..*pos + 1 + n)?;
    *pos += 1 + n;
    Some(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// `kLengthToHeaderBits`: the header of an n-byte signed number.
const HEADER_BITS: [[u8; 2]; 11] = [
    [0, 0],
    [0x80, 0],
    [0xc0, 0],
    [0xe0, 0],
    [0xf0, 0],
    [0xf8, 0],
    [0xfc, 0],
    [0xfe, 0],
    [0xff, 0],
    [0xff, 0x80],
    [0xff, 0xc0],
];

fn write_signed_num_increasing(out: &mut Vec<u8>, val: i64) {
    let x = if val < 0 { !val } else { val } as u64;
    if x < 64 {
        out.push(0x80 ^ (val as u8));
        return;
    }
    // kBitsToLength[bits]: 7 bits of payload per byte, the header taking one bit per byte.
    let bits = 64 - x.leading_zeros() as usize + 1; // with the sign bit
    let n = bits.div_ceil(7).max(1);
    let mut buf = [0u8; 10];
    buf[2..].copy_from_slice(&val.to_be_bytes());
    if val < 0 {
        buf[0] = 0xff;
        buf[1] = 0xff;
    }
    let begin = &mut buf[10 - n..];
    begin[0] ^= HEADER_BITS[n][0];
    begin[1] ^= HEADER_BITS[n][1];
    out.extend_from_slice(begin);
}

fn read_signed_num_increasing(buf: &[u8], pos: &mut usize) -> Option<i64> {
    let b0 = *buf.get(*pos)?;
    let mask = if b0 & 0x80 != 0 { 0 } else { 0xff };
    let b1 = buf.get(*pos + 1).map_or(0, |b| b ^ mask);
    let n = ((u16::from(b0 ^ mask) << 8) | u16::from(b1)).leading_ones() as usize;
    if !(1..=10).contains(&n) {
        return None;
    }
    let chunk = buf.get(*pos..*pos + n)?;
    let mut v: i128 = if mask == 0xff { -1 } else { 0 };
    for (i, &b) in chunk.iter().enumerate() {
        let h = if i < 2 { HEADER_BITS[n][i] } else { 0 };
        v = (v << 8) | i128::from(b ^ h);
    }
    let v = i64::try_from(v).ok()?;
    let mut again = Vec::new();
    write_signed_num_increasing(&mut again, v);
    if again != chunk {
        return None;
    }
    *pos += n;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_signed_num_increasing(&mut out, v);
        out
    }

    #[test]
    fn signed_numbers_encode_as_ordered_code_does() {
        // FORMAT-NOTES 1.4 and ordered_code_test.cc.
        assert_eq!(signed(0), [0x80]);
        assert_eq!(signed(2), [0x82]);
        assert_eq!(signed(-1), [0x7f]);
        assert_eq!(signed(64), [0xc0, 0x40]);
        assert_eq!(signed(10000), [0xe0, 0x27, 0x10]);
        assert_eq!(signed(-65), [0x3f, 0xbf]);
        assert_eq!(signed(i64::MAX), [0xff, 0xc0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(signed(i64::MIN), [0x00, 0x3f, 0x80, 0, 0, 0, 0, 0, 0, 0]);
        for v in [0, 1, -1, 63, 64, -64, -65, 8191, 8192, -8193, 1 << 40, -(1 << 40), i64::MAX, i64::MIN] {
            let enc = signed(v);
            let mut pos = 0;
            assert_eq!(read_signed_num_increasing(&enc, &mut pos), Some(v), "{v}");
            assert_eq!(pos, enc.len());
        }
        // The encoding sorts as the numbers do.
        let mut vals = vec![-70000i64, -65, -64, -1, 0, 1, 63, 64, 70000, i64::MAX, i64::MIN];
        let mut encs: Vec<Vec<u8>> = vals.iter().map(|&v| signed(v)).collect();
        vals.sort();
        encs.sort();
        assert_eq!(encs, vals.iter().map(|&v| signed(v)).collect::<Vec<_>>());
    }

    #[test]
    fn a_slice_key_is_the_fixtures_key() {
        let key = TensorSlice::new(vec![(2, 2), (0, 4)]).key("part/v");
        assert_eq!(key, b"\x00part/v\x00\x01\x01\x02\x82\x82\x80\x84");
        assert_eq!(decode_key(&key), Some(("part/v".to_string(), vec![(2, 2), (0, 4)])));
        let odd = TensorSlice::new(vec![(100000, 3)]).key("a\u{0}b\u{ff}");
        assert_eq!(decode_key(&odd), Some(("a\u{0}b\u{ff}".to_string(), vec![(100000, 3)])));
        assert_eq!(decode_key(b"plain"), None);
        assert_eq!(decode_key(&key[..key.len() - 1]), None);
    }
}
