//! The disk tier: each flush of a process writes one pack file per kind of entry, to a
//! temporary name and renamed into place.
//!
//! Why pack files and not a database: several processes (two shells, a notebook, a worker) use
//! one cache at once. A rename is atomic, so a reader sees a whole pack or none, with no lock
//! and no server; redb allows one process per file, and SQLite or LMDB would bring a C library
//! for what the file system already does. Why packs and not a file per entry: a first run of
//! the full-size cohort stores about 2,500 entries, and creating 2,500 files costs a file
//! system (ext4 here) more than the run itself (measured: 0.9 s against 0.9 s). A pack
//! removed by eviction while another process reads it stays readable through that process's
//! open handle (POSIX unlink), so eviction never takes an entry from under a reader. Packs are
//! not fsynced: a torn or flipped pack fails its checksums and is ignored, never misread.
//!
//! Layout: `DIR/v1/<kind>/<pid>-<ns>-<n>.pack`, written first as `.<name>.tmp` in the same
//! folder. A pack is `MAGIC`, the payloads one after the other, then its index (per entry: the
//! SHA-256 of the key — npcql's build id, the function, its version, its settings and every
//! source file's version —, the payload's offset, length and CRC-32), then a footer (the
//! index's offset, its entry count, its CRC-32, `MAGIC`). A process reads a kind's indexes on
//! its first lookup of that kind and the payloads it is asked for. Least recently used packs
//! go first when the folder outgrows its limit; a hit refreshes its pack's modification time,
//! which is what "used" means here. A kind with many packs is merged into one. `DIR/v1/stats.log`
//! gathers each process's hits and misses for `npcql cache info`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::{ResultKey, ResultStore};

const MAGIC: &[u8; 8] = b"npcqlp01";
/// Per index entry: digest, offset, length, CRC-32.
const INDEX_ENTRY_LEN: usize = 32 + 8 + 8 + 4;
/// Index offset, entry count, index CRC-32, `MAGIC`.
const FOOTER_LEN: usize = 8 + 8 + 4 + 8;
/// The layout's folder: a new layout starts empty beside the old one, which `cache clear`
/// removes.
const LAYOUT: &str = "v1";
/// Writes kept back before they are written anyway (a long query's results need not wait).
const PENDING_LIMIT: usize = 4096;
/// Packs of one kind beyond which a flush merges them into one.
const MERGE_ABOVE_PACKS: usize = 32;

/// npcql's build: a hash of the workspace's sources (`build.rs`), since the package version
/// stays 0.1.0 across commits. An entry of another build is never looked up.
pub const BUILD_ID: &str = env!("NPCQL_BUILD_ID");

type KeyDigest = [u8; 32];

/// Where one payload is: an open pack (kept open, so eviction cannot take it away), and the
/// payload's place and checksum in it.
#[derive(Debug, Clone)]
struct Location {
    pack: Arc<Pack>,
    offset: u64,
    len: u64,
    crc: u32,
}

#[derive(Debug)]
struct Pack {
    path: PathBuf,
    file: File,
    /// Whether this process has refreshed its modification time (once is enough).
    touched: AtomicBool,
}

/// A cache folder, open for reading and writing.
#[derive(Debug)]
pub struct DiskCache {
    root: PathBuf,
    limit_bytes: u64,
    build_id: String,
    pending: Mutex<Vec<(&'static str, KeyDigest, Vec<u8>)>>,
    /// Each kind's entries, read from its packs on the first lookup of that kind.
    indexes: Mutex<HashMap<&'static str, HashMap<KeyDigest, Location>>>,
    /// Hits and misses per kind since the last flush (for `stats.log`), and since the last
    /// [`ResultStore::take_counts`] (for `.timer`).
    counts: Mutex<BTreeMap<&'static str, (u64, u64)>>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Whether a write fault (a full disk, a folder made read-only meanwhile) was reported:
    /// the caller warns once; the queries go on uncached.
    fault_reported: AtomicBool,
    packs_written: AtomicU64,
}

impl DiskCache {
    /// Opens (creating, mode 0700: it holds data derived from patient files) the cache folder
    /// `dir`, holding at most about `limit_bytes`. An error when the folder cannot be made or
    /// written: the caller warns and runs uncached.
    pub fn open(dir: &Path, limit_bytes: u64) -> std::io::Result<DiskCache> {
        Self::open_for_build(dir, limit_bytes, BUILD_ID)
    }

