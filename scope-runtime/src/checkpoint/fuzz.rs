//! Fuzz tests of every reader, run by `cargo test`: at least 10,000 seeded mutations per format,
//! each of which must give `Ok` or a typed error (a panic fails the test). "Deep" mutations keep
//! the outer framing valid (CRCs recomputed, JSON kept well-formed) so they reach the inner
//! parsers; each test also asserts that both outcomes occur, so it cannot pass vacuously.

use std::path::{Path, PathBuf};

use ndarray::{ArcArray, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::bundle::{BundleReader, BundleWriter, index_path};
use super::error::CheckpointError;
use super::safetensors::{SafetensorsReader, save_safetensors};
use super::slice::{TensorSlice, decode_key};
use super::stored::StoredTensor;
use super::table::{TableBuilder, read_table};
use crate::tensor::Value;

const CASES: usize = 10_000;

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("varscope-fuzz-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn f32s(shape: &[usize], start: f32) -> StoredTensor {
    let n = shape.iter().product::<usize>();
    StoredTensor::F32(ArcArray::from_shape_vec(IxDyn(shape), (0..n).map(|i| start + i as f32).collect()).unwrap())
}

/// A bundle with whole tensors of every dtype, a partitioned one and two shards.
fn base_bundle(dir: &Path) -> PathBuf {
    let mut w = BundleWriter::new().shards(2);
    w.add("a/w", f32s(&[3, 4], 0.0)).unwrap();
    w.add("a/b", Value::from(ArcArray::from_shape_vec(IxDyn(&[2]), vec![1.5f64, -2.0]).unwrap())).unwrap();
    w.add("i", Value::from(7i32)).unwrap();
    w.add("step", StoredTensor::i64(&[], vec![1 << 40]).unwrap()).unwrap();
    w.add("mask", StoredTensor::bool(&[3], vec![true, false, true]).unwrap()).unwrap();
    for k in 0..3 {
        w.add_slice("p/v", &[6, 2], TensorSlice::new(vec![(2 * k, 2), (0, 2)]), f32s(&[2, 2], k as f32)).unwrap();
    }
    let prefix = dir.join("base");
    w.write(&prefix).unwrap();
    prefix
}

fn mutate_bytes(rng: &mut ChaCha8Rng, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        bytes.push(rng.random());
        return;
    }
    match rng.random_range(0..6) {
        0 => {
            let i = rng.random_range(0..bytes.len());
            bytes[i] ^= 1 << rng.random_range(0..8);
        }
        1 => {
            let i = rng.random_range(0..bytes.len());
            bytes[i] = rng.random();
        }
        2 => bytes.truncate(rng.random_range(0..bytes.len())),
        3 => {
            let i = rng.random_range(0..=bytes.len());
            let n = rng.random_range(1..8);
            for _ in 0..n {
                bytes.insert(i, rng.random());
            }
        }
        4 => {
            // Overwrite with a large varint (huge sizes, offsets, lengths).
            let i = rng.random_range(0..bytes.len());
            for (k, b) in [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f].into_iter().enumerate() {
                if i + k < bytes.len() {
                    bytes[i + k] = b;
                }
            }
        }
        _ => {
            let n = rng.random_range(1..4);
            for _ in 0..n {
                let i = rng.random_range(0..bytes.len());
                bytes[i] ^= rng.random::<u8>();
            }
        }
    }
    if bytes.is_empty() {
        bytes.push(0);
    }
}

/// Opens the bundle from index bytes and reads every tensor: `Ok` if all of that worked.
fn try_bundle(prefix: &str, index: &[u8]) -> Result<(), crate::Error> {
    let r = BundleReader::from_index_bytes(prefix, index)?;
    for key in r.keys().map(str::to_string).collect::<Vec<_>>() {
        r.read(&key)?;
    }
    Ok(())
}

#[test]
fn bundle_index_mutations_never_panic() {
    let dir = Dir::new("bundle");
    let prefix = base_bundle(&dir.0);
    let p = prefix.display().to_string();
    let base = std::fs::read(index_path(&p)).unwrap();
    let entries = read_table("base", &base).unwrap();
    try_bundle(&p, &base).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut ok, mut refused) = (0, 0);
    for case in 0..CASES {
        let bytes = if case % 2 == 0 {
            // Raw: any byte of the table, CRCs included.
            let mut b = base.clone();
            mutate_bytes(&mut rng, &mut b);
            b
        } else {
            // Deep: entries mutated, then a valid table around them.
            let mut es = entries.clone();
            let k = rng.random_range(0..es.len());
            if rng.random_bool(0.25) {
                mutate_bytes(&mut rng, &mut es[k].0);
            } else {
                mutate_bytes(&mut rng, &mut es[k].1);
            }
            if rng.random_bool(0.1) {
                es.remove(rng.random_range(0..es.len()));
            }
            es.sort();
            es.dedup_by(|a, b| a.0 == b.0);
            let mut t = TableBuilder::new();
            for (k, v) in &es {
                t.add(k, v);
            }
            t.finish()
        };
        match try_bundle(&p, &bytes) {
            Ok(()) => ok += 1,
            Err(crate::Error::Checkpoint(e)) => {
                refused += 1;
                let msg = e.to_string();
                let names_it = msg.contains("base") || matches!(*e, CheckpointError::Unsupported { .. });
                assert!(names_it, "the error names the file (or the key of an unsupported dtype): {msg}");
            }
            Err(other) => panic!("not a checkpoint error: {other}"),
        }
    }
    assert!(ok > 100 && refused > 1000, "ok {ok}, refused {refused}");
}

