//! Segmentation agreement benchmark on full-size masks: every metric of `agreement(ref, test, 2)`
//! from the two files, one pair at a time on one thread, beside a plain read of both files'
//! bytes. `agreement_peers.py` times MONAI and SimpleITK on the same pairs.
//!
//! The pairs, per patient of a cohort written by `npcql sample --full-size` (T2 512×512×28 at
//! 0.45×0.45×5 mm): the T2 mask against the `dilated` and `shifted` models' T2 predictions
//! (same grid, `.nii.gz`), and against the patient's T1 mask (another grid: resampled).
//!
//! Run:
//! ```sh
//! npcql sample --full-size --patients 8 --out /tmp/full8
//! cargo bench -p npcql-udfs --bench agreement -- --data /tmp/full8 [--runs 10]
//! python udfs/benches/agreement_peers.py /tmp/full8        # the venv of tests/reference/agreement
//! ```
//! As with `benches/morphology.rs`, a scratch crate whose lib is the `morphology` and
//! `agreement` modules (by `#[path]`) gives release figures in seconds, not a 40-minute build.
//! Measured so (2026-12-03, `taskset -c 1`, 8 full-size patients): 3.7–5.1 ms per pair, against
//! SimpleITK's 512–537 ms and MONAI's 624–675 ms on the same core (README, "Segmentation agreement").

use std::path::{Path, PathBuf};

mod timing;
use timing::time;

use npcql_udfs::agreement::agreement_of_files;

/// The kinds of pair: a name, and the test mask's path under the dataset root (`{id}`: the
/// patient) against the reference `MRI-Segments/{id}/ROI-T2.nii`.
const KINDS: [(&str, &str); 3] = [
    (
        "T2 vs dilated T2 (.nii.gz)",
        "predictions/dilated/MRI-Segments/{id}/ROI-T2.nii.gz",
    ),
    (
        "T2 vs shifted T2 (.nii.gz)",
        "predictions/shifted/MRI-Segments/{id}/ROI-T2.nii.gz",
    ),
    ("T2 vs T1 (other grid)", "MRI-Segments/{id}/ROI-T1.nii"),
];

/// The median, the two middle values averaged when they are even in number (as Python's
/// `statistics.median`, so the figures compare with `agreement_peers.py`'s).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    (values[(n - 1) / 2] + values[n / 2]) / 2.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let Some(data) = flag("--data").map(PathBuf::from) else {
        // `cargo test --benches` builds and may start this without a cohort: nothing to time.
        println!("usage: cargo bench -p npcql-udfs --bench agreement -- --data DIR [--runs N]");
        return;
    };
    let runs: usize = flag("--runs")
        .map_or(10, |n| n.parse().expect("--runs takes a number"))
        .max(1);
    let mut patients: Vec<String> = std::fs::read_dir(data.join("MRI-Segments"))
        .expect("DIR/MRI-Segments (npcql sample --full-size --out DIR)")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    patients.sort();
    println!(
        "{} patients of {}, one thread, median of {runs} runs per pair, then the median over pairs",
        patients.len(),
        data.display()
    );
    println!(
        "{:<28} {:>10} {:>12} {:>8} {:>10} {:>8}",
        "pair", "read (ms)", "agreement", "ratio", "dice", "hd95 mm"
    );
    for (kind, test_pattern) in KINDS {
        let (mut read, mut compared, mut dice, mut hd95) = (vec![], vec![], vec![], vec![]);
        for id in &patients {
            let reference = data.join(format!("MRI-Segments/{id}/ROI-T2.nii"));
            let test = data.join(test_pattern.replace("{id}", id));
            if !Path::new(&test).is_file() {
                continue; // a simulated miss
            }
            let plain = time(runs, || {
                (std::fs::read(&reference).unwrap(), std::fs::read(&test).unwrap())
            });
            // Every metric, as `agreement(ref, test, 2)` gives them.
            let all = time(runs, || {
                let a = agreement_of_files(&reference, &test).expect("comparable pair");
                (a.hausdorff_mm(), a.hausdorff95_mm(), a.assd_mm(), a.surface_dice(2.0))
            });
            let result = agreement_of_files(&reference, &test).expect("comparable pair");
            read.push(plain.as_secs_f64() * 1e3);
            compared.push(all.as_secs_f64() * 1e3);
            dice.push(result.dice);
            hd95.push(result.hausdorff95_mm().unwrap_or(f64::NAN));
        }
        if compared.is_empty() {
            println!("{kind:<28} no pairs: write the cohort with an npcql that writes predictions/");
            continue;
        }
        let (read, compared) = (median(read), median(compared));
        println!(
            "{kind:<28} {read:>10.2} {compared:>12.2} {:>8.1} {:>10.4} {:>8.3}",
            compared / read,
            median(dice),
            median(hd95)
        );
    }
}