    /// [`open`](Self::open) as build `build_id` (tests: entries of another build are ignored).
    pub fn open_for_build(dir: &Path, limit_bytes: u64, build_id: &str) -> std::io::Result<DiskCache> {
        let root = dir.join(LAYOUT);
        make_private_dir(&root)?;
        // A folder that lists but refuses writes (a read-only home) is found now, not per flush.
        let probe = root.join(format!(".probe-{}.tmp", std::process::id()));
        File::create(&probe)?;
        fs::remove_file(&probe)?;
        Ok(DiskCache {
            root,
            limit_bytes,
            build_id: build_id.to_string(),
            pending: Mutex::default(),
            indexes: Mutex::default(),
            counts: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            fault_reported: AtomicBool::new(false),
            packs_written: AtomicU64::new(0),
        })
    }

    fn digest(&self, key: &ResultKey) -> KeyDigest {
        let mut digest = Sha256::new();
        for part in [
            self.build_id.as_bytes(),
            key.function.as_bytes(),
            key.settings.as_bytes(),
        ] {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part);
        }
        digest.update(key.version.to_le_bytes());
        for file in &key.files {
            let path = file.path.as_os_str().as_encoded_bytes();
            digest.update((path.len() as u64).to_le_bytes());
            digest.update(path);
            digest.update(file.len.to_le_bytes());
            digest.update(file.modified_ns.to_le_bytes());
            digest.update(file.changed_ns.to_le_bytes());
            digest.update(file.inode.to_le_bytes());
        }
        digest.finalize().into()
    }

