//! A worker's mask headers, kept across tasks and queries (series headers are remembered by
//! `npcql_imaging::dicom::read_series_remembered` for any process).
//!
//! On one machine a session reads the headers once. A worker gets a fresh session per task, and a
//! saved analysis that uses a view seven times (`cox_morphology.sql`) would read every header seven
//! times. The cache keys on what the file is now (size, modification time), as the feature cache
//! does, so a changed file is read again; it holds at most one entry per mask of the dataset.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use npcql_imaging::cache::FileVersion;
use npcql_imaging::dicom::SeriesInfo;

use crate::dataset::masks::{MaskInfo, read_mask_info};

#[derive(Debug, Default)]
pub(crate) struct HeaderCache {
    masks: Mutex<HashMap<PathBuf, CachedMask>>,
}

/// A mask's header as read, with the series grid it was checked against.
#[derive(Debug)]
struct CachedMask {
    version: FileVersion,
    grid: Option<SeriesInfo>,
    info: MaskInfo,
}

impl HeaderCache {
    /// [`read_mask_info`], or its result for the file as it was and still is, against the same
    /// series grid.
    pub(crate) fn mask(&self, path: &Path, series: Option<&SeriesInfo>) -> MaskInfo {
        let Ok(version) = FileVersion::of(path) else {
            return read_mask_info(path, series);
        };
        if let Some(cached) = lock(&self.masks).get(path)
            && cached.version == version
            && cached.grid.as_ref() == series
        {
            return cached.info.clone();
        }
        let info = read_mask_info(path, series);
        let cached = CachedMask {
            version,
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
