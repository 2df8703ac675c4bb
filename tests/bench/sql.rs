//! The saved analyses through SQL, timed as a user runs them: one `npcql -f` process per run,
//! release build, on the full-size cohort (277 patients, 831 masks of 512×512×28 for T2).
//!
//! Run: `cargo bench --bench sql [-- --data DIR] [--runs N] [--npcql BINARY]` (`--npcql`: time
//! another build of npcql, e.g. an installed one, instead of the one cargo just built). Without `--data` the cohort is
//! `$TMPDIR/npcql-full`, written by `npcql sample --full-size` when it is not there yet (about
//! 6 minutes, 11 GB). Each analysis runs `--runs` times (default 5, medians) three ways:
//! without the persistent cache (`--no-cache`), first with an empty cache (computing and
//! writing it; alternated with the uncached runs, goal: within 10% of them), and second with
//! the cache the first filled (goal: within 2× of the floor and at most 0.3 s). The floor: one
//! process reading every mask's bytes, which an uncached run must do at least. Last, two shipped reports on the bundled data-sample,
//! rendered in this process through the library: once (meshing its masks, reading its pixels),
//! then warm (median of `--runs`, features cached): the survival report, and the segmentation QC
//! sheet (every patient's three sequences drawn at one scanner position; goal: under 2 s).
//! `--reports-only` skips the full-size cohort.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ANALYSES: [&str; 2] = ["queries/morphology_by_ebv.sql", "queries/cox_morphology.sql"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let data = flag("--data").map_or_else(|| std::env::temp_dir().join("npcql-full"), PathBuf::from);
    let runs: usize = flag("--runs").map_or(5, |n| n.parse().expect("--runs takes a number"));
    let npcql = flag("--npcql").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_npcql")), PathBuf::from);
    let npcql = npcql.as_path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if args.iter().any(|a| a == "--reports-only") {
        time_reports(root, runs);
        return;
    }

    if !data.join("MRI-Segments").is_dir() {
        eprintln!("writing the full-size cohort to {} ...", data.display());
        let started = Instant::now();
        let status = Command::new(npcql)
            .args(["sample", "--full-size", "--out"])
            .arg(&data)
            .status()
            .expect("npcql sample runs");
        assert!(status.success(), "npcql sample failed");
        eprintln!("written in {:.1} s", started.elapsed().as_secs_f64());
    }

    let masks = mask_files(&data);
    let floor = median((0..runs.max(1)).map(|_| read_all(&masks)).collect());
    println!(
        "{} masks under {}; floor (read every mask's bytes, one process): {:.3} s",
        masks.len(),
        data.display(),
        floor.as_secs_f64()
    );
    let cache = std::env::temp_dir().join("npcql-bench-cache");
    println!("| analysis | uncached | first, empty cache | first / uncached | second, cached | second / floor |");
    println!("|---|---|---|---|---|---|");
    for analysis in ANALYSES {
        let run = |cache_flags: &[&std::ffi::OsStr]| {
            let started = Instant::now();
            let output = Command::new(npcql)
                .arg("-d")
                .arg(&data)
                .args(cache_flags)
                .arg("-f")
                .arg(root.join(analysis))
                .env_remove("NPCQL_DATA")
                .output()
                .expect("npcql runs");
            assert!(
                output.status.success(),
                "{analysis} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            started.elapsed()
        };
        let uncached_flags = [std::ffi::OsStr::new("--no-cache")];
        let cached_flags = [std::ffi::OsStr::new("--cache"), cache.as_os_str()];
        // Uncached and first runs alternated, so that drift on a shared machine hits both.
        let (mut uncached, mut first) = (Vec::new(), Vec::new());
        for _ in 0..runs.max(1) {
            uncached.push(run(&uncached_flags));
            let _ = std::fs::remove_dir_all(&cache);
            first.push(run(&cached_flags));
        }
        let second = median((0..runs.max(1)).map(|_| run(&cached_flags)).collect());
        let (uncached, first) = (median(uncached), median(first));
        println!(
            "| `{analysis}` | {:.3} s | {:.3} s | {:.2} | {:.3} s | {:.2} |",
            uncached.as_secs_f64(),
            first.as_secs_f64(),
            first.as_secs_f64() / uncached.as_secs_f64(),
            second.as_secs_f64(),
            second.as_secs_f64() / floor.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&cache);
    time_reports(root, runs);
}

/// The shipped reports on data-sample, each in a fresh engine: first render, then the median of
/// `runs` warm renders.
fn time_reports(root: &Path, runs: usize) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let params = npcql::query::Params::default();
    println!();
    for report in ["queries/survival_report.sql", "queries/segmentation_qc.sql"] {
        let engine = npcql::Engine::open(&root.join("data-sample"), false).expect("data-sample opens");
        let path = root.join(report);
        let render = || {
            let started = Instant::now();
            runtime
                .block_on(npcql::report::render(&engine, &path, &params))
                .expect("the report renders");
            started.elapsed()
        };
        let first = render();
        let warm = median((0..runs.max(1)).map(|_| render()).collect());
        println!(
            "`{report}` on data-sample, in process: first {:.3} s, warm {:.3} s (median of {runs})",
            first.as_secs_f64(),
            warm.as_secs_f64()
        );
    }
}

/// Every mask of the cohort: `MRI-Segments/*/ROI-*.nii[.gz]`.
fn mask_files(data: &Path) -> Vec<PathBuf> {
    let mut masks = Vec::new();
    for patient in std::fs::read_dir(data.join("MRI-Segments")).expect("MRI-Segments reads") {
        for file in std::fs::read_dir(patient.expect("patient folder").path()).expect("patient folder reads") {
            let path = file.expect("dir entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
            if name.starts_with("ROI-") && (name.ends_with(".nii") || name.ends_with(".nii.gz")) {
                masks.push(path);
            }
        }
    }
    masks
}

/// The time to read every file's bytes on both cores, as the morphology functions spread masks.
fn read_all(files: &[PathBuf]) -> Duration {
    let started = Instant::now();
    let half = files.len().div_ceil(2);
    std::thread::scope(|scope| {
        for part in files.chunks(half.max(1)) {
            scope.spawn(move || {
                let bytes: usize = part.iter().map(|f| std::fs::read(f).expect("mask reads").len()).sum();
                std::hint::black_box(bytes);
            });
        }
    });
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
