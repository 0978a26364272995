//! TensorFlow's V2 checkpoint ("tensor bundle", `tensorflow/core/util/tensor_bundle/`): a
//! `PREFIX.index` table of `BundleEntryProto`s keyed by checkpoint key, and the raw tensor bytes
//! in `PREFIX.data-NNNNN-of-NNNNN`. The writer produces the bytes `tf.compat.v1.train.Saver`
//! writes; the reader checks every CRC and every bound.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ndarray::{ArcArray, IxDyn, Slice};
use prost::Message;

use crate::crc;
use crate::proto::TensorShapeProto;
use crate::proto::VersionDef;
use crate::proto::bundle::{BundleEntryProto, BundleHeaderProto};

use super::atomic::AtomicFiles;
use super::error::CheckpointError;
use super::slice::{TensorSlice, decode_key};
use super::stored::{StoredDType, StoredTensor};
use super::table::{TableBuilder, read_table};

/// The most slices one partitioned tensor may have (their overlap check is quadratic).
const MAX_SLICES: usize = 4096;

/// `kTensorBundleVersion` / `kTensorBundleMinProducer`.
const BUNDLE_VERSION: i32 = 1;

/// The name of data shard `shard` of `num` of a bundle at `prefix`.
pub(crate) fn data_path(prefix: &str, shard: usize, num: usize) -> String {
    format!("{prefix}.data-{shard:05}-of-{num:05}")
}

/// The index file of a bundle at `prefix`.
pub(crate) fn index_path(prefix: &str) -> String {
    format!("{prefix}.index")
}

fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The dtype and shape of one stored tensor, as the index records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    dtype: Result<StoredDType, String>,
    shape: Vec<usize>,
    partitioned: bool,
}

impl TensorInfo {
    pub(crate) fn new(dtype: Result<StoredDType, String>, shape: Vec<usize>, partitioned: bool) -> TensorInfo {
        TensorInfo { dtype, shape, partitioned }
    }

    /// The dtype, if varscope can read it (`None` for string, float16 and the like).
    pub fn dtype(&self) -> Option<StoredDType> {
        self.dtype.as_ref().ok().copied()
    }

    /// TensorFlow's name of the dtype, also for the ones varscope cannot read.
    pub fn dtype_name(&self) -> &str {
        match &self.dtype {
            Ok(d) => d.name(),
            Err(name) => name,
        }
    }

    /// The full shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Whether the tensor is stored as slices (a partitioned variable).
    pub fn is_partitioned(&self) -> bool {
        self.partitioned
    }
}

/// One tensor's place in the data files.
#[derive(Debug, Clone)]
struct Place {
    shard: usize,
    offset: u64,
    size: usize,
    crc: u32,
}

/// The place of a listed slice before its slice entry is seen.
const UNFILLED: Place = Place { shard: usize::MAX, offset: 0, size: 0, crc: 0 };

#[derive(Debug, Clone)]
struct Entry {
    info: TensorInfo,
    /// Where a whole tensor lives, or its slices with their places.
    place: Result<Place, Vec<(TensorSlice, Place)>>,
}

/// A V2 checkpoint opened for reading: its index is read and checked, tensors are read on demand.
///
/// ```no_run
/// use varscope::checkpoint::BundleReader;
///
/// let ckpt = BundleReader::open("train/model.ckpt-2")?;
/// for key in ckpt.keys() {
///     println!("{key}: {:?}", ckpt.info(key).unwrap().shape());
/// }
/// let w = ckpt.read("model/encoder/w")?.into_value("model/encoder/w")?;
/// # let _ = w;
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BundleReader {
    prefix: String,
    num_shards: usize,
    /// The names, sorted bytewise.
    order: Vec<String>,
    /// The entries by name (hashed: a check of 10,000 names looks each up once).
    entries: std::collections::HashMap<String, Entry>,
}

impl BundleReader {
    /// Opens the bundle at `prefix` (the path without `.index`): reads the whole index, checks
    /// its footer, block CRCs, header and every entry. Data files are opened only by
    /// [`read`](Self::read).
    pub fn open(prefix: impl AsRef<Path>) -> Result<BundleReader, crate::Error> {
        let prefix = prefix.as_ref().to_string_lossy().into_owned();
        let path = index_path(&prefix);
        let bytes = std::fs::read(&path).map_err(|e| CheckpointError::io(&path, "read", &e))?;
        Ok(BundleReader::from_index_bytes(&prefix, &bytes)?)
    }

