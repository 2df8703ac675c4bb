//! `npcql export nnunet` of a cohort's T2 against its floor: writing the same bytes at the same
//! gzip level on the same number of threads.
//!
//! Run: `cargo bench --bench export -- --data DIR [--threads N] [--runs N] [--npcql BINARY]`
//! (release build). Each run is one `npcql export` process (start-up, the selection, reading
//! every series and mask, placing the voxels, gzip, sha256, the manifest, the rename) into a
//! fresh folder, with a persistent cache of its own. Each of `--runs` rounds (default 3) is a
//! first export into an emptied cache (every header read, every source file hashed) and the
//! same export repeated, which finds the headers and the source digests remembered. The floor
//! is this process gzip-writing the export's own uncompressed files (decompressed beforehand,
//! not timed) with flate2 at the export's level on as many threads. Printed: the medians of
//! first and repeated exports and of the floor, and their ratios.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const LEVEL: u32 = 1;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let data = flag("--data").map_or_else(|| std::env::temp_dir().join("npcql-full"), PathBuf::from);
    let runs: usize = flag("--runs").map_or(3, |n| n.parse().expect("--runs takes a number"));
    let threads: usize = flag("--threads").map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n.parse().expect("--threads takes a number"),
    );
    let npcql = flag("--npcql").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_npcql")), PathBuf::from);
    assert!(
        data.join("MRI-Segments").is_dir(),
        "no cohort at {} (npcql sample --full-size --out DIR)",
        data.display()
    );
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let out = scratch.path().join("raw");
    let cache = scratch.path().join("cache");

    let export = || {
        let _ = std::fs::remove_dir_all(&out);
        let started = Instant::now();
        let output = Command::new(&npcql)
            .args(["export", "nnunet", "--channels", "T2", "--label", "T2"])
            .args([
                "--compression-level",
                &LEVEL.to_string(),
                "--threads",
                &threads.to_string(),
            ])
            .arg("--out")
            .arg(&out)
            .arg("-d")
            .arg(&data)
            .env_remove("nnUNet_preprocessed")
            .env("NPCQL_CACHE_DIR", &cache)
            .output()
            .expect("npcql runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        started.elapsed()
    };
    let (mut firsts, mut repeats) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let _ = std::fs::remove_dir_all(&cache);
        firsts.push(export());
        repeats.push(export());
    }
    let (first, exported) = (median(firsts), median(repeats));

    let files = written_files(&out.join("Dataset501_NPC"));
    let raw: Vec<Vec<u8>> = files.iter().map(|f| decompressed(f)).collect();
    let total: usize = raw.iter().map(Vec::len).sum();
    let floor_dir = scratch.path().join("floor");
    std::fs::create_dir_all(&floor_dir).expect("floor folder");
    let floor = median(
        (0..runs.max(1))
            .map(|_| write_gzip(&raw, &floor_dir, threads))
            .collect(),
    );
    println!(
        "{} files, {:.0} MB uncompressed, gzip level {LEVEL}, {threads} threads, cohort {}",
        files.len(),
        total as f64 / 1e6,
        data.display()
    );
    let ratio = |t: Duration| t.as_secs_f64() / floor.as_secs_f64();
    println!("| | time | ÷ floor |");
    println!("|---|---|---|");
    println!(
        "| `npcql export nnunet --channels T2`, first (cache empty; median of {runs}) | {:.2} s | {:.2} |",
        first.as_secs_f64(),
        ratio(first)
    );
    println!(
        "| the same, repeated (headers and source digests remembered; median of {runs}) | {:.2} s | {:.2} |",
        exported.as_secs_f64(),
        ratio(exported)
    );
    println!(
        "| floor: gzip-writing the same bytes (flate2, zlib-rs; median of {runs}) | {:.2} s | 1 |",
        floor.as_secs_f64()
    );
}

/// Every `.nii.gz` the export wrote.
fn written_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["imagesTr", "labelsTr", "imagesTs", "labelsTs"] {
        if let Ok(entries) = std::fs::read_dir(folder.join(sub)) {
            files.extend(entries.map(|e| e.expect("dir entry").path()));
        }
    }
    files.sort();
    files
}

fn decompressed(file: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(file).expect("export file opens"))
        .read_to_end(&mut bytes)
        .expect("export file decompresses");
    bytes
}

/// Writes each buffer gzipped into `dir` on `threads` threads, as the export spreads cases.
fn write_gzip(buffers: &[Vec<u8>], dir: &Path, threads: usize) -> Duration {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(buffer) = buffers.get(i) else { break };
                    let file = std::fs::File::create(dir.join(format!("{i}.nii.gz"))).expect("floor file");
                    let mut gz = flate2::write::GzEncoder::new(
                        std::io::BufWriter::with_capacity(1 << 20, file),
                        flate2::Compression::new(LEVEL),
                    );
                    gz.write_all(buffer).expect("floor write");
                    gz.finish().expect("floor finish").flush().expect("floor flush");
                }
            });
        }
    });
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
