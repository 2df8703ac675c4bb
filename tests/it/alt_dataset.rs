//! A second dataset made by other tools (pydicom, nibabel, openpyxl; see
//! tests/reference/dataset/make_alt_dataset.py): every header value and clinical cell the
//! tables report matches what the script wrote.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{npcql, stderr, stdout};

fn alt_dataset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/alt-dataset")
}

fn expected() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/dataset/alt-dataset-expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn rows(sql: &str) -> Vec<Value> {
    let out = npcql(&["-d", alt_dataset().to_str().unwrap(), "--format", "ndjson", "-c", sql]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "no warnings on a clean dataset");
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn scans_report_every_header_value() {
    let actual = rows("SELECT * EXCLUDE (series_dir) FROM scans ORDER BY patient_id, modality");
    let mut expected: Vec<Value> = expected()["scans"].as_array().unwrap().clone();
    expected.sort_by_key(|e| {
        (
            e["patient_id"].as_str().unwrap().to_string(),
            e["modality"].as_str().unwrap().to_string(),
        )
    });
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(&expected) {
        for (key, value) in e.as_object().unwrap() {
            assert_eq!(a[key].as_f64().or(None), value.as_f64(), "{key} of {a}");
            assert_eq!(a[key].as_str(), value.as_str(), "{key} of {a}");
        }
        assert!(a.get("error").is_none_or(Value::is_null), "{a}");
    }
}

#[test]
fn masks_report_every_header_value() {
    let actual = rows("SELECT * FROM masks ORDER BY patient_id, modality");
    let mut expected: Vec<Value> = expected()["masks"].as_array().unwrap().clone();
    expected.sort_by_key(|e| {
        (
            e["patient_id"].as_str().unwrap().to_string(),
            e["modality"].as_str().unwrap().to_string(),
        )
    });
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(&expected) {
        for key in [
            "patient_id",
            "modality",
            "dim_x",
            "dim_y",
            "dim_z",
            "spacing_x",
            "spacing_y",
            "spacing_z",
            "datatype",
        ] {
            assert_eq!(a[key], e[key], "{key} of {a}");
        }
        assert!(
            a["path"].as_str().unwrap().ends_with(e["file"].as_str().unwrap()),
            "{a}"
        );
        assert!(a.get("error").is_none_or(Value::is_null), "{a}");
    }
}

/// The tumour of each mask: the voxel count the script wrote (nibabel), and that count times
/// the voxel volume from the spacing it stored; the masks hold 1, 255 or 1.0 in uint8, int16,
/// float32 and float64, plain and gzipped.
#[test]
fn masks_hold_the_tumour_voxels_the_script_wrote() {
    let actual = rows(
        "SELECT patient_id, modality, morphology(path)['voxel_count'] AS voxels, voxel_volume(path) AS volume
         FROM masks ORDER BY patient_id, modality",
    );
    let mut expected: Vec<Value> = expected()["masks"].as_array().unwrap().clone();
    expected.sort_by_key(|e| {
        (
            e["patient_id"].as_str().unwrap().to_string(),
            e["modality"].as_str().unwrap().to_string(),
        )
    });
    assert_eq!(actual.len(), 9);
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(&expected) {
        assert_eq!((&a["patient_id"], &a["modality"]), (&e["patient_id"], &e["modality"]));
        let voxels = e["voxels"].as_u64().unwrap();
        assert!(voxels > 0, "{e}");
        assert_eq!(a["voxels"].as_u64(), Some(voxels), "{a} vs {e}");
        let voxel_mm3: f64 = ["spacing_x", "spacing_y", "spacing_z"]
            .iter()
            .map(|k| e[*k].as_f64().unwrap())
            .product();
        let want = voxels as f64 * voxel_mm3;
        let got = a["volume"].as_f64().unwrap();
        assert!((got - want).abs() <= 1e-12 * want, "{a}: voxel_volume {got} != {want}");
    }
}

#[test]
fn patients_come_through_the_column_mapping() {
    let actual = rows(
        "SELECT patient_id, sex, age, ebv_dna, ebv_status, who_type, pfs_months, pfs_event, smoking FROM patients ORDER BY patient_id",
    );
    let expected = expected()["patients"].as_array().unwrap().clone();
    assert_eq!(actual.len(), expected.len());
    let keys = [
        "patient_id",
        "sex",
        "age",
        "ebv_dna",
        "ebv_status",
        "who_type",
        "pfs_months",
        "pfs_event",
        "smoking",
    ];
    for (a, e) in actual.iter().zip(&expected) {
        for (key, value) in keys.iter().zip(e.as_array().unwrap()) {
            let got = a.get(*key).cloned().unwrap_or(Value::Null);
            let same = match (got.as_f64(), value.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => got == *value,
            };
            assert!(same, "{key}: {got} != {value} in {a}");
        }
    }
}

#[test]
fn a_mapping_to_a_missing_column_names_both() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::copy_dir(&alt_dataset(), dir.path());
    let toml = dir.path().join("npcql.toml");
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("\"Gender\"", "\"Sex at birth\"");
    std::fs::write(&toml, text).unwrap();
    let out = npcql(&["-d", dir.path().to_str().unwrap(), "-c", "SELECT 1"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("'Sex at birth'") && err.contains("NPC clinical data.xlsx"),
        "{err}"
    );

    std::fs::write(&toml, "[clinical]\ncolumns = 3\n").unwrap();
    let out = npcql(&["-d", dir.path().to_str().unwrap(), "-c", "SELECT 1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("npcql.toml"), "{}", stderr(&out));
}