    /// Parses an index file's bytes; `prefix` names the bundle in errors and finds its data.
    pub(crate) fn from_index_bytes(prefix: &str, bytes: &[u8]) -> Result<BundleReader, CheckpointError> {
        let path = index_path(prefix);
        let corrupt = |key: Option<&str>, reason: String| CheckpointError::corrupt(&path, key, reason);
        let table = read_table(&path, bytes)?;
        let mut it = table.into_iter();
        let header = match it.next() {
            Some((k, v)) if k.is_empty() => {
                BundleHeaderProto::decode(&v[..]).map_err(|e| corrupt(None, format!("bad BundleHeaderProto: {e}")))?
            }
            _ => return Err(corrupt(None, "no header under the empty key".into())),
        };
        if header.endianness != 0 {
            return Err(corrupt(None, "the bundle is big-endian; varscope reads little-endian bundles only".into()));
        }
        let version = header.version.unwrap_or_default();
        if version.producer < BUNDLE_VERSION || version.min_consumer > BUNDLE_VERSION {
            return Err(corrupt(
                None,
                format!(
                    "bundle version producer {} / min_consumer {}: this reader supports version {BUNDLE_VERSION}",
                    version.producer, version.min_consumer
                ),
            ));
        }
        let num_shards = usize::try_from(header.num_shards)
            .ok()
            .filter(|&n| (1..=99_999).contains(&n))
            .ok_or_else(|| corrupt(None, format!("num_shards {} out of range", header.num_shards)))?;
        let mut entries: std::collections::HashMap<String, Entry> = std::collections::HashMap::new();
        // The table's keys come sorted, so the names do too.
        let mut order: Vec<String> = Vec::new();
        let mut slices: Vec<(String, TensorSlice, Place, StoredDType)> = Vec::new();
        for (key, value) in it {
            let shown = || String::from_utf8_lossy(&key).into_owned();
            let e = BundleEntryProto::decode(&value[..])
                .map_err(|err| corrupt(Some(&shown()), format!("bad BundleEntryProto: {err}")))?;
            let shape =
                shape_of(e.shape.as_ref()).ok_or_else(|| corrupt(Some(&shown()), "bad or unknown shape".into()))?;
            let dtype = StoredDType::from_proto(e.dtype);
            let place = |e: &BundleEntryProto, what: &str| -> Result<Place, CheckpointError> {
                let shard = usize::try_from(e.shard_id).ok().filter(|&s| s < num_shards);
                let offset = u64::try_from(e.offset).ok();
                let size = usize::try_from(e.size).ok();
                match (shard, offset, size) {
                    (Some(shard), Some(offset), Some(size)) => Ok(Place { shard, offset, size, crc: e.crc32c }),
                    _ => Err(corrupt(
                        Some(what),
                        format!("shard {} / offset {} / size {} out of range", e.shard_id, e.offset, e.size),
                    )),
                }
            };
            if key.first() == Some(&0) {
                let (name, raw) =
                    decode_key(&key).ok_or_else(|| corrupt(Some(&shown()), "malformed slice key".into()))?;
                let ext: Option<Vec<(usize, usize)>> = raw
                    .iter()
                    .zip(&shape)
                    .map(|(&(s, l), &d)| {
                        let s = usize::try_from(s).ok()?;
                        let l = if l == -1 { d } else { usize::try_from(l).ok()? };
                        Some((s, l))
                    })
                    .collect();
                let slice = match ext {
                    Some(ext) if raw.len() == shape.len() => TensorSlice::new(ext),
                    _ => return Err(corrupt(Some(&name), "slice key disagrees with its entry's shape".into())),
                };
                if slice.shape() != shape {
                    return Err(corrupt(Some(&name), "slice key disagrees with its entry's shape".into()));
                }
                let dtype = dtype.map_err(|d| corrupt(Some(&name), format!("slice of unsupported dtype {d}")))?;
                let p = place(&e, &name)?;
                check_size(&path, &name, dtype, &shape, p.size)?;
                slices.push((name, slice, p, dtype));
                continue;
            }
            let name = String::from_utf8(key)
                .map_err(|e| corrupt(Some(&String::from_utf8_lossy(e.as_bytes())), "key is not UTF-8".into()))?;
            let info = TensorInfo { dtype: dtype.clone(), shape: shape.clone(), partitioned: !e.slices.is_empty() };
            let place = if e.slices.is_empty() {
                let p = place(&e, &name)?;
                if let Ok(d) = dtype {
                    check_size(&path, &name, d, &shape, p.size)?;
                }
                Ok(p)
            } else {
                // The listed slices; their places come from the slice entries below.
                if e.slices.len() > MAX_SLICES {
                    return Err(corrupt(Some(&name), format!("{} slices, more than {MAX_SLICES}", e.slices.len())));
                }
                let listed: Option<Vec<(TensorSlice, Place)>> =
                    e.slices.iter().map(|s| Some((TensorSlice::from_proto(s, &shape)?, UNFILLED))).collect();
                Err(listed.ok_or_else(|| corrupt(Some(&name), "a listed slice lies outside the shape".into()))?)
            };
            order.push(name.clone());
            entries.insert(name, Entry { info, place });
        }
        // Slice entries by (name, slice), then each listed slice takes its place: linear in the
        // number of entries however hostile the index.
        let mut by_slice: std::collections::HashMap<(String, TensorSlice), (Place, StoredDType)> =
            std::collections::HashMap::new();
        for (name, slice, p, dtype) in slices {
            if entries.get(&name).is_none_or(|e| e.place.is_ok()) {
                return Err(corrupt(Some(&name), "slice entry without a partitioned full entry".into()));
            }
            by_slice.insert((name, slice), (p, dtype));
        }
        let mut filled = 0;
        for name in &order {
            let entry = entries.get_mut(name).expect("every name has an entry");
            let Err(parts) = &mut entry.place else { continue };
            let want = entry.info.dtype.as_ref().ok();
            for (slice, place) in parts.iter_mut() {
                match by_slice.get(&(name.clone(), slice.clone())) {
                    Some((p, dtype)) if Some(dtype) == want => {
                        *place = p.clone();
                        filled += 1;
                    }
                    Some(_) => return Err(corrupt(Some(name), "slice dtype differs from the full entry's".into())),
                    None => {
                        return Err(corrupt(
                            Some(name),
                            format!("listed slice {:?} has no slice entry", slice.extents()),
                        ));
                    }
                }
            }
        }
        if filled != by_slice.len() {
            return Err(corrupt(None, "a slice entry is not listed by its full entry (or listed twice)".into()));
        }
        for (name, entry) in order.iter().map(|n| (n, &entries[n])) {
            if let Err(parts) = &entry.place {
                let covered = parts.iter().try_fold(0usize, |acc, (s, _)| acc.checked_add(numel(&s.shape())?));
                let full = numel(&entry.info.shape);
                let disjoint =
                    parts.iter().enumerate().all(|(i, (a, _))| parts[..i].iter().all(|(b, _)| !a.overlaps(b)));
                if covered != full || !disjoint {
                    return Err(corrupt(Some(name), "the slices do not tile the full shape".into()));
                }
            }
        }
        Ok(BundleReader { prefix: prefix.to_string(), num_shards, order, entries })
    }

