//! A worker's series and mask headers, kept across tasks and queries.
//!
//! On one machine a session reads the headers once. A worker gets a fresh session per task, and a
//! saved analysis that uses a view seven times (`cox_morphology.sql`) would read every header seven
//! times. The cache keys on what the files are now (names, sizes, modification times), as the
//! feature cache does, so a changed file is read again; it holds at most one entry per file of the
//! dataset.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use npcql_imaging::dicom::{SeriesInfo, read_series};

use crate::dataset::masks::{MaskInfo, read_mask_info};

/// What a file or folder is now: for a folder its files' names, sizes and modification times.
type Stamp = Vec<(OsString, u64, Option<SystemTime>)>;

#[derive(Debug, Default)]
pub(crate) struct HeaderCache {
    series: Mutex<HashMap<PathBuf, (Stamp, SeriesInfo)>>,
    masks: Mutex<HashMap<PathBuf, CachedMask>>,
}

/// A mask's header as read, with the series grid it was checked against.
#[derive(Debug)]
struct CachedMask {
    stamp: Stamp,
    grid: Option<SeriesInfo>,
    info: MaskInfo,
}

impl HeaderCache {
    /// [`read_series`], or its result for the folder as it was and still is.
    pub(crate) fn series(&self, dir: &Path) -> SeriesInfo {
        let Some(stamp) = folder_stamp(dir) else {
            return read_series(dir);
        };
        if let Some((seen, info)) = lock(&self.series).get(dir)
            && *seen == stamp
        {
            return info.clone();
        }
        let info = read_series(dir);
        lock(&self.series).insert(dir.to_path_buf(), (stamp, info.clone()));
        info
    }

    /// [`read_mask_info`], or its result for the file as it was and still is, against the same
    /// series grid.
    pub(crate) fn mask(&self, path: &Path, series: Option<&SeriesInfo>) -> MaskInfo {
        let Some(stamp) = file_stamp(path) else {
            return read_mask_info(path, series);
        };
        if let Some(cached) = lock(&self.masks).get(path)
            && cached.stamp == stamp
            && cached.grid.as_ref() == series
        {
            return cached.info.clone();
        }
        let info = read_mask_info(path, series);
        let cached = CachedMask {
            stamp,
            grid: series.cloned(),
            info: info.clone(),
        };
        lock(&self.masks).insert(path.to_path_buf(), cached);
        info
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// None when the file cannot be examined: then nothing is cached and the reader says why.
fn file_stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(vec![(OsString::new(), meta.len(), meta.modified().ok())])
}

fn folder_stamp(dir: &Path) -> Option<Stamp> {
    let mut stamp = Vec::new();
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let meta = entry.metadata().ok()?;
        stamp.push((entry.file_name(), meta.len(), meta.modified().ok()));
    }
    stamp.sort();
    Some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_mask_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ROI-T2.nii");
        let cache = HeaderCache::default();
        std::fs::write(&path, b"not a mask").unwrap();
        let first = cache.mask(&path, None);
        assert!(first.error.is_some());
        assert_eq!(cache.mask(&path, None), first, "the same file, from the cache");
        std::fs::write(&path, b"a longer file, still not a mask").unwrap();
        let second = cache.mask(&path, None);
        assert_ne!(second, first, "{second:?}");
        assert!(
            second
                .error
                .unwrap()
                .contains("neither 348 (NIfTI-1) nor 540 (NIfTI-2)")
        );
    }
}
