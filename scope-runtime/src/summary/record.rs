//! TFRecord framing (`tensorflow/core/lib/io/record_writer.cc`), all little-endian:
//! `u64 length | u32 masked_crc32c(length bytes) | data | u32 masked_crc32c(data)`,
//! with no file header or footer.

use crate::crc::masked_crc32c;
use crate::error::{Error, Result};

/// Bytes of framing around each record's data: the length, its CRC and the data's CRC.
pub const FRAMING_BYTES: usize = 16;

/// Frames `data` as one TFRecord.
///
/// ```
/// use varscope::summary::{FRAMING_BYTES, frame_record, read_records};
///
/// let bytes = frame_record(b"hello");
/// assert_eq!(bytes.len(), 5 + FRAMING_BYTES);
/// assert_eq!(read_records(&bytes)?.records, [b"hello".to_vec()]);
/// # Ok::<(), varscope::Error>(())
/// ```
pub fn frame_record(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + FRAMING_BYTES);
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    out
}

/// The records of a TFRecord file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records {
    /// Each complete record's data, in file order.
    pub records: Vec<Vec<u8>>,
    /// The byte offset of an incomplete last record (a writer stopped while writing it), if
    /// any; TensorBoard reads the complete records before it, as this reader does.
    pub truncated_at: Option<usize>,
}

/// Splits `bytes` into records, checking both CRCs of each. A last record cut short is
/// reported in [`Records::truncated_at`]; a CRC that does not match is an error naming the
/// record and its offset.
pub fn read_records(bytes: &[u8]) -> Result<Records> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some(head) = bytes.get(at..at + 12) else {
            return Ok(Records { records, truncated_at: Some(at) });
        };
        let (len_bytes, len_crc) = head.split_at(8);
        let stored = u32::from_le_bytes([len_crc[0], len_crc[1], len_crc[2], len_crc[3]]);
        if masked_crc32c(len_bytes) != stored {
            return Err(corrupt(records.len(), at, "the CRC of its length does not match"));
        }
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap_or([0; 8]));
        let end = usize::try_from(len).ok().and_then(|n| n.checked_add(at + FRAMING_BYTES));
        let Some(record) = end.and_then(|end| bytes.get(at + 12..end)) else {
            return Ok(Records { records, truncated_at: Some(at) });
        };
        let (data, crc) = record.split_at(record.len() - 4);
        if masked_crc32c(data) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(corrupt(records.len(), at, "the CRC of its data does not match"));
        }
        records.push(data.to_vec());
        at += record.len() + 12;
    }
    Ok(Records { records, truncated_at: None })
}

fn corrupt(index: usize, at: usize, what: &str) -> Error {
    Error::invalid(format!(
        "record {index} (at byte {at}) of the TFRecord file is corrupt: {what}; the file was changed after it was \
         written, or is not a TFRecord file"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_matches_tensorflows_loss_record() {
        // FORMAT-NOTES 2.1: a 26-byte `loss` event's length and its masked CRC.
        let framed = frame_record(&[0u8; 26]);
        assert_eq!(&framed[..12], &[0x1a, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x9b, 0xd8, 0x2d]);
    }

    #[test]
    fn flipped_bits_and_short_files_are_reported() {
        let mut bytes = frame_record(b"abc");
        bytes.extend(frame_record(b"defg"));
        let whole = read_records(&bytes).unwrap();
        assert_eq!(whole.records, [b"abc".to_vec(), b"defg".to_vec()]);
        assert_eq!(read_records(&bytes[..19]).unwrap(), Records { records: vec![b"abc".to_vec()], truncated_at: None });
        for cut in 20..bytes.len() {
            let part = read_records(&bytes[..cut]).unwrap();
            assert_eq!(part.records, [b"abc".to_vec()], "cut at {cut}");
            assert_eq!(part.truncated_at, Some(19));
        }
        let mut bad = bytes.clone();
        bad[13] ^= 1;
        let err = read_records(&bad).unwrap_err().to_string();
        assert!(err.contains("record 0 (at byte 0)") && err.contains("data"), "{err}");
        let mut bad = bytes;
        bad[19] ^= 1;
        let err = read_records(&bad).unwrap_err().to_string();
        assert!(err.contains("record 1 (at byte 19)") && err.contains("length"), "{err}");
    }
}