    fn count(&self, kind: &'static str, hit: bool) {
        let mut counts = lock(&self.counts);
        let entry = counts.entry(kind).or_default();
        if hit {
            entry.0 += 1;
            self.hits.fetch_add(1, Ordering::Relaxed);
        } else {
            entry.1 += 1;
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The location of `digest` among `kind`'s packs, reading their indexes the first time.
    fn locate(&self, kind: &'static str, digest: &KeyDigest) -> Option<Location> {
        let mut indexes = lock(&self.indexes);
        let index = indexes.entry(kind).or_insert_with(|| {
            let mut index = HashMap::new();
            for pack in packs_of(&self.root.join(kind)) {
                add_pack(&mut index, &pack);
            }
            index
        });
        index.get(digest).cloned()
    }

    /// Writes one pack of `entries` into `kind`'s folder; the new pack joins the kind's index
    /// if this process has read it.
    fn write_pack(&self, kind: &'static str, entries: &[(KeyDigest, &[u8])]) -> std::io::Result<()> {
        let folder = self.root.join(kind);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!(
            "{}-{nanos}-{}.pack",
            std::process::id(),
            self.packs_written.fetch_add(1, Ordering::Relaxed)
        );
        let path = folder.join(&name);
        let temp = folder.join(format!(".{name}.tmp"));
        let bytes = pack_bytes(entries);
        let created = match create_private(&temp) {
            // New, or removed meanwhile by `npcql cache clear` in another process.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                make_private_dir(&folder).and_then(|()| create_private(&temp))
            }
            other => other,
        };
        let written = created
            .and_then(|mut f| f.write_all(&bytes))
            .and_then(|()| fs::rename(&temp, &path));
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written?;
        if let Some(index) = lock(&self.indexes).get_mut(kind)
            && let Some(pack) = open_pack(&path)
        {
            add_pack(index, &pack);
        }
        Ok(())
    }

    /// Merges a kind's packs into one when there are many (each run that computes something
    /// new adds one), keeping each entry once.
    fn merge_if_many(&self, kind: &'static str) -> std::io::Result<()> {
        let packs = packs_of(&self.root.join(kind));
        if packs.len() <= MERGE_ABOVE_PACKS {
            return Ok(());
        }
        let mut entries: HashMap<KeyDigest, Vec<u8>> = HashMap::new();
        for pack in &packs {
            let mut index = HashMap::new();
            add_pack(&mut index, pack);
            for (digest, location) in index {
                if let Some(payload) = read_payload(&location) {
                    entries.insert(digest, payload);
                }
            }
        }
        let entries: Vec<(KeyDigest, &[u8])> = entries.iter().map(|(d, p)| (*d, p.as_slice())).collect();
        self.write_pack(kind, &entries)?;
        for pack in packs {
            let _ = fs::remove_file(&pack.path);
        }
        Ok(())
    }

    /// Removes the least recently used packs until the folder is within 90% of its limit,
    /// and temporary files left by killed processes.
    fn evict(&self) -> std::io::Result<()> {
        let mut packs = Vec::new();
        let mut total = 0;
        walk(&self.root, &mut |path, meta| {
            total += meta.len();
            let modified = meta.modified().unwrap_or(UNIX_EPOCH);
            if is_temporary(path) {
                let stale = SystemTime::now()
                    .duration_since(modified)
                    .is_ok_and(|age| age.as_secs() > 3600);
                if stale {
                    let _ = fs::remove_file(path);
                }
            } else if path.extension().is_some_and(|e| e == "pack") {
                packs.push((modified, meta.len(), path.to_path_buf()));
            }
        })?;
        if total <= self.limit_bytes {
            return Ok(());
        }
        packs.sort();
        let target = self.limit_bytes / 10 * 9;
        for (_, len, path) in packs {
            if total <= target {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
        Ok(())
    }

    fn append_stats(&self) -> std::io::Result<()> {
        let counts = std::mem::take(&mut *lock(&self.counts));
        if counts.is_empty() {
            return Ok(());
        }
        let text: String = counts
            .iter()
            .map(|(kind, (hits, misses))| format!("{kind} {hits} {misses}\n"))
            .collect();
        // One write of a few lines with O_APPEND: processes appending together do not interleave.
        fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(self.root.join("stats.log"))?
            .write_all(text.as_bytes())
    }

    fn write_pending(&self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut *lock(&self.pending));
        if pending.is_empty() {
            return Ok(());
        }
        let mut by_kind: BTreeMap<&'static str, Vec<(KeyDigest, &[u8])>> = BTreeMap::new();
        for (kind, digest, payload) in &pending {
            by_kind.entry(kind).or_default().push((*digest, payload));
        }
        for (kind, entries) in &by_kind {
            self.write_pack(kind, entries)?;
            self.merge_if_many(kind)?;
        }
        self.evict()
    }
}

impl ResultStore for DiskCache {
    fn get(&self, key: &ResultKey) -> Option<Vec<u8>> {
        let location = self.locate(key.function, &self.digest(key));
        let payload = location.as_ref().and_then(read_payload);
        if let (Some(location), Some(_)) = (&location, &payload)
            && !location.pack.touched.swap(true, Ordering::Relaxed)
        {
            // Least recently used means least recently hit: refresh the pack's time.
            let _ = location.pack.file.set_modified(SystemTime::now());
        }
        self.count(key.function, payload.is_some());
        payload
    }

    fn put(&self, key: &ResultKey, value: &[u8]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        if key.files.iter().any(|f| f.is_racy(now)) {
            return;
        }
        let full = {
            let mut pending = lock(&self.pending);
            pending.push((key.function, self.digest(key), value.to_vec()));
            pending.len() >= PENDING_LIMIT
        };
        if full {
            // A fault is reported by the query's own flush, which meets it again.
            let _ = self.flush();
        }
    }

    fn flush(&self) -> Option<String> {
        let result = self.write_pending().and_then(|()| self.append_stats());
        match result {
            Err(e) if !self.fault_reported.swap(true, Ordering::Relaxed) => Some(format!(
                "the cache folder {} cannot be written ({e}); results are not cached",
                self.root.display()
            )),
            _ => None,
        }
    }

    fn take_counts(&self) -> (u64, u64) {
        (
            self.hits.swap(0, Ordering::Relaxed),
            self.misses.swap(0, Ordering::Relaxed),
        )
    }
}

impl Drop for DiskCache {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// The bytes of a pack of `entries`.
fn pack_bytes(entries: &[(KeyDigest, &[u8])]) -> Vec<u8> {
    let payloads: usize = entries.iter().map(|(_, p)| p.len()).sum();
    let mut bytes = Vec::with_capacity(MAGIC.len() + payloads + entries.len() * INDEX_ENTRY_LEN + FOOTER_LEN);
    bytes.extend_from_slice(MAGIC);
    let mut index = Vec::with_capacity(entries.len() * INDEX_ENTRY_LEN);
    for (digest, payload) in entries {
        index.extend_from_slice(digest);
        index.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        index.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        index.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        bytes.extend_from_slice(payload);
    }
    let index_offset = bytes.len() as u64;
    bytes.extend_from_slice(&index);
    bytes.extend_from_slice(&index_offset.to_le_bytes());
    bytes.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&index).to_le_bytes());
    bytes.extend_from_slice(MAGIC);
    bytes
}

/// The packs of a kind's folder that open (none when the folder does not exist).
fn packs_of(folder: &Path) -> Vec<Arc<Pack>> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pack") && !is_temporary(p))
        .collect();
    // Oldest first, so a later pack's entry for the same key (the same bytes) wins harmlessly.
    paths.sort();
    paths.iter().filter_map(|p| open_pack(p)).collect()
}

