//! Reader faults found by reading the code (issue 9, section 3): a damaged `vox_offset`, a
//! mask whose name says the opposite of its content about gzip, and a clinical file that
//! `npcql.toml` names in a subfolder. Each test failed on the code before the fixes.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::support::{copy_of_sample, data_sample, npcql, stderr, stdout};

/// Runs `sql` on `dataset` as ndjson; the rows, stderr, and whether npcql exited cleanly.
fn ndjson(dataset: &Path, sql: &str) -> (Vec<Value>, String, bool) {
    let output = npcql(&["-d", dataset.to_str().unwrap(), "--format", "ndjson", "-c", sql]);
    let rows = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (rows, stderr(&output), output.status.success())
}

/// Sets the NIfTI-1 header's `vox_offset` (a little-endian f32 at byte 108).
fn set_vox_offset(path: &Path, vox_offset: f32) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[108..112].copy_from_slice(&vox_offset.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// A huge `vox_offset` (the old code added it, as u64, to the voxel byte count: an overflow
/// panic in a debug build, a wrap-around in release) is a clear error naming the file and
/// the field, in `masks` and from the morphology functions, and nothing panics.
#[test]
fn a_huge_vox_offset_is_a_clear_error() {
    for vox_offset in [3e38_f32, 1e10, f32::INFINITY] {
        let data = copy_of_sample(1);
        let mask = data.path().join("MRI-Segments/001/ROI-T2.nii");
        set_vox_offset(&mask, vox_offset);
        let (rows, err, ok) = ndjson(
            data.path(),
            "SELECT modality, error, tumor_volume(path) AS volume FROM masks ORDER BY modality",
        );
        assert!(ok && !err.contains("panicked"), "vox_offset {vox_offset}: {err}");
        assert_eq!(rows.len(), 3, "every mask keeps its row: {rows:?}");
        let t2 = rows.iter().find(|r| r["modality"] == "T2").unwrap();
        let error = t2["error"]
            .as_str()
            .unwrap_or_else(|| panic!("vox_offset {vox_offset}: no error in {t2}"));
        assert!(
            error.contains(&mask.display().to_string()) && error.contains("vox_offset"),
            "vox_offset {vox_offset}: {error}"
        );
        assert!(t2.get("volume").is_none_or(Value::is_null), "{t2}");
        assert!(
            err.contains("ROI-T2.nii") && err.contains("vox_offset"),
            "tumor_volume warns about the file: {err}"
        );
        for other in rows.iter().filter(|r| r["modality"] != "T2") {
            assert!(other.get("error").is_none_or(Value::is_null), "{other}");
            assert!(other["volume"].as_f64().unwrap() > 0.0, "{other}");
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Gzip is recognised by content in `masks` and in the morphology functions alike: a gzipped
/// mask named `.nii` and a plain mask named `.nii.gz` both read cleanly, with the grid and the
/// tumour volume of the original.
#[test]
fn gzip_is_recognised_by_content_not_name() {
    let data = copy_of_sample(1);
    let patient = data.path().join("MRI-Segments/001");
    // ROI-T1.nii: gzipped, name unchanged.
    let t1 = patient.join("ROI-T1.nii");
    std::fs::write(&t1, gzip(&std::fs::read(&t1).unwrap())).unwrap();
    // ROI-T2.nii.gz: plain, only renamed.
    std::fs::rename(patient.join("ROI-T2.nii"), patient.join("ROI-T2.nii.gz")).unwrap();

    let sql = "SELECT modality, dim_x, dim_y, dim_z, spacing_x, spacing_y, spacing_z, datatype, error,
                      tumor_volume(path) AS volume, voxel_volume(path) AS voxels
               FROM masks WHERE patient_id = '001' ORDER BY modality";
    let (original, _, ok) = ndjson(&data_sample(), sql);
    assert!(ok);
    let (renamed, err, ok) = ndjson(data.path(), sql);
    assert!(ok, "{err}");
    assert_eq!(err, "", "no warnings");
    assert_eq!(renamed.len(), 3, "{renamed:?}");
    for (got, want) in renamed.iter().zip(&original) {
        assert!(got.get("error").is_none_or(Value::is_null), "{got}");
        assert!(want["volume"].as_f64().unwrap() > 0.0, "{want}");
        assert_eq!(got, want, "same grid and same measurements as the original");
    }
    let (paths, _, _) = ndjson(data.path(), "SELECT path FROM masks ORDER BY modality");
    assert!(
        paths[2]["path"].as_str().unwrap().ends_with("ROI-T2.nii.gz"),
        "{paths:?}"
    );
}

/// A clinical file that `npcql.toml` names in a subfolder is the clinical file: no "no
/// clinical csv or xlsx file found" in `dataset_issues`, and its rows are in `patients`.
#[test]
fn a_clinical_file_named_in_a_subfolder_is_found() {
    let data = copy_of_sample(3);
    std::fs::create_dir(data.path().join("sub")).unwrap();
    std::fs::rename(data.path().join("clinical.csv"), data.path().join("sub/clinical.csv")).unwrap();
    std::fs::write(
        data.path().join("npcql.toml"),
        "[clinical]\nfile = \"sub/clinical.csv\"\n",
    )
    .unwrap();

    let (issues, err, ok) = ndjson(data.path(), "SELECT * FROM dataset_issues");
    assert!(ok, "{err}");
    assert_eq!(issues, Vec::<Value>::new(), "no dataset issues");
    assert_eq!(err, "");
    let sql = "SELECT patient_id, age, ebv_status, pfs_months FROM patients ORDER BY patient_id";
    let (moved, _, _) = ndjson(data.path(), sql);
    let (original, _, _) = ndjson(&data_sample(), &format!("{sql} LIMIT 3"));
    assert_eq!(moved, original);
    assert!(original.iter().all(|r| r["age"].is_number()), "{original:?}");
}
