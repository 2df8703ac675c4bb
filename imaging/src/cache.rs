//! What a cached result is keyed by: the versions of the files it was computed from. The
//! in-process caches of the SQL functions key by [`FileVersion`] today; [`ResultStore`] is the
//! trait the persistent cache (a later issue) implements, so one store serves headers here and
//! the functions' results in `udfs` alike.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One version of a file's contents: its path, size and modification time. A file rewritten
/// in place gets a new version, so nothing stale is served.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileVersion {
    pub path: PathBuf,
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl FileVersion {
    /// The current version of the file at `path`.
    pub fn of(path: &Path) -> std::io::Result<FileVersion> {
        let meta = std::fs::metadata(path)?;
        Ok(FileVersion {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// The current versions of every entry of folder `dir`, by path: a file rewritten, added or
/// removed gives a different list.
pub fn folder_versions(dir: &Path) -> std::io::Result<Vec<FileVersion>> {
    let mut files = std::fs::read_dir(dir)?
        .map(|entry| FileVersion::of(&entry?.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// What a stored result is: which computation (`function`, with its `settings` as text) of
/// which file versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResultKey {
    pub function: &'static str,
    pub settings: String,
    pub files: Vec<FileVersion>,
}

/// A store of computed results as bytes, shared across processes by the persistent cache.
/// `get` after `put` of the same key returns the same bytes until a file version changes; a
/// store may forget anything at any time, so callers always know how to recompute.
pub trait ResultStore: Send + Sync {
    fn get(&self, key: &ResultKey) -> Option<Vec<u8>>;
    fn put(&self, key: &ResultKey, value: &[u8]);
}
