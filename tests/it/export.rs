//! `npcql export` as a user runs it: the committed split of data-sample, an existing export
//! kept unless `--force`, nothing written inside the dataset or by a dry run, a damaged case
//! left out and named (an error with `--strict`), and a model's outputs scored through the
//! export's predictions sidecar. (What SimpleITK, nibabel and pydicom read back from an export
//! is checked in python/tests/test_export.py.)

use std::path::{Path, PathBuf};

use crate::support::{copy_of_sample, data_sample, npcql, stderr, stdout};

fn export(args: &[&str]) -> std::process::Output {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    npcql(&all)
}

fn text(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// Every file under `dir`, relative to it, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

/// A series' sha256 as the manifest defines it (of its slice files' sha256 digests in slice
/// order), computed here apart from the export, which takes it from the bytes its pixel reader
/// read and may remember it.
fn series_sha256_apart(series: &Path) -> String {
    use sha2::{Digest, Sha256};
    let geometry = npcql_imaging::dicom::pixels::series_geometry(series).unwrap();
    let mut outer = Sha256::new();
    for slice in &geometry.slices {
        outer.update(Sha256::digest(std::fs::read(&slice.file).unwrap()));
    }
    outer.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn splits(path: &Path) -> Vec<(Vec<String>, Vec<String>)> {
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|fold| (ids(&fold["train"]), ids(&fold["val"])))
        .collect()
}

/// The split of data-sample for seed 12345, stratified by EBV status, is the committed one
/// (tests/reference/export/data_sample_split.csv; regenerate with the dry run below after a
/// deliberate change). The files written hold the same split; another seed gives another.
#[test]
fn the_split_of_data_sample_is_the_committed_one() {
    let sample = text(&data_sample());
    let out = tempfile::tempdir().unwrap();
    let raw = out.path().join("raw");
    let dry = export(&[
        "nnunet",
        "-d",
        &sample,
        "--out",
        &text(&raw),
        "--stratify",
        "ebv_status",
        "--dry-run",
    ]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(!raw.exists(), "a dry run writes nothing");
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/export/data_sample_split.csv");
    assert_eq!(stdout(&dry), std::fs::read_to_string(&reference).unwrap());
    assert!(
        stderr(&dry).contains("would write 48 cases (48 training in 5 folds, 0 test)"),
        "{}",
        stderr(&dry)
    );

    let run = export(&[
        "nnunet",
        "-d",
        &sample,
        "--out",
        &text(&raw),
        "--stratify",
        "ebv_status",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let folder = raw.join("Dataset501_NPC");
    // Without --preprocessed or $nnUNet_preprocessed the splits stay beside the raw files, and
    // the command says how to put them where nnU-Net reads them.
    assert!(
        stderr(&run).contains("nnUNet_preprocessed/Dataset501_NPC"),
        "{}",
        stderr(&run)
    );
    let written = splits(&folder.join("splits_final.json"));
    let mut folds_of: std::collections::BTreeMap<String, usize> = Default::default();
    for line in stdout(&dry).lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        folds_of.insert(cells[0].to_string(), cells[3].parse().unwrap());
    }
    assert_eq!(written.len(), 5);
    for (fold, (train, val)) in written.iter().enumerate() {
        let expected: Vec<&String> = folds_of.iter().filter(|(_, f)| **f == fold).map(|(c, _)| c).collect();
        assert_eq!(val.iter().collect::<Vec<_>>(), expected, "fold {fold}");
        assert_eq!(train.len() + val.len(), 48);
        assert!(
            train.iter().all(|c| !val.contains(c)),
            "a patient in training and validation"
        );
    }
    for name in [
        "dataset.json",
        "manifest.csv",
        "export.sql",
        "README.md",
        "predictions/npcql-predictions.toml",
    ] {
        assert!(folder.join(name).is_file(), "{name}");
    }
    assert_eq!(tree(&folder.join("imagesTr")).len(), 48);
    assert!(
        tree(out.path()).iter().all(|f| !f.contains(".partial")),
        "no staging left behind"
    );
    // Each series' sha256 is that of its files' sha256 digests in slice order, read here apart
    // from the export (which takes them from the bytes its pixel reader read).
    let mut manifest = csv::Reader::from_path(folder.join("manifest.csv")).unwrap();
    let header = manifest.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (series, digest) = (column("t2_series"), column("t2_series_sha256"));
    let mut checked = 0;
    for row in manifest.records() {
        let row = row.unwrap();
        assert_eq!(
            row[digest],
            series_sha256_apart(Path::new(&row[series])),
            "{}",
            &row[series]
        );
        checked += 1;
    }
    assert_eq!(checked, 48);

    let other = export(&[
        "nnunet",
        "-d",
        &sample,
        "--out",
        &text(&raw),
        "--stratify",
        "ebv_status",
        "--dry-run",
        "--seed",
        "7",
    ]);
    assert!(other.status.success());
    assert_ne!(stdout(&other), stdout(&dry), "another seed, another split");
}

#[test]
fn an_existing_export_is_kept_unless_forced_and_the_dataset_is_never_written() {
    let data = copy_of_sample(6);
    let d = text(data.path());
    let out = tempfile::tempdir().unwrap();
    let raw = text(&out.path().join("raw"));
    let first = export(&["nnunet", "-d", &d, "--out", &raw, "--folds", "2"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let folder = out.path().join("raw/Dataset501_NPC");
    let before = std::fs::read(folder.join("manifest.csv")).unwrap();

    // The same id under another name is the same nnU-Net dataset.
    let again = export(&["nnunet", "-d", &d, "--out", &raw, "--folds", "2", "--name", "Other"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("Dataset501_NPC already exists; a forced export replaces it (the new one is written first, then swapped in) (--force)"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(folder.join("manifest.csv")).unwrap(), before);

    let preprocessed = out.path().join("preprocessed");
    let forced = export(&[
        "nnunet",
        "-d",
        &d,
        "--out",
        &raw,
        "--folds",
        "3",
        "--name",
        "Other",
        "--force",
        "--preprocessed",
        &text(&preprocessed),
    ]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    // Where nnU-Net v2 reads the split, and said so.
    let splits_file = preprocessed.join("Dataset501_Other/splits_final.json");
    assert_eq!(splits(&splits_file).len(), 3);
    assert!(stderr(&forced).contains(&format!("splits_final.json: {}", splits_file.display())));
    std::fs::remove_dir_all(&preprocessed).unwrap();
    let entries: Vec<String> = std::fs::read_dir(out.path().join("raw"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries,
        ["Dataset501_Other"],
        "the old export is gone, nothing half-written remains"
    );

    let inside = export(&[
        "nnunet",
        "-d",
        &d,
        "--out",
        &text(&data.path().join("MRI-Segments/exports")),
    ]);
    assert!(!inside.status.success());
    assert!(stderr(&inside).contains("inside the dataset"), "{}", stderr(&inside));
    assert!(!data.path().join("MRI-Segments/exports").exists());
}

#[test]
fn a_case_that_cannot_be_read_is_left_out_and_named() {
    let data = copy_of_sample(6);
    let d = text(data.path());
    let mask = data.path().join("MRI-Segments/003/ROI-T2.nii");
    let bytes = std::fs::read(&mask).unwrap();
    std::fs::write(&mask, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_dir_all(data.path().join("MRI-Segments/005/T1WI")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let raw = text(&out.path().join("raw"));

    let run = export(&["nnunet", "-d", &d, "--out", &raw, "--folds", "2", "--channels", "T2,T1"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(
        err.contains("left out: patient 003: ") && err.contains("ROI-T2.nii"),
        "{err}"
    );
    assert!(err.contains("left out: patient 005: no T1 series"), "{err}");
    assert!(err.contains("wrote 4 cases") && err.contains("2 left out"), "{err}");
    let manifest = std::fs::read_to_string(out.path().join("raw/Dataset501_NPC/manifest.csv")).unwrap();
    assert_eq!(manifest.lines().count(), 5);

    let strict_out = out.path().join("strict");
    let strict = export(&[
        "nnunet",
        "-d",
        &d,
        "--out",
        &text(&strict_out),
        "--folds",
        "2",
        "--strict",
    ]);
    assert!(!strict.status.success());
    assert!(
        stderr(&strict).contains("patient 003 cannot be exported"),
        "{}",
        stderr(&strict)
    );
    assert!(
        tree(&strict_out).is_empty(),
        "nothing written under --strict: {:?}",
        tree(&strict_out)
    );

    let continuous = export(&[
        "nnunet",
        "-d",
        &d,
        "--out",
        &raw,
        "--dry-run",
        "--stratify",
        "pfs_months",
    ]);
    assert!(
        stderr(&continuous).contains("stratify column pfs_months: a continuous column"),
        "{}",
        stderr(&continuous)
    );
    let few = export(&[
        "nnunet",
        "-d",
        &d,
        "--out",
        &raw,
        "--dry-run",
        "-c",
        "SELECT patient_id FROM patients WHERE patient_id IN ('001', '002')",
    ]);
    assert!(
        stderr(&few).contains("2 training patients cannot fill 5 folds"),
        "{}",
        stderr(&few)
    );
}

/// The loop closed: a model's outputs, named as nnU-Net names them, in the export's
/// predictions folder are read by `-p` through the sidecar and scored.
#[test]
fn a_models_outputs_in_the_export_are_scored_through_the_sidecar() {
    let data = copy_of_sample(6);
    let d = text(data.path());
    let out = tempfile::tempdir().unwrap();
    let raw = out.path().join("raw");
    let run = export(&[
        "nnunet",
        "-d",
        &d,
        "--out",
        &text(&raw),
        "--folds",
        "2",
        "--name",
        "Nasal",
        "--test",
        "SELECT patient_id FROM patients WHERE patient_id IN ('005', '006')",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let folder = raw.join("Dataset501_Nasal");
    // A "model" that predicts the test cases perfectly: their labels under nnU-Net's names.
    let model: PathBuf = folder.join("predictions/perfect");
    std::fs::create_dir_all(&model).unwrap();
    for case in ["Nasal_005", "Nasal_006"] {
        std::fs::copy(
            folder.join(format!("labelsTs/{case}.nii.gz")),
            model.join(format!("{case}.nii.gz")),
        )
        .unwrap();
    }
    let predictions = text(&folder.join("predictions"));
    let scored = npcql(&[
        "-d",
        &d,
        "-p",
        &predictions,
        "-c",
        "SELECT pr.patient_id, agreement(k.path, pr.path).dice AS dice FROM predictions pr \
         JOIN masks k USING (patient_id, modality) WHERE pr.error IS NULL ORDER BY 1",
    ]);
    assert!(scored.status.success(), "{}", stderr(&scored));
    assert_eq!(stdout(&scored), "patient_id,dice\n005,1.0\n006,1.0\n");
    let report = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/model_vs_clinical.sql");
    let analysis = npcql(&["-d", &d, "-p", &predictions, "-f", &text(&report)]);
    assert!(analysis.status.success(), "{}", stderr(&analysis));
    assert!(stdout(&analysis).contains("perfect,T2,"), "{}", stdout(&analysis));
}

/// Sources' digests are remembered in the persistent cache by file version: a second export of
/// an unchanged cohort gives the same manifest digests, and a slice changed in between gets
/// its new digest, equal to one computed here apart from the export.
#[test]
fn a_source_changed_between_exports_gets_its_new_digest() {
    let data = copy_of_sample(2);
    // Past the cache's racy granule, so that the first export's digests are remembered.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let exported = |name: &str| {
        let raw = out.path().join(name);
        let run = crate::support::npcql_command()
            .args([
                "export",
                "nnunet",
                "--folds",
                "2",
                "-d",
                &text(data.path()),
                "--out",
                &text(&raw),
            ])
            .env_remove("nnUNet_preprocessed")
            .env("NPCQL_CACHE_DIR", cache.path())
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", stderr(&run));
        let mut manifest = csv::Reader::from_path(raw.join("Dataset501_NPC/manifest.csv")).unwrap();
        let header = manifest.headers().unwrap().clone();
        manifest
            .records()
            .map(|row| {
                let row = row.unwrap();
                let cell = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
                (cell("t2_series"), cell("t2_series_sha256"), cell("mask_sha256"))
            })
            .collect::<Vec<_>>()
    };
    let first = exported("first");
    assert!(
        cache.path().join("v1/file_sha256").is_dir(),
        "the sources' digests are remembered"
    );
    assert_eq!(exported("again"), first, "an unchanged cohort, the same digests");

    let series = Path::new(&first[0].0);
    let geometry = npcql_imaging::dicom::pixels::series_geometry(series).unwrap();
    let changed = &geometry.slices[geometry.slices.len() / 2].file;
    let length = std::fs::metadata(changed).unwrap().len();
    crate::support::overwrite(changed, length - 64, &[0x5a; 64]);
    let after = exported("after");
    assert_ne!(after[0].1, first[0].1, "the changed series, a new digest");
    assert_eq!(after[0].1, series_sha256_apart(series));
    assert_eq!(after[1], first[1], "the other patient's sources unchanged");
    assert_eq!(after[0].2, first[0].2, "the mask unchanged");
}
