use std::path::Path;

use super::*;
use crate::cache::FileVersion;

/// A source file whose last change is older than the racy granule.
fn settled_source(dir: &Path, name: &str, text: &str) -> FileVersion {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    let mut version = FileVersion::of(&path).unwrap();
    // The change time cannot be set back; the key's copy of it can (the store only compares).
    version.modified_ns -= 10_000_000_000;
    version.changed_ns -= 10_000_000_000;
    version
}

fn key(source: &FileVersion) -> ResultKey {
    ResultKey {
        function: "morphology",
        version: 1,
        settings: String::new(),
        files: vec![source.clone()],
    }
}

fn pack_files(dir: &Path) -> Vec<PathBuf> {
    packs_of(&dir.join(LAYOUT).join("morphology"))
        .iter()
        .map(|p| p.path.clone())
        .collect()
}

#[test]
fn a_value_put_and_flushed_is_read_back_by_another_opening() {
    let dir = tempfile::tempdir().unwrap();
    let source = settled_source(dir.path(), "mask.nii", "m");
    let cache = DiskCache::open(&dir.path().join("cache"), 1 << 30).unwrap();
    assert_eq!(cache.get(&key(&source)), None);
    cache.put(&key(&source), b"features");
    assert_eq!(cache.get(&key(&source)), None, "kept back until the query's flush");
    cache.flush();
    let again = DiskCache::open(&dir.path().join("cache"), 1 << 30).unwrap();
    assert_eq!(again.get(&key(&source)).as_deref(), Some(&b"features"[..]));
    assert_eq!(again.take_counts(), (1, 0));
    drop(again);
    let info = DiskCache::info(&dir.path().join("cache")).unwrap();
    let morphology = &info.kinds[0];
    assert_eq!((morphology.kind.as_str(), morphology.entries), ("morphology", 1));
    assert_eq!((morphology.hits, morphology.misses), (1, 2));
}

#[test]
fn every_file_and_folder_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let source = settled_source(dir.path(), "mask.nii", "m");
    let cache = DiskCache::open(&dir.path().join("cache"), 1 << 30).unwrap();
    cache.put(&key(&source), b"features");
    cache.flush();
    walk(&dir.path().join("cache"), &mut |p, meta| {
        assert_eq!(meta.permissions().mode() & 0o077, 0, "{}", p.display());
    })
    .unwrap();
    let mode = fs::metadata(dir.path().join("cache")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn a_changed_source_version_misses() {
    let dir = tempfile::tempdir().unwrap();
    let source = settled_source(dir.path(), "mask.nii", "m");
    let cache = DiskCache::open(&dir.path().join("cache"), 1 << 30).unwrap();
    cache.put(&key(&source), b"old");
    cache.flush();
    for changed in [
        FileVersion {
            len: 2,
            ..source.clone()
        },
        FileVersion {
            modified_ns: source.modified_ns + 1,
            ..source.clone()
        },
        FileVersion {
            changed_ns: source.changed_ns + 1,
            ..source.clone()
        },
        FileVersion {
            inode: source.inode + 1,
            ..source.clone()
        },
    ] {
        assert_eq!(cache.get(&key(&changed)), None, "{changed:?}");
    }
}

#[test]
fn an_entry_of_another_build_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let source = settled_source(dir.path(), "mask.nii", "m");
    let old = DiskCache::open_for_build(&dir.path().join("cache"), 1 << 30, "an older build").unwrap();
    old.put(&key(&source), b"from the older build");
    old.flush();
    let current = DiskCache::open(&dir.path().join("cache"), 1 << 30).unwrap();
    assert_eq!(current.get(&key(&source)), None);
}

#[test]
fn a_source_changed_within_the_granule_is_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mask.nii");
    fs::write(&path, "m").unwrap();
    let fresh = FileVersion::of(&path).unwrap();
    let cache = DiskCache::open(&dir.path().join("cache"), 1 << 30).unwrap();
    cache.put(&key(&fresh), b"racy");
    cache.flush();
    assert!(pack_files(&dir.path().join("cache")).is_empty());
}