    /// The bundle's prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The tensor names (partitioned tensors under their full name), sorted bytewise.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }

    /// How many data files the bundle has.
    pub fn num_shards(&self) -> usize {
        self.num_shards
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the bundle holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The dtype and shape of `key`, if stored.
    pub fn info(&self, key: &str) -> Option<&TensorInfo> {
        self.entries.get(key).map(|e| &e.info)
    }

    pub(crate) fn missing(&self, key: &str) -> CheckpointError {
        CheckpointError::MissingKey {
            path: self.prefix.clone(),
            key: key.to_string(),
            suggestion: super::report::did_you_mean(key, self.keys()),
        }
    }

    /// Reads the tensor `key` (assembling a partitioned one), checking each piece's CRC32C.
    pub fn read(&self, key: &str) -> Result<StoredTensor, crate::Error> {
        let entry = self.entries.get(key).ok_or_else(|| self.missing(key))?;
        let dtype = entry.info.dtype.clone().map_err(|d| CheckpointError::Unsupported {
            key: key.to_string(),
            dtype: d,
            hint: "varscope reads float32, float64, int32, int64 and bool tensors",
        })?;
        match &entry.place {
            Ok(place) => Ok(self.read_place(key, dtype, &entry.info.shape, place)?),
            Err(parts) => {
                // Every part must lie inside its data file before the full tensor is allocated:
                // the full size is then bounded by the files' sizes.
                for (_, place) in parts {
                    self.open_place(key, place)?;
                }
                let mut out = zeros(dtype, &entry.info.shape);
                for (slice, place) in parts {
                    let part = self.read_place(key, dtype, &slice.shape(), place)?;
                    place_part(&mut out, &part, slice);
                }
                Ok(out)
            }
        }
    }

    /// Opens the data file of `p`, checking that `p` lies inside it.
    fn open_place(&self, key: &str, p: &Place) -> Result<(File, String), CheckpointError> {
        let path = data_path(&self.prefix, p.shard, self.num_shards);
        let f = File::open(&path).map_err(|e| CheckpointError::io(&path, "open", &e))?;
        let len = f.metadata().map_err(|e| CheckpointError::io(&path, "stat", &e))?.len();
        if p.offset.checked_add(p.size as u64).is_none_or(|end| end > len) {
            return Err(CheckpointError::corrupt(
                &path,
                Some(key),
                format!("{} bytes at offset {} run past the end of the file ({len} bytes)", p.size, p.offset),
            ));
        }
        Ok((f, path))
    }

    fn read_place(
        &self,
        key: &str,
        dtype: StoredDType,
        shape: &[usize],
        p: &Place,
    ) -> Result<StoredTensor, CheckpointError> {
        let (mut f, path) = self.open_place(key, p)?;
        f.seek(SeekFrom::Start(p.offset)).map_err(|e| CheckpointError::io(&path, "seek", &e))?;
        let mut src = f.take(p.size as u64);
        let (t, c) = StoredTensor::read_from(dtype, shape, p.size, &mut src)
            .map_err(|e| CheckpointError::io(&path, "read", &e))?;
        if crc::mask(c) != p.crc {
            return Err(CheckpointError::corrupt(&path, Some(key), "data CRC32C mismatch".to_string()));
        }
        t.ok_or_else(|| CheckpointError::corrupt(&path, Some(key), "bool tensor holds a byte other than 0 or 1"))
    }
}

fn check_size(path: &str, key: &str, dtype: StoredDType, shape: &[usize], size: usize) -> Result<(), CheckpointError> {
    match numel(shape).and_then(|n| n.checked_mul(dtype.size())) {
        Some(want) if want == size => Ok(()),
        want => Err(CheckpointError::corrupt(
            path,
            Some(key),
            format!("entry says {size} bytes, but {dtype} of shape {shape:?} takes {want:?}"),
        )),
    }
}

fn shape_of(p: Option<&TensorShapeProto>) -> Option<Vec<usize>> {
    let p = p?;
    if p.unknown_rank || p.dim.len() > 64 {
        return None;
    }
    p.dim.iter().map(|d| usize::try_from(d.size).ok()).collect()
}

pub(crate) fn zeros(dtype: StoredDType, shape: &[usize]) -> StoredTensor {
    let dim = IxDyn(shape);
    match dtype {
        StoredDType::F32 => StoredTensor::F32(ArcArray::zeros(dim)),
        StoredDType::F64 => StoredTensor::F64(ArcArray::zeros(dim)),
        StoredDType::I32 => StoredTensor::I32(ArcArray::zeros(dim)),
        StoredDType::I64 => StoredTensor::I64(ArcArray::zeros(dim)),
        StoredDType::Bool => StoredTensor::Bool(ArcArray::from_elem(dim, false)),
    }
}

/// Copies `part` into the region `slice` of `full` (same dtype, checked on open).
pub(crate) fn place_part(full: &mut StoredTensor, part: &StoredTensor, slice: &TensorSlice) {
    fn put<T: Clone>(full: &mut ArcArray<T, IxDyn>, part: &ArcArray<T, IxDyn>, slice: &TensorSlice) {
        let ext = slice.extents();
        full.slice_each_axis_mut(|ax| {
            let (s, l) = ext[ax.axis.index()];
            Slice::from(s..s + l)
        })
        .assign(part);
    }
    match (full, part) {
        (StoredTensor::F32(f), StoredTensor::F32(p)) => put(f, p, slice),
        (StoredTensor::F64(f), StoredTensor::F64(p)) => put(f, p, slice),
        (StoredTensor::I32(f), StoredTensor::I32(p)) => put(f, p, slice),
        (StoredTensor::I64(f), StoredTensor::I64(p)) => put(f, p, slice),
        (StoredTensor::Bool(f), StoredTensor::Bool(p)) => put(f, p, slice),
        _ => unreachable!("slice dtypes are checked against the full entry on open"),
    }
}

/// One tensor queued for writing.
#[derive(Debug, Clone)]
struct Item {
    name: String,
    /// For a slice: the full shape and the slice.
    slice: Option<(Vec<usize>, TensorSlice)>,
    tensor: StoredTensor,
}

/// Writes a V2 checkpoint exactly as `tf.compat.v1.train.Saver` does: data in sorted key order
/// (a partitioned tensor's slices at its place, in partition order), the index table with TF's
/// options, one or several data shards. Files are written to temporaries, synced and renamed.
///
/// ```
/// use varscope::checkpoint::{BundleReader, BundleWriter, StoredTensor, TensorSlice};
/// use varscope::Value;
/// use varscope::ndarray::{ArrayD, IxDyn};
///
/// let dir = std::env::temp_dir().join(format!("varscope-doc-bundle-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let prefix = dir.join("model.ckpt");
/// let mut w = BundleWriter::new();
/// w.add("b", Value::from(-0.5f32))?;
/// w.add("global_step", StoredTensor::i64(&[], vec![2])?)?;
/// let rows = |r: f32| Value::from(ArrayD::from_elem(IxDyn(&[2, 4]), r));
/// w.add_slice("part/v", &[4, 4], TensorSlice::new(vec![(0, 2), (0, 4)]), rows(1.0))?;
/// w.add_slice("part/v", &[4, 4], TensorSlice::new(vec![(2, 2), (0, 4)]), rows(2.0))?;
/// w.write(&prefix)?;
///
/// let r = BundleReader::open(&prefix)?;
/// assert_eq!(r.keys().collect::<Vec<_>>(), ["b", "global_step", "part/v"]);
/// assert_eq!(r.info("part/v").unwrap().shape(), [4, 4]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), varscope::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BundleWriter {
    items: Vec<Item>,
    num_shards: usize,
}

