//! The bundled sample: regenerating it gives the same bytes, and the tables report exactly the
//! geometry the generator wrote.

use std::path::Path;

use npcql::Engine;
use npcql::sample::draw_patient;

use crate::support::{data_sample, npcql, stderr};

const SEED: u64 = 2025;

fn files_under(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path)
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf())
            }
        }
    }
    out.sort();
    out
}

#[test]
fn regenerating_the_sample_gives_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sample");
    let run = npcql(&["sample", "--out", out.to_str().unwrap(), "--seed", &SEED.to_string()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let expected = files_under(&data_sample());
    assert_eq!(files_under(&out), expected);
    for file in &expected {
        let same = std::fs::read(data_sample().join(file)).unwrap() == std::fs::read(out.join(file)).unwrap();
        assert!(same, "{} differs from a fresh `npcql sample`", file.display());
    }
}

/// The tumours' texture may change; the masks, clinical.csv and the simulated predictions of
/// a fresh sample may not, so regenerating `data-sample` after a change to the generator can
/// never move them silently. The digests were computed from `data-sample` before the texture
/// was added (FNV-1a 64 over each file's relative path, NUL, length as u64 LE and bytes, in
/// path order).
#[test]
fn the_sample_masks_clinical_data_and_predictions_never_change() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sample");
    let run = npcql(&["sample", "--out", out.to_str().unwrap(), "--seed", &SEED.to_string()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let files = files_under(&out);
    let group = |keep: fn(&str) -> bool| -> (usize, String) {
        let chosen: Vec<&std::path::PathBuf> = files
            .iter()
            .filter(|f| keep(&f.to_string_lossy().replace('\\', "/")))
            .collect();
        (chosen.len(), format!("{:016x}", fnv1a_digest(&out, &chosen)))
    };
    assert_eq!(
        group(|f| f == "clinical.csv"),
        (1, "bd397c3187125fba".to_string()),
        "clinical.csv"
    );
    assert_eq!(
        group(|f| f.starts_with("MRI-Segments/") && f.rsplit('/').next().unwrap().starts_with("ROI-")),
        (144, "e96276b540ccedf4".to_string()),
        "MRI-Segments/*/ROI-*.nii"
    );
    assert_eq!(
        group(|f| f.starts_with("predictions/")),
        (285, "1c8a9dac200673b2".to_string()),
        "predictions/"
    );
}

/// FNV-1a 64 (Fowler–Noll–Vo) over `files` under `root`: enough to notice drift, and the same
/// in a few lines of Python.
fn fnv1a_digest(root: &Path, files: &[&std::path::PathBuf]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for file in files {
        let bytes = std::fs::read(root.join(file)).unwrap();
        feed(file.to_string_lossy().replace('\\', "/").as_bytes());
        feed(&[0]);
        feed(&(bytes.len() as u64).to_le_bytes());
        feed(&bytes);
    }
    hash
}

/// The stated link of texture to outcome (`TumourTexture`, README): on the full-size cohort (277
/// patients, seed 2025; drawn, not written) the Cox hazard ratio of progression per SD of the
/// heterogeneity score is about 2.
#[test]
fn more_heterogeneous_tumours_progress_sooner() {
    let patients: Vec<_> = (0..277).map(|i| draw_patient(SEED, i, true)).collect();
    let time: Vec<f64> = patients.iter().map(|p| p.clinical.pfs_months).collect();
    let event: Vec<bool> = patients.iter().map(|p| p.clinical.pfs_event).collect();
    let h: Vec<f64> = patients.iter().map(|p| p.texture.heterogeneity).collect();
    let mean = h.iter().sum::<f64>() / h.len() as f64;
    let sd = (h.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (h.len() - 1) as f64).sqrt();
    let per_sd: Vec<f64> = h.iter().map(|x| (x - mean) / sd).collect();
    if std::env::var_os("NPCQL_PRINT_HETEROGENEITY").is_some() {
        for ((t, e), x) in time.iter().zip(&event).zip(&per_sd) {
            println!("heterogeneity,{t},{},{x}", u8::from(*e));
        }
    }
    let fit = npcql_udfs::survival::cox_ph(&time, &event, &[per_sd]).unwrap();
    let c = &fit.coefficients[0];
    let stated = (2.04, 1.65, 2.52);
    let measured = (c.hr, c.hr_lower, c.hr_upper);
    // The docs state two decimals.
    let close = |a: f64, b: f64| (a * 100.0).round() == (b * 100.0).round();
    assert!(
        close(measured.0, stated.0) && close(measured.1, stated.1) && close(measured.2, stated.2),
        "HR per SD of h {measured:?}, the docs state {stated:?}"
    );
}

#[test]
fn sample_refuses_a_non_empty_folder() {
    let run = npcql(&["sample", "--out", data_sample().to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("not empty"), "{}", stderr(&run));
}

#[tokio::test]
async fn tables_match_the_generated_geometry() {
    let engine = Engine::open(&data_sample(), true).unwrap();
    let results = npcql::query::run(
        &engine,
        "SELECT patient_id, modality, slice_count, rows, columns, pixel_spacing_row, pixel_spacing_col, slice_thickness,
                spacing_between_slices, echo_time_ms, repetition_time_ms, flip_angle, manufacturer, model, field_strength_t, error
         FROM scans ORDER BY patient_id, modality",
    )
    .await
    .unwrap();
    let csv = to_csv(&results[0]);
    let expected = expected_rows(|p, name, s| {
        let g = &p.series[s];
        format!(
            "{},{name},{},{},{},{:?},{:?},{:?},{:?},{:?},{:?},{:?},{},{},{:?},",
            p.patient_id,
            g.slices,
            g.rows,
            g.columns,
            decimal_string(g.pixel_mm),
            decimal_string(g.pixel_mm),
            decimal_string(g.slice_thickness_mm),
            decimal_string(g.slice_spacing_mm),
            decimal_string(g.echo_time_ms),
            decimal_string(g.repetition_time_ms),
            decimal_string(g.flip_angle),
            p.scanner.manufacturer(),
            p.scanner.model(),
            decimal_string(p.scanner.field_strength_t())
        )
    });
    assert_same_rows(&csv, &expected);

    let results = npcql::query::run(&engine, "SELECT patient_id, modality, dim_x, dim_y, dim_z, spacing_x, spacing_z, datatype, error FROM masks ORDER BY patient_id, modality").await.unwrap();
    let csv = to_csv(&results[0]);
    let expected = expected_rows(|p, name, s| {
        let g = &p.series[s];
        // NIfTI stores spacing as f32.
        format!(
            "{},{name},{},{},{},{:?},{:?},uint8,",
            p.patient_id,
            g.columns,
            g.rows,
            g.slices,
            f64::from(g.pixel_mm as f32),
            f64::from(g.slice_spacing_mm as f32)
        )
    });
    assert_same_rows(&csv, &expected);
}

/// The value a DICOM DS string written with six decimals reads back as.
fn decimal_string(v: f64) -> f64 {
    format!("{v:.6}").parse().unwrap()
}

fn assert_same_rows(actual: &[String], expected: &[String]) {
    assert_eq!(actual.len(), expected.len(), "row count");
    for (a, e) in actual.iter().zip(expected) {
        assert_eq!(a, e);
    }
}

/// One expected row per generated series, in `ORDER BY patient_id, modality` order ('CE-T1' <
/// 'T1' < 'T2'); `row` formats a series given its patient, modality name and index in `series`.
fn expected_rows(row: impl Fn(&npcql::sample::SyntheticPatient, &str, usize) -> String) -> Vec<String> {
    (0..48)
        .map(|i| draw_patient(SEED, i, false))
        .flat_map(|p| [("CE-T1", 2), ("T1", 0), ("T2", 1)].map(|(name, s)| row(&p, name, s)))
        .collect()
}

fn to_csv(result: &npcql::query::StatementResult) -> Vec<String> {
    let mut buffer = Vec::new();
    npcql::output::write_result(
        &mut buffer,
        npcql::output::Format::Csv,
        &result.schema,
        &result.batches,
        Default::default(),
    )
    .unwrap();
    String::from_utf8(buffer)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}
