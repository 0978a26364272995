// Used by the checkpoint and event formats as they land; remove this allow when both use it.
#![allow(dead_code)]
//! CRC32C as TensorFlow frames its files: the LevelDB-style table of a V2 checkpoint's `.index`
//! and the TFRecords of an event file both store a *masked* CRC32C (`crc32c.h`: "it is
//! problematic to compute the CRC of a string that contains embedded CRCs"). The one
//! definition of the mask lives here.

/// TensorFlow's mask delta (`kMaskDelta` in `tensorflow/core/lib/hash/crc32c.h`).
const MASK_DELTA: u32 = 0xa282_ead8;

/// The CRC32C (Castagnoli) of `data`.
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    ::crc32c::crc32c(data)
}

/// The CRC32C of `data` continued from `crc` (the CRC of the bytes before it).
pub(crate) fn extend(crc: u32, data: &[u8]) -> u32 {
    ::crc32c::crc32c_append(crc, data)
}

/// Masks a CRC for storage: rotate right by 15 bits, then add the delta.
pub(crate) fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// Inverts [`mask`].
pub(crate) fn unmask(masked: u32) -> u32 {
    masked.wrapping_sub(MASK_DELTA).rotate_left(15)
}

/// The masked CRC32C of `data`, as stored beside it.
pub(crate) fn masked_crc32c(data: &[u8]) -> u32 {
    mask(crc32c(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // The CRC-32C check value of "123456789" (RFC 3720, B.4).
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(extend(crc32c(b"1234"), b"56789"), 0xe306_9283);
    }

    #[test]
    fn mask_round_trips_and_differs_from_the_crc() {
        for crc in [0u32, 1, 0xe306_9283, u32::MAX] {
            assert_eq!(unmask(mask(crc)), crc);
            assert_ne!(mask(crc), crc);
        }
        // TF's crc32c_test.cc: Mask(crc) != crc, Mask(Mask(crc)) != crc, Unmask(Mask(crc)) == crc.
        let crc = crc32c(b"foo");
        assert_ne!(mask(mask(crc)), crc);
        assert_eq!(unmask(unmask(mask(mask(crc)))), crc);
    }
}
