//! What a cached result is keyed by, and the one persistent cache of headers and results.
//!
//! The memory tier is each reader's own map in the process (series headers in
//! [`crate::dicom::read_series_remembered`], features in the SQL functions), keyed by
//! [`FileVersion`]. Behind it, [`ResultStore`]: the disk tier ([`DiskCache`]), shared by every
//! process of the machine, so a second `npcql -f` reads from it what the first computed.

mod disk;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::path::{Path, PathBuf};

pub use disk::{CacheInfo, DiskCache, KindInfo};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One version of a file's contents: its path, size, modification and change times (ns) and
/// inode. A file rewritten in place gets a new modification time; one whose contents were
/// changed and whose modification time was then restored (`touch -r`) a new change time; one
/// replaced by another file a new inode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FileVersion {
    pub path: PathBuf,
    pub len: u64,
    pub modified_ns: i128,
    pub changed_ns: i128,
    pub inode: u64,
}

impl FileVersion {
    /// The current version of the file at `path`.
    pub fn of(path: &Path) -> std::io::Result<FileVersion> {
        let meta = std::fs::metadata(path)?;
        Ok(FileVersion::from_metadata(path, &meta))
    }

    pub(crate) fn from_metadata(path: &Path, meta: &std::fs::Metadata) -> FileVersion {
        use std::os::unix::fs::MetadataExt;
        let ns = |seconds: i64, nanos: i64| i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
        FileVersion {
            path: path.to_path_buf(),
            len: meta.len(),
            modified_ns: ns(meta.mtime(), meta.mtime_nsec()),
            changed_ns: ns(meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
        }
    }

    /// Whether the file may still change within the timestamp granule it was last changed in
    /// (Git's "racy" rule): a result computed from it now cannot be told from one computed
    /// after a second write in the same granule, so it is not stored.
    fn is_racy(&self, now_ns: i128) -> bool {
        let last_change = self.modified_ns.max(self.changed_ns);
        // File systems with whole-second timestamps (FAT, some network mounts) leave the
        // nanoseconds at zero: their granule is up to 2 s. Local Linux file systems stamp with
        // the kernel's coarse clock (a tick, at most 10 ms); 100 ms leaves a wide margin.
        let granule = if self.modified_ns % 1_000_000_000 == 0 && self.changed_ns % 1_000_000_000 == 0 {
            2_000_000_000
        } else {
            100_000_000
        };
        last_change + granule > now_ns
    }
}

/// The current versions of every entry of folder `dir`, by path: a file rewritten, added or
/// removed gives a different list.
pub fn folder_versions(dir: &Path) -> std::io::Result<Vec<FileVersion>> {
    Ok(folder_entries(dir)?.into_iter().map(|(version, _)| version).collect())
}

/// [`folder_versions`], each with whether the entry is a file (a link to one counts).
pub(crate) fn folder_entries(dir: &Path) -> std::io::Result<Vec<(FileVersion, bool)>> {
    let mut entries = std::fs::read_dir(dir)?
        .map(|entry| {
            let entry = entry?;
            let path = entry.path();
            // An entry's own metadata is a stat relative to the open folder, not a walk of
            // the whole path again; a link is followed, as `FileVersion::of` does.
            let meta = match entry.file_type()?.is_symlink() {
                true => std::fs::metadata(&path)?,
                false => entry.metadata()?,
            };
            Ok((FileVersion::from_metadata(&path, &meta), meta.is_file()))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    Ok(entries)
}

/// What a stored result is: which computation (`function`, its `version` bumped whenever what
/// it stores changes meaning, and its `settings` as text) of which file versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResultKey {
    pub function: &'static str,
    pub version: u32,
    pub settings: String,
    pub files: Vec<FileVersion>,
}

/// A store of computed results as bytes, shared across processes by the persistent cache.
/// `get` after `put` of the same key returns the same bytes until a file version changes; a
/// store may forget anything at any time, so callers always know how to recompute.
pub trait ResultStore: Send + Sync + std::fmt::Debug {
    fn get(&self, key: &ResultKey) -> Option<Vec<u8>>;
    /// Keeps `value` for `key`, possibly only at the next [`flush`](Self::flush).
    fn put(&self, key: &ResultKey, value: &[u8]);
    /// Writes what `put` kept back (a query's results are written together). Returns a
    /// warning the first time the store cannot be written; the caller goes on uncached.
    fn flush(&self) -> Option<String> {
        None
    }
    /// (hits, misses) since the last call, for `.timer`.
    fn take_counts(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// Entries each header memo (series, masks) holds before it is emptied: about ten times the
/// dataset's 831 series or masks, a few tens of MB of headers at most.
pub const MEMO_CAPACITY: usize = 8_192;

/// `key`'s entry in a memory tier of at most `capacity` entries, the tier emptied first when
/// it is full and `key` is new: a long-lived process (the shell, a notebook, a worker) that
/// meets ever new files holds a bounded amount, and what was forgotten is read or computed
/// again when next asked for. The one rule of every memory tier (headers, features).
pub fn bounded_entry<K: Hash + Eq, V>(memo: &mut HashMap<K, V>, key: K, capacity: usize) -> Entry<'_, K, V> {
    if memo.len() >= capacity && !memo.contains_key(&key) {
        memo.clear();
    }
    memo.entry(key)
}

/// `key`'s value from `store`, decoded; `None` without a store, on a miss, or for bytes that
/// do not decode (a store from another layout of `T` is recomputed, never misread).
pub fn get_value<T: DeserializeOwned>(store: Option<&dyn ResultStore>, key: &ResultKey) -> Option<T> {
    let bytes = store?.get(key)?;
    bincode::deserialize(&bytes).ok()
}

/// Keeps `value` for `key` in `store`, if any.
pub fn put_value<T: Serialize>(store: Option<&dyn ResultStore>, key: &ResultKey, value: &T) {
    if let Some(store) = store
        && let Ok(bytes) = bincode::serialize(value)
    {
        store.put(key, &bytes);
    }
}

/// The SHA-256 (hex) of `value` as the cache encodes it: a key's settings when they are a
/// structure (the series grid a mask header is checked against).
pub fn content_digest<T: Serialize>(value: &T) -> String {
    use sha2::{Digest, Sha256};
    let bytes = bincode::serialize(value).unwrap_or_default();
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_tier_never_holds_more_than_its_capacity() {
        let mut memo = HashMap::new();
        for key in 0..3 * MEMO_CAPACITY {
            bounded_entry(&mut memo, key, MEMO_CAPACITY).insert_entry(key);
            assert!(memo.len() <= MEMO_CAPACITY);
            assert_eq!(memo.get(&key), Some(&key), "the latest entry is kept");
        }
        // A full tier takes a known key again without forgetting the rest.
        let full: HashMap<usize, usize> = (0..MEMO_CAPACITY).map(|k| (k, k)).collect();
        let mut again = full.clone();
        bounded_entry(&mut again, 7, MEMO_CAPACITY).insert_entry(7);
        assert_eq!(again, full);
    }
}
