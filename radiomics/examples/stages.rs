//! Where a radiomics extraction's time goes, stage by stage, over a dataset's masks (one core):
//! `cargo run --release -p npcql-radiomics --example stages -- data-sample [REPEATS] [--whole-series]`
//! (`--whole-series` also times reading every series whole, what `normalize` reads: 20 s on
//! the full-size cohort).

use std::path::{Path, PathBuf};
use std::time::Instant;

use npcql_imaging::dicom::pixels;
use npcql_radiomics::extract::{FEATURES, Prepared, features_of, prepare};
use npcql_radiomics::settings::Settings;

fn main() {
    let (flags, positional): (Vec<String>, Vec<String>) = std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let data = positional.first().map_or("data-sample", |d| d.as_str());
    let repeats: usize = positional.get(1).map_or(3, |r| r.parse().expect("REPEATS"));
    assert!(
        flags.iter().all(|f| f == "--whole-series"),
        "unknown flag in {flags:?}: the one flag is --whole-series"
    );
    let whole_series = !flags.is_empty();
    let pairs = pairs(Path::new(data));
    // The best of `repeats` runs, per tumour.
    let time = |what: &str, f: &dyn Fn()| {
        let best = (0..repeats)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "{what:>16}: {:8.1} ms  ({:.3} ms a tumour)",
            best * 1e3,
            best * 1e3 / pairs.len() as f64
        );
    };
    time("series headers", &|| {
        for (series, _) in &pairs {
            pixels::series_geometry(series).unwrap();
        }
    });
    if whole_series {
        time("whole series", &|| {
            for (series, _) in &pairs {
                pixels::read_volume(&pixels::series_geometry(series).unwrap()).unwrap();
            }
        });
    }
    let settings = Settings::default();
    time("prepare", &|| {
        for (series, mask) in &pairs {
            let _ = prepare(series, mask, &settings);
        }
    });
    let prepared: Vec<Prepared> = pairs
        .iter()
        .filter_map(|(s, m)| prepare(s, m, &settings).ok())
        .collect();
    for (class, _) in FEATURES {
        let only = Settings::from_yaml(&format!("featureClass:\n  {class}:\n")).unwrap();
        time(class, &|| {
            for p in &prepared {
                features_of(&p.roi, &only);
            }
        });
    }
    time("every class", &|| {
        for p in &prepared {
            features_of(&p.roi, &settings);
        }
    });
}

/// Every (series folder, mask) of the dataset at `data`.
fn pairs(data: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut patients: Vec<PathBuf> = std::fs::read_dir(data.join("MRI-Segments"))
        .expect("a dataset with MRI-Segments/")
        .flatten()
        .map(|e| e.path())
        .collect();
    patients.sort();
    let mut pairs = Vec::new();
    for patient in patients {
        for (modality, folder) in [("T1", "T1WI"), ("T2", "T2WI"), ("CE-T1", "CE-T1WI")] {
            let (series, mask) = (patient.join(folder), patient.join(format!("ROI-{modality}.nii")));
            if series.is_dir() && mask.is_file() {
                pairs.push((series, mask));
            }
        }
    }
    pairs
}
