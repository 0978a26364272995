//! The `.index` file of a V2 checkpoint: an immutable LevelDB-format table
//! (`tensorflow/core/lib/io/table_builder.cc`, `block_builder.cc`, `format.cc`) with TF's options:
//! no compression, 256 KiB blocks, a full key every 16 entries in data blocks and every entry in
//! the index block, no filter block, masked CRC32C on every block.
//!
//! The reader checks every bound before it slices or allocates, so a hostile file gives a
//! [`CheckpointError::Corrupt`] naming it, never a panic.

use crate::crc;

use super::error::CheckpointError;

/// TF's `kTableMagicNumber`, stored as fixed64 little-endian at the end of the footer.
const MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Footer length: two block handles padded to 40 bytes, then the magic.
const FOOTER_LEN: usize = 48;
/// The type byte and masked CRC after each block.
const TRAILER_LEN: usize = 5;
/// `TableOptions::block_size` as `BundleWriter` sets it.
const BLOCK_SIZE: usize = 256 * 1024;
/// `block_restart_interval` of data blocks.
const RESTART_INTERVAL: usize = 16;

/// Appends `v` as a base-128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint of at most `max_bytes` bytes (5 for 32-bit, 10 for 64-bit values) at `*pos`.
pub(crate) fn get_varint(buf: &[u8], pos: &mut usize, max_bytes: usize) -> Option<u64> {
    let mut v: u64 = 0;
    for i in 0..max_bytes {
        let b = *buf.get(*pos)?;
        *pos += 1;
        let bits = u64::from(b & 0x7f);
        if i == 9 && bits > 1 {
            return None; // more than 64 bits
        }
        v |= bits << (7 * i);
        if b & 0x80 == 0 {
            if max_bytes == 5 && v > u64::from(u32::MAX) {
                return None;
            }
            return Some(v);
        }
    }
    None
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// One table entry: key and value bytes.
pub(crate) type KeyValue = (Vec<u8>, Vec<u8>);

/// One block being built (`BlockBuilder`).
struct BlockBuilder {
    buffer: Vec<u8>,
    restarts: Vec<u32>,
    counter: usize,
    interval: usize,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    fn new(interval: usize) -> BlockBuilder {
        BlockBuilder { buffer: Vec::new(), restarts: vec![0], counter: 0, interval, last_key: Vec::new() }
    }

    fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.counter < self.interval {
            self.last_key.iter().zip(key).take_while(|(a, b)| a == b).count()
        } else {
            self.restarts.push(self.buffer.len() as u32);
            self.counter = 0;
            0
        };
        put_varint(&mut self.buffer, shared as u64);
        put_varint(&mut self.buffer, (key.len() - shared) as u64);
        put_varint(&mut self.buffer, value.len() as u64);
        self.buffer.extend_from_slice(&key[shared..]);
        self.buffer.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.counter += 1;
    }

    fn size_estimate(&self) -> usize {
        self.buffer.len() + 4 * self.restarts.len() + 4
    }

    fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// The finished block's bytes; the builder starts over.
    fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buffer);
        for r in &self.restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.restarts = vec![0];
        self.counter = 0;
        self.last_key.clear();
        out
    }
}

/// `BytewiseComparator::FindShortestSeparator`: a short key in `[start, limit)`.
fn shortest_separator(start: &mut Vec<u8>, limit: &[u8]) {
    let diff = start.iter().zip(limit).take_while(|(a, b)| a == b).count();
    if diff >= start.len().min(limit.len()) {
        return;
    }
    let byte = start[diff];
    if byte < 0xff && byte + 1 < limit[diff] {
        start[diff] += 1;
        start.truncate(diff + 1);
    }
}

/// `BytewiseComparator::FindShortSuccessor`: a short key `>= key`.
fn short_successor(key: &mut Vec<u8>) {
    if let Some(i) = key.iter().position(|&b| b != 0xff) {
        key[i] += 1;
        key.truncate(i + 1);
    }
}

/// Builds a table in memory from keys added in strictly increasing order (`TableBuilder`).
pub(crate) struct TableBuilder {
    out: Vec<u8>,
    data: BlockBuilder,
    index: BlockBuilder,
    last_key: Vec<u8>,
    /// The handle of a flushed data block whose index entry waits for the next key.
    pending: Option<(u64, u64)>,
    entries: usize,
}

impl TableBuilder {
    pub(crate) fn new() -> TableBuilder {
        TableBuilder {
            out: Vec::new(),
            data: BlockBuilder::new(RESTART_INTERVAL),
            index: BlockBuilder::new(1),
            last_key: Vec::new(),
            pending: None,
            entries: 0,
        }
    }