fn open_pack(path: &Path) -> Option<Arc<Pack>> {
    Some(Arc::new(Pack {
        path: path.to_path_buf(),
        file: File::open(path).ok()?,
        touched: AtomicBool::new(false),
    }))
}

/// Adds the entries of `pack`'s index to `index`; a pack whose footer or index fails its
/// checks (torn, truncated, flipped) adds nothing.
fn add_pack(index: &mut HashMap<KeyDigest, Location>, pack: &Arc<Pack>) {
    let Some(entries) = read_index(&pack.file) else { return };
    for (digest, offset, len, crc) in entries {
        index.insert(
            digest,
            Location {
                pack: pack.clone(),
                offset,
                len,
                crc,
            },
        );
    }
}

/// A pack's index: (digest, offset, length, CRC-32) per entry.
fn read_index(file: &File) -> Option<Vec<(KeyDigest, u64, u64, u32)>> {
    let len = file.metadata().ok()?.len();
    let mut footer = [0u8; FOOTER_LEN];
    file.read_exact_at(&mut footer, len.checked_sub(FOOTER_LEN as u64)?)
        .ok()?;
    let number = |at: usize| u64::from_le_bytes(footer[at..at + 8].try_into().expect("8 bytes"));
    let (index_offset, count) = (number(0), number(8));
    let crc = u32::from_le_bytes(footer[16..20].try_into().expect("4 bytes"));
    let index_len = count.checked_mul(INDEX_ENTRY_LEN as u64)?;
    let consistent = &footer[20..] == MAGIC
        && index_offset >= MAGIC.len() as u64
        && index_offset.checked_add(index_len)?.checked_add(FOOTER_LEN as u64)? == len;
    if !consistent {
        return None;
    }
    let mut magic = [0u8; 8];
    file.read_exact_at(&mut magic, 0).ok()?;
    let mut index = vec![0u8; usize::try_from(index_len).ok()?];
    file.read_exact_at(&mut index, index_offset).ok()?;
    if &magic != MAGIC || crc32fast::hash(&index) != crc {
        return None;
    }
    index
        .chunks_exact(INDEX_ENTRY_LEN)
        .map(|entry| {
            let digest: KeyDigest = entry[..32].try_into().ok()?;
            let offset = u64::from_le_bytes(entry[32..40].try_into().ok()?);
            let len = u64::from_le_bytes(entry[40..48].try_into().ok()?);
            let crc = u32::from_le_bytes(entry[48..52].try_into().ok()?);
            // Every payload lies between the magic and the index.
            (offset >= MAGIC.len() as u64 && offset.checked_add(len)? <= index_offset)
                .then_some((digest, offset, len, crc))
        })
        .collect()
}

