//! The persistent cache across processes, driven as a user drives it: `npcql` processes with
//! `--cache DIR`, each test with its own folder. A stale or damaged entry must never give a
//! different row than a run without the cache.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{copy_of_sample, npcql, overwrite, stderr, stdout};

/// Headers of both tables and the meshed features, in one result.
const QUERY: &str = "SELECT m.patient_id, m.modality, s.slice_count, s.rows, k.pairing, k.datatype, \
     m.volume_mm3, m.surface_area_mm2, m.voxel_count, m.component_count \
     FROM morphology m JOIN scans s USING (patient_id, modality) JOIN masks k USING (patient_id, modality) \
     ORDER BY m.patient_id, m.modality";

fn rows(data: &Path, cache: Option<&Path>) -> String {
    let data = data.to_str().unwrap();
    let out = match cache {
        Some(folder) => npcql(&[
            "-d",
            data,
            "--cache",
            folder.to_str().unwrap(),
            "--format",
            "csv",
            "-c",
            QUERY,
        ]),
        None => npcql(&["-d", data, "--no-cache", "--format", "csv", "-c", QUERY]),
    };
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "no warning");
    stdout(&out)
}

/// `npcql cache info`'s (entries, hits) of one kind.
fn entries_and_hits(cache: &Path, kind: &str) -> (u64, u64) {
    let out = npcql(&["cache", "info", "--cache", cache.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with(kind))
        .unwrap_or_else(|| panic!("{kind} in {text}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    (fields[1].parse().unwrap(), fields[4].parse().unwrap())
}

/// Lets the copied files' timestamps age past the racy granule, so that results computed from
/// them are stored.
fn settle() {
    std::thread::sleep(Duration::from_millis(250));
}

fn cache_files(cache: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![cache.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_second_process_reads_the_first_ones_results_and_gives_the_same_rows() {
    let data = copy_of_sample(3);
    let cache = tempfile::tempdir().unwrap();
    settle();
    let uncached = rows(data.path(), None);
    assert_eq!(rows(data.path(), Some(cache.path())), uncached);
    assert_eq!(entries_and_hits(cache.path(), "morphology"), (9, 0));
    assert_eq!(rows(data.path(), Some(cache.path())), uncached);
    assert_eq!(entries_and_hits(cache.path(), "morphology"), (9, 9));
    assert_eq!(entries_and_hits(cache.path(), "series_headers"), (9, 9));
    assert_eq!(entries_and_hits(cache.path(), "mask_headers"), (9, 9));
    // EXPLAIN ANALYZE adds the statement's own hits and misses to DataFusion's metrics.
    let explain = npcql(&[
        "-d",
        data.path().to_str().unwrap(),
        "--cache",
        cache.path().to_str().unwrap(),
        "--format",
        "csv",
        "-c",
        "EXPLAIN ANALYZE SELECT sum(volume_mm3) FROM morphology",
    ]);
    assert!(
        stdout(&explain).contains("Cache,\"npcql cache: 27 hits, 0 misses\""),
        "{}",
        stdout(&explain)
    );
    use std::os::unix::fs::PermissionsExt;
    // An existing folder given with --cache keeps its mode; what npcql creates in it is private.
    let mode = std::fs::metadata(cache.path().join("v1")).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the folder is private: {mode:o}");
}

#[test]
fn a_mask_changed_between_two_processes_gives_its_new_value() {
    let data = copy_of_sample(2);
    let cache = tempfile::tempdir().unwrap();
    let mask = data.path().join("MRI-Segments/001/ROI-T2.nii");
    let len = std::fs::metadata(&mask).unwrap().len();
    settle();
    let before = rows(data.path(), Some(cache.path()));

    // The same size, a new modification time: the last voxel (a corner, outside the tumour)
    // becomes tumour.
    overwrite(&mask, len - 1, &[1]);
    let grown = rows(data.path(), Some(cache.path()));
    assert_ne!(grown, before);
    assert_eq!(grown, rows(data.path(), None));

    // A new size: the file cut short is an error row, never the old value.
    settle();
    let _ = rows(data.path(), Some(cache.path()));
    let whole = std::fs::read(&mask).unwrap();
    std::fs::write(&mask, &whole[..whole.len() - 100]).unwrap();
    let out = npcql(&[
        "-d",
        data.path().to_str().unwrap(),
        "--cache",
        cache.path().to_str().unwrap(),
        "-c",
        "SELECT tumor_volume(path) FROM masks WHERE patient_id = '001' AND modality = 'T2'",
    ]);
    assert!(stderr(&out).contains("ROI-T2.nii"), "{}", stderr(&out));
    std::fs::write(&mask, &whole).unwrap();

    // Content changed and the modification time put back (`touch -r`): the change time differs.
    settle();
    let cached = rows(data.path(), Some(cache.path()));
    assert_eq!(cached, grown);
    let modified = std::fs::metadata(&mask).unwrap().modified().unwrap();
    overwrite(&mask, len - 1, &[0]);
    std::fs::File::options()
        .write(true)
        .open(&mask)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    assert_eq!(std::fs::metadata(&mask).unwrap().modified().unwrap(), modified);
    assert_eq!(rows(data.path(), Some(cache.path())), before);
}

#[test]
fn truncated_or_flipped_cache_files_give_the_right_rows_and_are_rebuilt() {
    let data = copy_of_sample(2);
    let cache = tempfile::tempdir().unwrap();
    settle();
    let uncached = rows(data.path(), None);
    assert_eq!(rows(data.path(), Some(cache.path())), uncached);
    let files = cache_files(cache.path());
    assert!(
        files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "pack"))
            .count()
            >= 3,
        "{files:?}"
    );
    for (i, file) in files.iter().enumerate() {
        let mut bytes = std::fs::read(file).unwrap();
        let len = bytes.len();
        match i % 3 {
            0 => bytes.truncate(len / 2),
            1 => bytes[len - 1] ^= 0x01,
            _ => bytes[len / 2] ^= 0x80,
        }
        std::fs::write(file, &bytes).unwrap();
    }
    assert_eq!(rows(data.path(), Some(cache.path())), uncached);
    assert_eq!(rows(data.path(), Some(cache.path())), uncached, "rebuilt");
    let (entries, _) = entries_and_hits(cache.path(), "morphology");
    assert_eq!(entries, 6);
}

#[test]
fn three_processes_filling_one_cache_at_once_all_give_the_right_rows() {
    let data = copy_of_sample(4);
    let cache = tempfile::tempdir().unwrap();
    settle();
    let uncached = rows(data.path(), None);
    let barrier = std::sync::Barrier::new(3);
    let outputs: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    rows(data.path(), Some(cache.path()))
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for output in outputs {
        assert_eq!(output, uncached);
    }
    assert_eq!(
        rows(data.path(), Some(cache.path())),
        uncached,
        "the cache they left reads"
    );
    assert_eq!(entries_and_hits(cache.path(), "morphology").0, 12);
}

#[test]
fn a_cache_folder_that_cannot_be_used_is_a_warning_even_under_strict() {
    let data = copy_of_sample(1);
    let blocked = tempfile::tempdir().unwrap();
    // A file where the folder should be: it cannot be created, whoever runs the test.
    let file = blocked.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let out = npcql(&[
        "-d",
        data.path().to_str().unwrap(),
        "--cache",
        file.to_str().unwrap(),
        "--strict",
        "-c",
        "SELECT count(*) AS n FROM morphology",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains('3'), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!("the cache folder {} cannot be used", file.display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_cache_and_no_external_files_write_nothing() {
    let data = copy_of_sample(1);
    let home = tempfile::tempdir().unwrap();
    for flag in ["--no-cache", "--no-external-files"] {
        let out = crate::support::npcql_command()
            .args([
                "-d",
                data.path().to_str().unwrap(),
                flag,
                "-c",
                "SELECT count(*) FROM morphology",
            ])
            .env("HOME", home.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!home.path().join(".cache").exists(), "{flag} wrote a cache");
    }
    let out = crate::support::npcql_command()
        .args([
            "-d",
            data.path().to_str().unwrap(),
            "-c",
            "SELECT count(*) FROM morphology",
        ])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        home.path().join(".cache/npcql/v1").is_dir(),
        "on by default, in ~/.cache/npcql"
    );
}