    /// Adds an entry; `key` must sort after every key added before.
    pub(crate) fn add(&mut self, key: &[u8], value: &[u8]) {
        debug_assert!(self.entries == 0 || key > &self.last_key[..], "keys must be added in increasing order");
        if let Some(handle) = self.pending.take() {
            let mut sep = self.last_key.clone();
            shortest_separator(&mut sep, key);
            self.index.add(&sep, &handle_bytes(handle));
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.entries += 1;
        self.data.add(key, value);
        if self.data.size_estimate() >= BLOCK_SIZE {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.data.is_empty() {
            return;
        }
        let block = self.data.finish();
        self.pending = Some(self.write_block(&block));
    }

    fn write_block(&mut self, block: &[u8]) -> (u64, u64) {
        let handle = (self.out.len() as u64, block.len() as u64);
        self.out.extend_from_slice(block);
        let crc = crc::extend(crc::crc32c(block), &[0]);
        self.out.push(0);
        self.out.extend_from_slice(&crc::mask(crc).to_le_bytes());
        handle
    }

    /// The finished table's bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.flush();
        let meta = BlockBuilder::new(RESTART_INTERVAL).finish();
        let meta_handle = self.write_block(&meta);
        if let Some(handle) = self.pending.take() {
            let mut succ = self.last_key.clone();
            short_successor(&mut succ);
            self.index.add(&succ, &handle_bytes(handle));
        }
        let index = self.index.finish();
        let index_handle = self.write_block(&index);
        let mut footer = Vec::with_capacity(FOOTER_LEN);
        for (off, size) in [meta_handle, index_handle] {
            put_varint(&mut footer, off);
            put_varint(&mut footer, size);
        }
        footer.resize(FOOTER_LEN - 8, 0);
        footer.extend_from_slice(&MAGIC.to_le_bytes());
        self.out.extend_from_slice(&footer);
        self.out
    }
}

fn handle_bytes((offset, size): (u64, u64)) -> Vec<u8> {
    let mut v = Vec::with_capacity(20);
    put_varint(&mut v, offset);
    put_varint(&mut v, size);
    v
}

/// Reads every entry of a table, checking the footer, every block's CRC, the block layout and
/// that keys strictly increase. `path` names the file in errors.
pub(crate) fn read_table(path: &str, file: &[u8]) -> Result<Vec<KeyValue>, CheckpointError> {
    let bad = |reason: String| CheckpointError::corrupt(path, None, reason);
    if file.len() < FOOTER_LEN {
        return Err(bad(format!("{} bytes is too short for a table footer ({FOOTER_LEN} bytes)", file.len())));
    }
    let body_len = file.len() - FOOTER_LEN;
    let footer = &file[body_len..];
    let magic = u64::from_le_bytes(footer[40..48].try_into().expect("8 bytes"));
    if magic != MAGIC {
        return Err(bad(format!("bad table magic {magic:#018x} (not a checkpoint .index file?)")));
    }
    let mut pos = 0;
    let mut handle = |what: &str| -> Result<(usize, usize), CheckpointError> {
        let off = get_varint(footer, &mut pos, 10);
        let size = get_varint(footer, &mut pos, 10);
        match (off, size) {
            (Some(o), Some(s)) if pos <= 40 => Ok((o as usize, s as usize)),
            _ => Err(bad(format!("bad {what} block handle in the footer"))),
        }
    };
    let meta = handle("metaindex")?;
    let index = handle("index")?;
    let body = &file[..body_len];
    read_block(path, body, meta, "metaindex")?;
    let index_block = read_block(path, body, index, "index")?;
    let mut out: Vec<KeyValue> = Vec::new();
    for (_, h) in block_entries(path, &index_block, "index")? {
        let mut p = 0;
        let (Some(off), Some(size)) = (get_varint(&h, &mut p, 10), get_varint(&h, &mut p, 10)) else {
            return Err(bad("bad block handle in the index block".into()));
        };
        let block = read_block(path, body, (off as usize, size as usize), "data")?;
        for (k, v) in block_entries(path, &block, "data")? {
            if let Some((last, _)) = out.last()
                && k <= *last
            {
                return Err(bad(format!("keys out of order at offset {off}")));
            }
            out.push((k, v));
        }
    }
    Ok(out)
}

/// One block's contents, its trailer checked.
fn read_block(path: &str, body: &[u8], (off, size): (usize, usize), what: &str) -> Result<Vec<u8>, CheckpointError> {
    let bad = |reason: String| CheckpointError::corrupt(path, None, reason);
    let end = off.checked_add(size).and_then(|e| e.checked_add(TRAILER_LEN));
    let Some(end) = end.filter(|&e| e <= body.len()) else {
        return Err(bad(format!(
            "{what} block at offset {off} of {size} bytes runs past the end of the table ({} bytes)",
            body.len()
        )));
    };
    let contents = &body[off..off + size];
    let kind = body[off + size];
    let stored = u32_at(body, off + size + 1).expect("bounds checked");
    let actual = crc::extend(crc::crc32c(contents), &[kind]);
    if crc::unmask(stored) != actual {
        return Err(bad(format!("{what} block at offset {off}: CRC32C mismatch (stored {stored:#010x})")));
    }
    let _ = end;
    match kind {
        0 => Ok(contents.to_vec()),
        1 => super::snappy::decompress(contents)
            .ok_or_else(|| bad(format!("{what} block at offset {off}: bad snappy-compressed contents"))),
        k => Err(bad(format!("{what} block at offset {off}: unknown compression type {k}"))),
    }
}

/// The entries of one block.
fn block_entries(path: &str, block: &[u8], what: &str) -> Result<Vec<KeyValue>, CheckpointError> {
    let bad = |reason: &str| CheckpointError::corrupt(path, None, format!("{what} block: {reason}"));
    let n = block.len().checked_sub(4).and_then(|at| u32_at(block, at)).ok_or_else(|| bad("shorter than 4 bytes"))?;
    let restarts_at = (n as usize)
        .checked_mul(4)
        .and_then(|r| block.len().checked_sub(4 + r))
        .ok_or_else(|| bad("restart count larger than the block"))?;
    if n == 0 && restarts_at > 0 {
        return Err(bad("entries without a restart point"));
    }
    let mut out = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    let mut pos = 0;
    let entries = &block[..restarts_at];
    while pos < entries.len() {
        let (Some(shared), Some(non_shared), Some(vlen)) =
            (get_varint(entries, &mut pos, 5), get_varint(entries, &mut pos, 5), get_varint(entries, &mut pos, 5))
        else {
            return Err(bad("bad entry header varint"));
        };
        let (shared, non_shared, vlen) = (shared as usize, non_shared as usize, vlen as usize);
        if shared > key.len() {
            return Err(bad("entry shares more bytes than the previous key has"));
        }
        let kend =
            pos.checked_add(non_shared).filter(|&e| e <= entries.len()).ok_or_else(|| bad("key past the end"))?;
        let vend = kend.checked_add(vlen).filter(|&e| e <= entries.len()).ok_or_else(|| bad("value past the end"))?;
        key.truncate(shared);
        key.extend_from_slice(&entries[pos..kend]);
        out.push((key.clone(), entries[kend..vend].to_vec()));
        pos = vend;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_follow_the_bytewise_comparator() {
        let mut k = b"abcd".to_vec();
        shortest_separator(&mut k, b"abzz");
        assert_eq!(k, b"abd");
        let mut k = b"abc".to_vec();
        shortest_separator(&mut k, b"abd");
        assert_eq!(k, b"abc", "no room between c and d");
        let mut k = b"w".to_vec();
        short_successor(&mut k);
        assert_eq!(k, b"x");
        let mut k = vec![0xff, 0xff, 3, 7];
        short_successor(&mut k);
        assert_eq!(k, [0xff, 0xff, 4]);
    }

    #[test]
    fn many_entries_span_several_blocks_and_read_back() {
        let mut t = TableBuilder::new();
        let value = vec![7u8; 1000];
        let keys: Vec<Vec<u8>> = (0..700).map(|i| format!("key/{i:05}").into_bytes()).collect();
        for k in &keys {
            t.add(k, &value);
        }
        let bytes = t.finish();
        assert!(bytes.len() > 2 * BLOCK_SIZE, "three data blocks at least");
        let back = read_table("t", &bytes).unwrap();
        assert_eq!(back.len(), keys.len());
        assert!(back.iter().zip(&keys).all(|((k, v), want)| k == want && v == &value));
    }

    #[test]
    fn varints_refuse_overlong_and_truncated_input() {
        let mut pos = 0;
        assert_eq!(get_varint(&[0x80, 0x80, 0x80, 0x80, 0x10], &mut pos, 5), None, "over 32 bits");
        pos = 0;
        assert_eq!(get_varint(&[0xff; 11], &mut pos, 10), None);
        pos = 0;
        assert_eq!(get_varint(&[0x80], &mut pos, 10), None);
        pos = 0;
        assert_eq!(get_varint(&[0xac, 0x02], &mut pos, 5), Some(300));
    }
}
