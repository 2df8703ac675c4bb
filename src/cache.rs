//! Where the persistent cache of headers and results lives, and how big it may grow. The cache
//! itself is the imaging room's [`DiskCache`]; this room chooses its folder and opens it for an
//! engine, a worker or `npcql cache`.

use std::path::PathBuf;
use std::sync::Arc;

use npcql_imaging::cache::ResultStore;
pub use npcql_imaging::cache::{CacheInfo, DiskCache, KindInfo};

/// The default bound of the cache folder (`--cache-size`).
pub const DEFAULT_SIZE_BYTES: u64 = 2 << 30;

/// A persistent cache to use: its folder and the most bytes it may hold.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheSettings {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

impl CacheSettings {
    /// The platform's cache folder, unless `NPCQL_CACHE_DIR` names another: `$XDG_CACHE_HOME/npcql`,
    /// else `~/.cache/npcql`; the default size. `None` without a home folder.
    pub fn default_location() -> Option<CacheSettings> {
        let dir = match std::env::var_os("NPCQL_CACHE_DIR").filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => default_dir()?,
        };
        Some(CacheSettings {
            dir,
            max_bytes: DEFAULT_SIZE_BYTES,
        })
    }

    /// Opens the folder; a folder that cannot be used is a warning (returned), never an error,
    /// and the queries run uncached.
    pub fn open(&self) -> Result<Arc<dyn ResultStore>, String> {
        match DiskCache::open(&self.dir, self.max_bytes) {
            Ok(cache) => Ok(Arc::new(cache)),
            Err(e) => Err(format!(
                "the cache folder {} cannot be used ({e}); queries run uncached",
                self.dir.display()
            )),
        }
    }
}

fn default_dir() -> Option<PathBuf> {
    let absolute = |var: &str| std::env::var_os(var).map(PathBuf::from).filter(|p| p.is_absolute());
    match absolute("XDG_CACHE_HOME") {
        Some(dir) => Some(dir.join("npcql")),
        None => Some(absolute("HOME")?.join(".cache").join("npcql")),
    }
}