#[test]
fn every_flipped_data_byte_is_caught_by_its_tensors_crc() {
    let dir = Dir::new("data");
    let prefix = base_bundle(&dir.0);
    let p = prefix.display().to_string();
    let r = BundleReader::open(&prefix).unwrap();
    let keys: Vec<String> = r.keys().map(str::to_string).collect();
    for shard in 0..2 {
        let path = super::bundle::data_path(&p, shard, 2);
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            std::fs::write(&path, &bad).unwrap();
            let failed: Vec<&String> = keys.iter().filter(|k| r.read(k).is_err()).collect();
            assert_eq!(failed.len(), 1, "byte {i} of shard {shard}: exactly one tensor fails, got {failed:?}");
            let err = r.read(failed[0]).unwrap_err().to_string();
            assert!(err.contains("CRC32C") && err.contains(&format!("`{}`", failed[0])), "{err}");
        }
        std::fs::write(&path, &good).unwrap();
    }
}

#[test]
fn safetensors_mutations_never_panic() {
    let dir = Dir::new("st");
    let path = dir.0.join("base.safetensors");
    save_safetensors(
        &path,
        [
            ("a/w".to_string(), f32s(&[3, 4], 0.0)),
            ("step".to_string(), StoredTensor::i64(&[], vec![3]).unwrap()),
            ("mask".to_string(), StoredTensor::bool(&[2], vec![true, false]).unwrap()),
        ],
    )
    .unwrap();
    let base = std::fs::read(&path).unwrap();
    let header_len = 8 + u64::from_le_bytes(base[..8].try_into().unwrap()) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (mut ok, mut refused) = (0, 0);
    for case in 0..CASES {
        let mut bytes = base.clone();
        if case % 2 == 0 {
            mutate_bytes(&mut rng, &mut bytes);
        } else {
            // Deep: digits of the JSON header replaced, so it stays JSON but lies.
            let digits: Vec<usize> = (8..header_len).filter(|&i| bytes[i].is_ascii_digit()).collect();
            let i = digits[rng.random_range(0..digits.len())];
            let with: &[u8] = [&b"0"[..], b"9", b"99999999999", b"18446744073709551615", b"1"][rng.random_range(0..5)];
            bytes.splice(i..i + 1, with.iter().copied());
            let n = (bytes.len() - base.len()) as u64 + header_len as u64 - 8;
            bytes[..8].copy_from_slice(&n.to_le_bytes());
        }
        let len = bytes.len() as u64;
        let mut src = std::io::Cursor::new(bytes);
        let result = SafetensorsReader::from_source("m.safetensors".into(), &mut src, len).and_then(|r| {
            for k in r.keys() {
                r.read_in(k, &mut src)?;
            }
            Ok(())
        });
        match result {
            Ok(()) => ok += 1,
            Err(e) => {
                refused += 1;
                assert!(
                    matches!(
                        e,
                        CheckpointError::Corrupt { .. }
                            | CheckpointError::Io { .. }
                            | CheckpointError::Unsupported { .. }
                    ),
                    "{e}"
                );
            }
        }
    }
    assert!(ok > 100 && refused > 1000, "ok {ok}, refused {refused}");
}

#[test]
fn small_parsers_survive_random_input() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let key = TensorSlice::new(vec![(2, 2), (0, 100_000)]).key("part/v");
    let state = "model_checkpoint_path: \"model.ckpt-2\"\nall_model_checkpoint_paths: \"a\\\"b\\001\"\n".as_bytes();
    let block = [11u8, 8, b'a', b'b', b'c', 0x11, 3];
    let (mut keys_ok, mut states_ok, mut blocks_ok) = (0, 0, 0);
    for _ in 0..CASES {
        let mut k = key.clone();
        mutate_bytes(&mut rng, &mut k);
        keys_ok += usize::from(decode_key(&k).is_some());
        let mut s = state.to_vec();
        mutate_bytes(&mut rng, &mut s);
        if let Ok(text) = std::str::from_utf8(&s) {
            states_ok += usize::from(super::state::CheckpointState::parse(text).is_ok());
        }
        let mut b = block.to_vec();
        mutate_bytes(&mut rng, &mut b);
        blocks_ok += usize::from(super::snappy::decompress(&b).is_some());
        let random: Vec<u8> = (0..rng.random_range(0..64)).map(|_| rng.random()).collect();
        let _ = decode_key(&random);
        let _ = super::snappy::decompress(&random);
        let _ = read_table("random", &random);
    }
    assert!(keys_ok > 0 && keys_ok < CASES, "{keys_ok}");
    assert!(states_ok > 0 && states_ok < CASES, "{states_ok}");
    assert!(blocks_ok > 0 && blocks_ok < CASES, "{blocks_ok}");
}