impl BundleWriter {
    /// An empty bundle with one data shard.
    pub fn new() -> BundleWriter {
        BundleWriter { items: Vec::new(), num_shards: 1 }
    }

    /// Spreads the tensors over `n` data files (`.data-00000-of-0000n` ..), as a sharded saver's
    /// merged bundle does; at least 1.
    pub fn shards(mut self, n: usize) -> BundleWriter {
        self.num_shards = n.clamp(1, 99_999);
        self
    }

    fn refuse(reason: String) -> crate::Error {
        CheckpointError::InvalidRequest { reason }.into()
    }

    /// Adds the whole tensor `key`.
    pub fn add(&mut self, key: &str, tensor: impl Into<StoredTensor>) -> Result<(), crate::Error> {
        if key.is_empty() {
            return Err(Self::refuse("a checkpoint key must not be empty (the header lives there)".into()));
        }
        if self.items.iter().any(|i| i.name == key) {
            return Err(Self::refuse(format!("checkpoint key `{key}` is added twice: give each tensor one key")));
        }
        self.items.push(Item { name: key.to_string(), slice: None, tensor: tensor.into() });
        Ok(())
    }

    /// Adds one slice of the partitioned tensor `key` of `full_shape`; the slices of one key must
    /// tile its full shape by the time the bundle is written.
    pub fn add_slice(
        &mut self,
        key: &str,
        full_shape: &[usize],
        slice: TensorSlice,
        part: impl Into<StoredTensor>,
    ) -> Result<(), crate::Error> {
        let part = part.into();
        if key.is_empty() {
            return Err(Self::refuse("a checkpoint key must not be empty (the header lives there)".into()));
        }
        if !slice.fits(full_shape) || slice.shape() != part.shape() {
            return Err(Self::refuse(format!(
                "slice {:?} of `{key}` does not fit the full shape {full_shape:?} or its part's shape {:?}",
                slice.extents(),
                part.shape()
            )));
        }
        for i in &self.items {
            if i.name != key {
                continue;
            }
            match &i.slice {
                None => return Err(Self::refuse(format!("checkpoint key `{key}` is added whole and as a slice"))),
                Some((shape, s)) if shape != full_shape || i.tensor.dtype() != part.dtype() || s.overlaps(&slice) => {
                    return Err(Self::refuse(format!(
                        "slice {:?} of `{key}` disagrees with another slice (full shape, dtype or overlap)",
                        slice.extents()
                    )));
                }
                Some(_) => {}
            }
        }
        self.items.push(Item { name: key.to_string(), slice: Some((full_shape.to_vec(), slice)), tensor: part });
        Ok(())
    }

