//! The whole pipeline against PyRadiomics 3.0.1 on real images written as DICOM series in the
//! dataset's layout (`tests/data/radiomics`, made by `tests/reference/radiomics/make_cases.py`;
//! PyRadiomics' numbers in `expected.json`, made by `make_reference.py`).

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::*;
use crate::settings::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn expected() -> Json {
    let text = std::fs::read_to_string(root().join("tests/reference/radiomics/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn value(json: &Json) -> Value {
    match json {
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap()),
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(value).collect()),
        _ => Value::Null,
    }
}

/// The settings of one reference run, as a user would give them.
fn settings_of(case: &str, variant: &str, run: &Json) -> Settings {
    if variant == "params_bincount" {
        let text = std::fs::read_to_string(root().join("tests/reference/radiomics/params_bincount.yaml")).unwrap();
        return Settings::from_yaml(&text).unwrap();
    }
    let mut pairs: Vec<(String, Value)> = run["settings"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), value(v)))
        .collect();
    // PyRadiomics' default label is 1; npcql's is any non-zero voxel. The two-label case says 1.
    if case == "902_T1" && !pairs.iter().any(|(k, _)| k == "label") {
        pairs.push(("label".into(), Value::Number(1.0)));
    }
    Settings::from_pairs(&pairs).unwrap()
}

/// The largest relative difference (absolute below 1e-9) between npcql's features and
/// PyRadiomics'; panics naming the first feature off by more than `tolerance`.
fn compare(label: &str, got: &Extraction, want: &serde_json::Map<String, Json>, tolerance: f64) -> f64 {
    let columns = column_names();
    let mut worst: f64 = 0.0;
    for (key, want) in want {
        let (class, name) = key.split_once('_').unwrap();
        let column = crate::sql_name(class, name);
        let i = columns
            .iter()
            .position(|c| *c == column)
            .unwrap_or_else(|| panic!("no column {column}"));
        let got = got.features[i].unwrap_or_else(|| panic!("{label}: {column} not computed"));
        let Some(want) = want.as_f64() else {
            assert!(got.is_nan(), "{label}: {column} = {got}, PyRadiomics NaN");
            continue;
        };
        let difference = (got - want).abs();
        let relative = if want.abs() < 1e-9 {
            difference
        } else {
            difference / want.abs()
        };
        assert!(
            relative <= tolerance,
            "{label}: {column} = {got}, PyRadiomics {want} (relative {relative:e})"
        );
        worst = worst.max(relative);
    }
    worst
}

#[test]
fn every_feature_matches_pyradiomics_on_real_images() {
    let expected = expected();
    let data = root().join("tests/data/radiomics");
    let mut worst: f64 = 0.0;
    let mut runs = 0;
    for (case, spec) in expected["cases"].as_object().unwrap() {
        let series = data.join(spec["series"].as_str().unwrap());
        let mask = data.join(spec["mask"].as_str().unwrap());
        for (variant, run) in spec["variants"].as_object().unwrap() {
            let settings = settings_of(case, variant, run);
            let label = format!("{case} {variant}");
            let got = extract(&series, &mask, &settings).unwrap_or_else(|e| panic!("{label}: {e}"));
            worst = worst.max(compare(&label, &got, run["features"].as_object().unwrap(), 1e-9));
            let diagnostics = &run["diagnostics"];
            let count = diagnostics["diagnostics_Mask-original_VoxelNum"].as_u64().unwrap() as usize;
            assert_eq!(got.diagnostics.morphological_voxel_count, count, "{label}");
            runs += 1;
        }
    }
    eprintln!("{runs} runs, largest relative difference {worst:e}");
    assert_eq!(runs, 60, "every reference run");
}

#[test]
fn storage_does_not_matter() {
    let expected = expected();
    let data = root().join("tests/data/radiomics");
    for (name, spec) in expected["storage_variants"].as_object().unwrap() {
        let original = &expected["cases"][spec["same_as"].as_str().unwrap()];
        let run = &original["variants"]["default"];
        let settings = settings_of("903", "default", run);
        let series = data.join(spec["series"].as_str().unwrap());
        let mask = data.join(spec["mask"].as_str().unwrap());
        let got = extract(&series, &mask, &settings).unwrap_or_else(|e| panic!("{name}: {e}"));
        compare(name, &got, run["features"].as_object().unwrap(), 1e-9);
    }
}
