//! The disk tier: one file per entry, written to a temporary file and renamed into place.
//!
//! Why files and not a database: several processes (two shells, a notebook, a worker) use one
//! cache at once. A rename is atomic, so a reader sees a whole entry or none, with no lock
//! and no server; redb allows one process per file, and SQLite or LMDB would bring a C library
//! for what the file system already does. An entry deleted by eviction while another process
//! reads it stays readable through that process's open handle (POSIX unlink), so eviction
//! never takes an entry from under a reader. Entries are not fsynced: a torn or flipped entry
//! fails its checksum and is recomputed, never misread.
//!
//! Layout: `DIR/v1/<kind>/<2 hex>/<62 hex>`, the name the SHA-256 of the key (npcql's build id,
//! the function, its version, its settings and every source file's version); each file is
//! `MAGIC, crc32 of the payload (LE u32), payload length (LE u64), payload`. Least recently used
//! entries go first when the folder outgrows its limit; a hit refreshes an entry's
//! modification time, which is what "used" means here. `DIR/v1/stats.log` gathers each
//! process's hits and misses for `npcql cache info`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::{ResultKey, ResultStore};

const MAGIC: &[u8; 8] = b"npcqlc01";
const HEADER_LEN: usize = 8 + 4 + 8;
/// The layout's folder: a new layout starts empty beside the old one, which eviction and
/// `cache clear` remove.
const LAYOUT: &str = "v1";
/// Writes kept back before they are written anyway (a long query's results need not wait).
const PENDING_LIMIT: usize = 512;

/// npcql's build: a hash of the workspace's sources (`build.rs`), since the package version
/// stays 0.1.0 across commits. An entry of another build is never looked up.
pub const BUILD_ID: &str = env!("NPCQL_BUILD_ID");

/// A cache folder, open for reading and writing.
#[derive(Debug)]
pub struct DiskCache {
    root: PathBuf,
    limit_bytes: u64,
    build_id: String,
    pending: Mutex<Vec<(PathBuf, Vec<u8>)>>,
    /// Hits and misses per kind since the last flush (for `stats.log`), and since the last
    /// [`ResultStore::take_counts`] (for `.timer`).
    counts: Mutex<BTreeMap<&'static str, (u64, u64)>>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Whether a write fault (a full disk, a folder made read-only meanwhile) was reported:
    /// the caller warns once; the queries go on uncached.
    fault_reported: std::sync::atomic::AtomicBool,
    temp_counter: AtomicU64,
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
        make_private_dir(dir)?;
        make_private_dir(&root.join("tmp"))?;
        // A folder that lists but refuses writes (a read-only home) is found now, not per entry.
        let probe = root.join("tmp").join(format!("probe-{}", std::process::id()));
        File::create(&probe)?;
        fs::remove_file(&probe)?;
        Ok(DiskCache {
            root,
            limit_bytes,
            build_id: build_id.to_string(),
            pending: Mutex::default(),
            counts: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            fault_reported: Default::default(),
            temp_counter: AtomicU64::new(0),
        })
    }

    fn entry_path(&self, key: &ResultKey) -> PathBuf {
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
        let hex: String = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.root.join(key.function).join(&hex[..2]).join(&hex[2..])
    }

    fn count(&self, key: &ResultKey, hit: bool) {
        let mut counts = lock(&self.counts);
        let entry = counts.entry(key.function).or_default();
        if hit {
            entry.0 += 1;
            self.hits.fetch_add(1, Ordering::Relaxed);
        } else {
            entry.1 += 1;
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn write_entry(&self, path: &Path, payload: &[u8]) -> std::io::Result<()> {
        // Made again here: `npcql cache clear` may have removed them since the cache opened.
        make_private_dir(path.parent().expect("an entry lies in a folder"))?;
        make_private_dir(&self.root.join("tmp"))?;
        let temp = self.root.join("tmp").join(format!(
            "{}-{}.tmp",
            std::process::id(),
            self.temp_counter.fetch_add(1, Ordering::Relaxed)
        ));
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(payload);
        let written = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .and_then(|mut f| f.write_all(&bytes))
            .and_then(|()| fs::rename(&temp, path));
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }

    /// Removes the least recently used entries until the folder is within 90% of its limit,
    /// and temporary files left by killed processes.
    fn evict(&self) -> std::io::Result<()> {
        let mut entries = Vec::new();
        let mut total = 0;
        walk(&self.root, &mut |path, meta| {
            total += meta.len();
            let modified = meta.modified().unwrap_or(UNIX_EPOCH);
            if path.parent().is_some_and(|p| p.ends_with("tmp")) {
                let stale = SystemTime::now()
                    .duration_since(modified)
                    .is_ok_and(|age| age.as_secs() > 3600);
                if stale {
                    let _ = fs::remove_file(path);
                }
            } else if path.file_name().is_some_and(|n| n != "stats.log") {
                entries.push((modified, meta.len(), path.to_path_buf()));
            }
        })?;
        if total <= self.limit_bytes {
            return Ok(());
        }
        entries.sort();
        let target = self.limit_bytes / 10 * 9;
        for (_, len, path) in entries {
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
}

impl ResultStore for DiskCache {
    fn get(&self, key: &ResultKey) -> Option<Vec<u8>> {
        let path = self.entry_path(key);
        let payload = read_entry(&path, self.limit_bytes);
        if payload.is_some() {
            // Least recently used means least recently hit: refresh the entry's time.
            let _ = File::open(&path).and_then(|f| f.set_modified(SystemTime::now()));
        }
        self.count(key, payload.is_some());
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
            pending.push((self.entry_path(key), value.to_vec()));
            pending.len() >= PENDING_LIMIT
        };
        if full {
            // A fault is reported by the query's own flush, which meets it again.
            let _ = self.flush();
        }
    }

    fn flush(&self) -> Option<String> {
        let pending = std::mem::take(&mut *lock(&self.pending));
        let mut result = pending
            .iter()
            .try_for_each(|(path, payload)| self.write_entry(path, payload));
        if result.is_ok() && !pending.is_empty() {
            result = self.evict();
        }
        let result = result.and_then(|()| self.append_stats());
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

/// The payload of the entry at `path`, or `None` when it is missing, longer than the cache
/// may hold, or fails its checks (a torn write, a flipped bit).
fn read_entry(path: &Path, limit_bytes: u64) -> Option<Vec<u8>> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    if len < HEADER_LEN as u64 || len > limit_bytes {
        return None;
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.read_to_end(&mut bytes).ok()?;
    let (header, payload) = bytes.split_at(HEADER_LEN);
    let crc = u32::from_le_bytes(header[8..12].try_into().ok()?);
    let payload_len = u64::from_le_bytes(header[12..20].try_into().ok()?);
    let whole = &header[..8] == MAGIC && payload_len == payload.len() as u64 && crc32fast::hash(payload) == crc;
    whole.then(|| payload.to_vec())
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
            walk(&root, &mut |path, meta| {
                bytes += meta.len();
                let Ok(relative) = path.strip_prefix(&root) else { return };
                let kind = relative
                    .components()
                    .next()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned());
                if let Some(kind) = kind.filter(|k| k != "tmp" && relative.components().count() == 3) {
                    let info = kinds.entry(kind.clone()).or_insert_with(|| KindInfo {
                        kind,
                        ..KindInfo::default()
                    });
                    info.entries += 1;
                    info.bytes += meta.len();
                }
            })?;
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
    /// reading an entry meanwhile finish reading it.
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