    /// Writes `PREFIX.index` and the data file(s); nothing at `prefix` changes unless everything
    /// was written and synced.
    pub fn write(&self, prefix: impl AsRef<Path>) -> Result<(), crate::Error> {
        let mut files = AtomicFiles::new();
        self.write_into(prefix.as_ref(), &mut files)?;
        Ok(files.commit()?)
    }

    /// Writes into temporaries registered with `files` (committed by the caller).
    pub(crate) fn write_into(&self, prefix: &Path, files: &mut AtomicFiles) -> Result<(), CheckpointError> {
        let prefix_s = prefix.to_string_lossy().into_owned();
        let mut order: Vec<&Item> = self.items.iter().collect();
        order.sort_by(|a, b| (&a.name, a.slice.as_ref().map(|s| &s.1)).cmp(&(&b.name, b.slice.as_ref().map(|s| &s.1))));
        // Every sliced key is tiled by its slices.
        let mut full: BTreeMap<&str, (Vec<usize>, StoredDType, Vec<&TensorSlice>)> = BTreeMap::new();
        for i in &order {
            if let Some((shape, s)) = &i.slice {
                full.entry(&i.name).or_insert_with(|| (shape.clone(), i.tensor.dtype(), Vec::new())).2.push(s);
            }
        }
        for (name, (shape, _, parts)) in &full {
            let covered: usize = parts.iter().map(|s| s.shape().iter().product::<usize>()).sum();
            if covered != shape.iter().product::<usize>() {
                return Err(CheckpointError::InvalidRequest {
                    reason: format!(
                        "the slices of `{name}` do not cover its full shape {shape:?}: add the missing parts"
                    ),
                });
            }
        }
        let n = self.num_shards.max(1);
        let mut writers = Vec::with_capacity(n);
        for shard in 0..n {
            let path = PathBuf::from(data_path(&prefix_s, shard, n));
            let f = files.create(&path)?;
            writers.push((path, BufWriter::with_capacity(super::stored::CHUNK, f), 0u64));
        }
        let mut index: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for (k, item) in order.iter().enumerate() {
            let shard = k % n;
            let (path, w, offset) = &mut writers[shard];
            let mut crc = 0u32;
            let start = *offset;
            item.tensor
                .for_each_chunk(|bytes| {
                    crc = crc::extend(crc, bytes);
                    *offset += bytes.len() as u64;
                    w.write_all(bytes)
                })
                .map_err(|e| CheckpointError::io(path.display(), "write", &e))?;
            let entry = BundleEntryProto {
                dtype: item.tensor.dtype().proto() as i32,
                shape: Some(TensorShapeProto::known(item.tensor.shape())),
                shard_id: shard as i32,
                offset: start as i64,
                size: (*offset - start) as i64,
                crc32c: crc::mask(crc),
                slices: Vec::new(),
            };
            let key = match &item.slice {
                Some((_, s)) => s.key(&item.name),
                None => item.name.as_bytes().to_vec(),
            };
            index.insert(key, entry.encode_to_vec());
        }
        for (name, (shape, dtype, parts)) in full {
            let entry = BundleEntryProto {
                dtype: dtype.proto() as i32,
                shape: Some(TensorShapeProto::known(&shape)),
                slices: parts.iter().map(|s| s.to_proto()).collect(),
                ..Default::default()
            };
            index.insert(name.as_bytes().to_vec(), entry.encode_to_vec());
        }
        for (path, w, _) in writers {
            let f = w.into_inner().map_err(|e| CheckpointError::io(path.display(), "write", e.error()))?;
            files.finish(&path, f)?;
        }
        let header = BundleHeaderProto {
            num_shards: n as i32,
            endianness: 0,
            version: Some(VersionDef { producer: BUNDLE_VERSION, min_consumer: 0, bad_consumers: Vec::new() }),
        };
        let mut table = TableBuilder::new();
        table.add(b"", &header.encode_to_vec());
        for (k, v) in &index {
            table.add(k, v);
        }
        files.write(Path::new(&index_path(&prefix_s)), &table.finish())?;
        Ok(())
    }
}