/// The payload at `location`, if it reads and matches its checksum.
fn read_payload(location: &Location) -> Option<Vec<u8>> {
    let mut payload = vec![0u8; usize::try_from(location.len).ok()?];
    location.pack.file.read_exact_at(&mut payload, location.offset).ok()?;
    (crc32fast::hash(&payload) == location.crc).then_some(payload)
}

fn is_temporary(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

fn create_private(path: &Path) -> std::io::Result<File> {
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Calls `visit` on every file under `dir` (not following symlinks); entries that vanish
/// meanwhile (another process evicting) are skipped.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path, &fs::Metadata)) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            let _ = walk(&entry.path(), visit);
        } else if meta.is_file() {
            visit(&entry.path(), &meta);
        }
    }
    Ok(())
}

/// What `npcql cache info` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheInfo {
    pub dir: PathBuf,
    pub bytes: u64,
    pub kinds: Vec<KindInfo>,
}

/// One kind of entry (`series_headers`, `morphology`, `radiomics`, …).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindInfo {
    pub kind: String,
    /// Distinct entries in the kind's readable packs.
    pub entries: u64,
    pub bytes: u64,
    pub hits: u64,
    pub misses: u64,
}

impl DiskCache {
    /// The entries of the cache folder `dir` by kind, and the hits and misses processes logged.
    /// A folder that does not exist is an empty cache.
    pub fn info(dir: &Path) -> std::io::Result<CacheInfo> {
        let root = dir.join(LAYOUT);
        let mut kinds: BTreeMap<String, KindInfo> = BTreeMap::new();
        let mut bytes = 0;
        if root.is_dir() {
            walk(&root, &mut |_, meta| bytes += meta.len())?;
            for entry in fs::read_dir(&root)?.flatten() {
                let folder = entry.path();
                if !folder.is_dir() {
                    continue;
                }
                let kind = entry.file_name().to_string_lossy().into_owned();
                let mut digests = HashSet::new();
                let mut size = 0;
                for pack in packs_of(&folder) {
                    size += pack.file.metadata().map_or(0, |m| m.len());
                    digests.extend(read_index(&pack.file).unwrap_or_default().into_iter().map(|e| e.0));
                }
                kinds.insert(
                    kind.clone(),
                    KindInfo {
                        kind,
                        entries: digests.len() as u64,
                        bytes: size,
                        ..KindInfo::default()
                    },
                );
            }
            if let Ok(log) = fs::read_to_string(root.join("stats.log")) {
                for line in log.lines() {
                    let mut parts = line.split(' ');
                    let (Some(kind), Some(Ok(hits)), Some(Ok(misses))) = (
                        parts.next(),
                        parts.next().map(str::parse::<u64>),
                        parts.next().map(str::parse::<u64>),
                    ) else {
                        continue;
                    };
                    let info = kinds.entry(kind.to_string()).or_insert_with(|| KindInfo {
                        kind: kind.to_string(),
                        ..KindInfo::default()
                    });
                    info.hits += hits;
                    info.misses += misses;
                }
            }
        }
        Ok(CacheInfo {
            dir: dir.to_path_buf(),
            bytes,
            kinds: kinds.into_values().collect(),
        })
    }

    /// Removes every entry of the cache folder `dir` (the folder itself stays). Processes
    /// reading a pack meanwhile finish reading it.
    pub fn clear(dir: &Path) -> std::io::Result<()> {
        let root = dir.join(LAYOUT);
        match fs::remove_dir_all(&root) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "disk_tests.rs"]
mod tests;
