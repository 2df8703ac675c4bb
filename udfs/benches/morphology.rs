//! Morphology benchmark: one 512×512×28 uint8 mask (0.45×0.45×5 mm) holding a ~30 cm³
//! ellipsoidal tumour, as in the NPC dataset. Times all features from the file against a
//! plain read of the same bytes (the floor: we must at least read and scan every voxel).
//!
//! Run: `cargo bench -p npcql-udfs --bench morphology [-- RUNS] [--save-mask FILE]` (release);
//! `--save-mask` also writes the mask to FILE, for `pyradiomics_shape.py FILE` to time
//! PyRadiomics on the same bytes. `-- --cohort DIR` instead computes every mask of a dataset
//! (`DIR/MRI-Segments/*/ROI-*.nii[.gz]`, as `npcql sample --full-size` writes) once, on all
//! cores as the SQL functions do, and prints the peak resident memory.
//!
//! A release build of the workspace takes ~40 min on 2 cores; for quick figures, build this
//! file as the binary of a scratch crate whose lib is `#[path = ".../udfs/src/morphology/mod.rs"]
//! pub mod morphology;` under the name `npcql_udfs` (deps: nifti 0.18, flate2 1.1): ~15 s.
//! Measured so (2026-11-28, 1 core): plain read 0.52 ms, all features 2.11 ms (ratio 4.1);
//! `pyradiomics_shape.py` (PyRadiomics 3.0.1) on the same file: 0.84 s. Cohort of 831
//! full-size masks (277 patients, page cache warm): 0.78–0.92 s on 2 threads, 7–8 MB peak RSS.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod timing;
use timing::time;

use npcql_udfs::morphology::{compute, compute_file, read_mask};

const DIMS: [usize; 3] = [512, 512, 28];
const SPACING: [f32; 3] = [0.45, 0.45, 5.0];
/// Semi-axes (mm) of a 4/3·π·22·20·16.3 ≈ 30.0 cm³ ellipsoid.
const RADII_MM: [f64; 3] = [22.0, 20.0, 16.3];

/// A NIfTI-1 file of `DIMS` uint8 voxels: 1 inside the ellipsoid, 0 elsewhere.
fn nifti_bytes() -> Vec<u8> {
    let mut out = vec![0u8; 352];
    let put = |out: &mut Vec<u8>, at: usize, b: &[u8]| out[at..at + b.len()].copy_from_slice(b);
    put(&mut out, 0, &348i32.to_le_bytes());
    for (i, d) in [3, DIMS[0], DIMS[1], DIMS[2], 1, 1, 1, 1].iter().enumerate() {
        put(&mut out, 40 + 2 * i, &(*d as i16).to_le_bytes());
    }
    put(&mut out, 70, &2i16.to_le_bytes()); // uint8
    put(&mut out, 72, &8i16.to_le_bytes());
    for (i, p) in [1.0, SPACING[0], SPACING[1], SPACING[2], 1.0].iter().enumerate() {
        put(&mut out, 76 + 4 * i, &p.to_le_bytes());
    }
    put(&mut out, 108, &352f32.to_le_bytes());
    put(&mut out, 344, b"n+1\0");
    let centre = [251.3, 262.8, 13.4];
    for z in 0..DIMS[2] {
        for y in 0..DIMS[1] {
            for x in 0..DIMS[0] {
                let d: f64 = [x, y, z]
                    .iter()
                    .enumerate()
                    .map(|(a, &i)| ((i as f64 - centre[a]) * SPACING[a] as f64 / RADII_MM[a]).powi(2))
                    .sum();
                out.push((d <= 1.0) as u8);
            }
        }
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--cohort") {
        cohort(Path::new(args.get(i + 1).expect("--cohort DIR")));
        return;
    }
    let dir = std::env::temp_dir().join(format!("npcql-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path: PathBuf = dir.join("ROI-T1.nii");
    let bytes = nifti_bytes();
    std::fs::write(&path, &bytes).expect("write mask");
    // `cargo bench` passes --bench; under `cargo test --all-targets` run once as a smoke test.
    if let Some(i) = args.iter().position(|a| a == "--save-mask") {
        let out = args.get(i + 1).expect("--save-mask FILE");
        std::fs::write(out, &bytes).expect("write --save-mask FILE");
        println!("mask saved to {out}");
    }
    let runs = match args.iter().find_map(|a| a.parse().ok()) {
        Some(n) => n,
        None if args.iter().any(|a| a == "--bench") => 30,
        None => 1,
    };
    report(&path, runs);
    std::fs::remove_dir_all(&dir).ok();
}

fn report(path: &Path, runs: usize) {
    let features = compute_file(path).expect("readable mask");
    println!(
        "mask {}×{}×{} uint8, {} tumour voxels, mesh volume {:.1} cm³, {} runs (median)",
        DIMS[0],
        DIMS[1],
        DIMS[2],
        features.voxel_count,
        features.mesh_volume_mm3 / 1e3,
        runs
    );
    let plain = time(runs, || std::fs::read(path).expect("read"));
    let read = time(runs, || read_mask(path).expect("read"));
    let mask = read_mask(path).expect("read");
    let kernels = time(runs, || compute(&mask));
    let all = time(runs, || compute_file(path).expect("features"));
    println!("plain read of the file        {:8.2} ms", ms(plain));
    println!("read + crop (read_mask)       {:8.2} ms", ms(read));
    println!("features of the crop (compute){:8.2} ms", ms(kernels));
    println!("all features from the file    {:8.2} ms", ms(all));
    println!(
        "ratio all / plain read        {:8.2}",
        all.as_secs_f64() / plain.as_secs_f64()
    );
}

/// Every mask of the dataset at `root`, computed once on all cores: the cohort figure.
fn cohort(root: &Path) {
    let mut masks: Vec<PathBuf> = std::fs::read_dir(root.join("MRI-Segments"))
        .expect("DIR/MRI-Segments")
        .flatten()
        .flat_map(|patient| std::fs::read_dir(patient.path()).into_iter().flatten().flatten())
        .map(|entry| entry.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            name.starts_with("ROI-") && (name.ends_with(".nii") || name.ends_with(".nii.gz"))
        })
        .collect();
    masks.sort();
    let bytes: u64 = masks.iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let volume_mm3: f64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut sum = 0.0;
                    while let Some(path) = masks.get(next.fetch_add(1, Ordering::Relaxed)) {
                        sum += compute_file(path).expect("readable mask").mesh_volume_mm3;
                    }
                    sum
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    let elapsed = start.elapsed();
    println!(
        "{} masks ({:.2} GB) on {threads} threads: {:.2} s, {:.1} ms per mask; mean volume {:.1} cm³",
        masks.len(),
        bytes as f64 / 1e9,
        elapsed.as_secs_f64(),
        ms(elapsed) / masks.len().max(1) as f64,
        volume_mm3 / masks.len().max(1) as f64 / 1e3
    );
    // Linux reports the process's peak resident set; elsewhere use `/usr/bin/time -v`.
    if let Some(peak) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
    {
        println!("peak RSS {}", peak.trim_start_matches("VmHWM:").trim());
    }
}