#[test]
fn a_truncated_or_flipped_pack_is_a_miss_and_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let source = settled_source(dir.path(), "mask.nii", "m");
    let folder = dir.path().join("cache");
    let cache = DiskCache::open(&folder, 1 << 30).unwrap();
    cache.put(&key(&source), b"the features of a mask");
    cache.flush();
    let [pack] = pack_files(&folder).try_into().unwrap();
    let whole = fs::read(&pack).unwrap();
    let mut damaged: Vec<Vec<u8>> = (0..whole.len()).map(|n| whole[..n].to_vec()).collect();
    for i in 0..whole.len() {
        for bit in [0x01, 0x80] {
            let mut flipped = whole.clone();
            flipped[i] ^= bit;
            damaged.push(flipped);
        }
    }
    for bytes in damaged {
        fs::write(&pack, &bytes).unwrap();
        // A process opening the cache after the damage.
        let later = DiskCache::open(&folder, 1 << 30).unwrap();
        assert_eq!(later.get(&key(&source)), None, "{bytes:?}");
    }
    let later = DiskCache::open(&folder, 1 << 30).unwrap();
    later.put(&key(&source), b"the features of a mask");
    later.flush();
    let again = DiskCache::open(&folder, 1 << 30).unwrap();
    assert_eq!(
        again.get(&key(&source)).as_deref(),
        Some(&b"the features of a mask"[..])
    );
}

#[test]
fn the_least_recently_used_packs_go_first_beyond_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("cache");
    let sources: Vec<FileVersion> = (0..6)
        .map(|i| settled_source(dir.path(), &format!("{i}.nii"), "m"))
        .collect();
    // One entry per pack (one flush each): 1 KB of payload, 8 bytes of magic, 52 of index and
    // 28 of footer; room for about four.
    let cache = DiskCache::open(&folder, 4 * 1112 + 100).unwrap();
    let write = |source: &FileVersion| {
        cache.put(&key(source), &[7; 1024]);
        cache.flush();
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    sources[..4].iter().for_each(write);
    // Make the first the most recently used, then add two more.
    assert!(cache.get(&key(&sources[0])).is_some());
    std::thread::sleep(std::time::Duration::from_millis(20));
    sources[4..].iter().for_each(write);
    let later = DiskCache::open(&folder, 1 << 30).unwrap();
    let kept: Vec<bool> = sources.iter().map(|s| later.get(&key(s)).is_some()).collect();
    assert!(kept[0], "the entry just hit stays: {kept:?}");
    assert!(kept[4] && kept[5], "the new entries stay: {kept:?}");
    assert!(!kept[1] && !kept[2], "the oldest unused go: {kept:?}");
}

#[test]
fn many_packs_of_a_kind_are_merged_into_one_with_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("cache");
    let sources: Vec<FileVersion> = (0..=MERGE_ABOVE_PACKS)
        .map(|i| settled_source(dir.path(), &format!("{i}.nii"), "m"))
        .collect();
    let cache = DiskCache::open(&folder, 1 << 30).unwrap();
    for (i, source) in sources.iter().enumerate() {
        cache.put(&key(source), format!("entry {i}").as_bytes());
        cache.flush();
    }
    assert_eq!(pack_files(&folder).len(), 1);
    let later = DiskCache::open(&folder, 1 << 30).unwrap();
    for (i, source) in sources.iter().enumerate() {
        assert_eq!(later.get(&key(source)), Some(format!("entry {i}").into_bytes()));
    }
    assert_eq!(DiskCache::info(&folder).unwrap().kinds[0].entries, sources.len() as u64);
}

#[test]
fn a_folder_that_cannot_be_written_is_an_error_when_opened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o500)).unwrap();
    // Root ignores permissions; the test says nothing there.
    if File::create(locked.join("x")).is_err() {
        assert!(DiskCache::open(&locked.join("cache"), 1 << 30).is_err());
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn clear_empties_the_folder_and_info_of_a_missing_folder_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let source = settled_source(dir.path(), "mask.nii", "m");
    let folder = dir.path().join("cache");
    let cache = DiskCache::open(&folder, 1 << 30).unwrap();
    cache.put(&key(&source), b"x");
    cache.flush();
    DiskCache::clear(&folder).unwrap();
    let later = DiskCache::open(&folder, 1 << 30).unwrap();
    assert_eq!(later.get(&key(&source)), None);
    assert_eq!(DiskCache::info(&folder).unwrap().bytes, 0);
    assert_eq!(DiskCache::info(&dir.path().join("nowhere")).unwrap().kinds, vec![]);
}
