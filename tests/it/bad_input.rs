//! Bad inputs each give a clear per-file error, and every other row still appears.

use std::fs::OpenOptions;
use std::path::Path;

use crate::support::{copy_of_sample, npcql, overwrite, stderr, stdout};

fn query(dataset: &Path, sql: &str) -> (String, String, bool) {
    query_with(&[], dataset, sql)
}

fn query_with(flags: &[&str], dataset: &Path, sql: &str) -> (String, String, bool) {
    let mut args = flags.to_vec();
    args.extend(["-d", dataset.to_str().unwrap(), "--format", "csv", "-c", sql]);
    let output = npcql(&args);
    (stdout(&output), stderr(&output), output.status.success())
}

fn truncate(path: &Path, len: u64) {
    OpenOptions::new().write(true).open(path).unwrap().set_len(len).unwrap();
}

#[test]
fn broken_dicom_series_are_reported_per_file() {
    let data = copy_of_sample(3);
    let segments = data.path().join("MRI-Segments");
    // A truncated slice in 001's T1 series.
    truncate(&segments.join("001/T1WI/IM3.dcm"), 200);
    // A slice of 003's T2 series cut short inside its pixel data: the header still reads.
    let cut = segments.join("003/T2WI/IM7.dcm");
    truncate(&cut, std::fs::metadata(&cut).unwrap().len() - 1000);
    // A slice missing from the middle of 002's T1 series.
    std::fs::remove_file(segments.join("002/T1WI/IM8.dcm")).unwrap();
    // One slice of 002's T2 series replaced by a T1 slice of another size.
    std::fs::copy(segments.join("002/T1WI/IM5.dcm"), segments.join("002/T2WI/IM5.dcm")).unwrap();

    let (out, err, ok) = query(
        data.path(),
        "SELECT patient_id, modality, error FROM scans ORDER BY patient_id, modality",
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1 + 9, "{out}");
    let row = |id: &str, modality: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id},{modality},")))
            .copied()
            .unwrap()
    };
    assert!(row("001", "T1").contains("IM3.dcm: truncated or corrupt"), "{out}");
    let t2 = row("002", "T2");
    // The stranger is named by what gives it away first: its series UID.
    assert!(
        t2.contains("IM5.dcm") && t2.contains("two series in one folder"),
        "{t2}"
    );
    let t1 = row("002", "T1");
    assert!(
        t1.contains("IM9.dcm: 12.00 mm from the slice of") && t1.contains("IM7.dcm"),
        "{t1}"
    );
    let t2 = row("003", "T2");
    assert!(t2.contains("IM7.dcm: truncated: its pixel data needs"), "{t2}");
    let clean = lines.iter().filter(|l| l.ends_with(',')).count();
    assert_eq!(clean, 5, "the other series read cleanly: {out}");
}

#[test]
fn broken_masks_are_reported_per_file() {
    let data = copy_of_sample(4);
    let segments = data.path().join("MRI-Segments");
    overwrite(&segments.join("001/ROI-T2.nii"), 344, b"XXXX"); // bad magic
    std::fs::copy(segments.join("002/ROI-T1.nii"), segments.join("002/ROI-T2.nii")).unwrap(); // wrong grid
    truncate(&segments.join("003/ROI-CE-T1.nii"), 2000);
    overwrite(&segments.join("004/ROI-T1.nii"), 42, &30000u16.to_le_bytes()); // absurd dims: dim[1]
    overwrite(&segments.join("004/ROI-T1.nii"), 44, &30000u16.to_le_bytes());
    overwrite(&segments.join("004/ROI-T1.nii"), 46, &30000u16.to_le_bytes());

    let (out, err, ok) = query(
        data.path(),
        "SELECT patient_id, modality, error FROM masks WHERE error IS NOT NULL ORDER BY patient_id",
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("001,T2,")
            && lines[0].contains("ROI-T2.nii: not a readable NIfTI header (bad magic code)"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("002,T2,") && lines[1].contains("does not match its series' 128×128×20"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("003,CE-T1,") && lines[2].contains("truncated"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("004,T1,") && lines[3].contains("exceed the"),
        "{}",
        lines[3]
    );

    let (out, _, _) = query(data.path(), "SELECT count(*) FROM masks");
    assert_eq!(out.lines().nth(1), Some("12"), "every mask still has its row");
}

#[test]
fn clinical_problems_warn_and_keep_rows() {
    let data = copy_of_sample(3);
    let clinical = data.path().join("clinical.csv");
    let text = std::fs::read_to_string(&clinical).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen(&lines[2].split(',').nth(2).unwrap().to_string(), "unknown", 1); // age of 002
    lines.push(lines[1].clone()); // duplicate of 001
    std::fs::write(&clinical, lines.join("\n")).unwrap();

    let (out, err, ok) = query(
        data.path(),
        "SELECT patient_id, age FROM patients ORDER BY patient_id, age",
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("clinical.csv row 3: age 'unknown' is not a number"),
        "{err}"
    );
    assert!(
        err.contains("clinical.csv row 5: duplicate patient id 001 (first on row 2)"),
        "{err}"
    );
    assert_eq!(out.lines().count(), 1 + 4, "{out}");
    assert!(
        out.contains("002,\n") || out.contains("002,NULL"),
        "age of 002 is NULL: {out}"
    );

    let strict = npcql(&["-d", data.path().to_str().unwrap(), "--strict", "-c", "SELECT 1"]);
    assert!(!strict.status.success(), "--strict refuses a bad clinical sheet");
    assert!(stderr(&strict).contains("clinical.csv row"), "{}", stderr(&strict));
}

#[test]
fn missing_pieces_are_listed_not_fatal() {
    let data = copy_of_sample(2);
    std::fs::remove_dir_all(data.path().join("MRI-Segments/001/T1WI")).unwrap();
    std::fs::remove_file(data.path().join("MRI-Segments/002/ROI-CE-T1.nii")).unwrap();
    // Another system's case and a stray file.
    std::fs::rename(
        data.path().join("MRI-Segments/002/T2WI"),
        data.path().join("MRI-Segments/002/t2wi"),
    )
    .unwrap();
    std::fs::write(data.path().join("MRI-Segments/002/notes.txt"), "re-contoured").unwrap();
    let (out, err, ok) = query(
        data.path(),
        "SELECT (SELECT count(*) FROM patients) AS patients, (SELECT count(*) FROM scans) AS scans, (SELECT count(*) FROM masks) AS masks",
    );
    assert!(ok, "{err}");
    assert_eq!(out.lines().nth(1), Some("2,5,5"), "{out}");
    let (out, _, _) = query(
        data.path(),
        "SELECT patient_id, problem FROM dataset_issues ORDER BY patient_id",
    );
    assert!(
        out.contains("001,no T1 series") && out.contains("002,no CE-T1 mask"),
        "{out}"
    );
}

#[test]
fn empty_or_garbage_clinical_file_is_one_clear_message() {
    let data = copy_of_sample(1);
    std::fs::write(data.path().join("clinical.csv"), "").unwrap();
    let (_, err, ok) = query(data.path(), "SELECT count(*) FROM patients");
    assert!(ok, "a bad clinical file does not hide the images: {err}");
    assert!(err.contains("clinical.csv: the clinical file is empty"), "{err}");
    let strict = npcql(&["-d", data.path().to_str().unwrap(), "--strict", "-c", "SELECT 1"]);
    assert!(!strict.status.success());
    assert_eq!(stderr(&strict).lines().count(), 1, "{}", stderr(&strict));
}

#[test]
fn the_dataset_is_only_read() {
    use std::os::unix::fs::PermissionsExt;
    let data = copy_of_sample(2);
    let mut stack = vec![data.path().to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone())
            } else {
                files.push(path.clone())
            }
            let mode = if path.is_dir() { 0o555 } else { 0o444 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    let before: Vec<_> = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().modified().unwrap())
        .collect();
    let (_, err, ok) = query(data.path(), "SELECT count(*) FROM scans, masks, patients");
    assert!(ok, "{err}");
    let after: Vec<_> = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().modified().unwrap())
        .collect();
    assert_eq!(before, after);
    for dir in stack.iter().chain(std::iter::once(&data.path().to_path_buf())) {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    }
    make_writable(data.path());
}

fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            make_writable(&path);
        }
    }
}

/// A model output that is missing or unreadable is NULL with a warning naming it (an error under
/// `--strict`), like a mask in the morphology functions; `-p` points at an nnU-Net-style folder.
#[test]
fn missing_or_unreadable_predictions_are_null_with_a_warning() {
    let data = copy_of_sample(3);
    let outputs = tempfile::tempdir().unwrap();
    let model = outputs.path().join("nnunet");
    std::fs::create_dir_all(&model).unwrap();
    let dilated = crate::support::data_sample().join("predictions/dilated/MRI-Segments/001/ROI-T2.nii.gz");
    std::fs::copy(dilated, model.join("NPC_001.nii.gz")).unwrap();
    std::fs::write(model.join("NPC_002.nii.gz"), b"not gzip at all").unwrap();
    let sql = "SELECT p.patient_id, p.model, p.error IS NULL AS found, round(dice(m.path, p.path), 3) AS dice \
               FROM predictions p JOIN masks m USING (patient_id, modality) ORDER BY p.patient_id";
    let run = |strict: bool| {
        let mut args = vec![
            "-d",
            data.path().to_str().unwrap(),
            "-p",
            outputs.path().to_str().unwrap(),
        ];
        args.extend(["--format", "csv", "-c", sql]);
        if strict {
            args.push("--strict");
        }
        npcql(&args)
    };
    let out = run(false);
    assert!(out.status.success(), "{}", stderr(&out));
    // 0.866: SimpleITK's Dice for this pair (tests/reference/agreement/data_sample_predictions.csv).
    assert_eq!(
        stdout(&out),
        "patient_id,model,found,dice\n001,nnunet,true,0.866\n002,nnunet,true,\n003,nnunet,false,\n"
    );
    let warnings: Vec<String> = stderr(&out).lines().map(str::to_owned).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("warning: ") && w.contains("NPC_002.nii.gz")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("warning: ") && w.contains("NPC_003.nii.gz")),
        "{warnings:?}"
    );

    let strict = run(true);
    assert!(!strict.status.success());
    assert!(stderr(&strict).contains("NPC_00"), "{}", stderr(&strict));

    // --no-external-files keeps queries to the dataset and the model outputs it was given.
    let guarded = npcql(&[
        "-d",
        data.path().to_str().unwrap(),
        "-p",
        outputs.path().to_str().unwrap(),
        "--no-external-files",
        "--format",
        "csv",
        "-c",
        sql,
    ]);
    assert!(
        stdout(&guarded).contains("001,nnunet,true,0.866\n"),
        "{}",
        stderr(&guarded)
    );

    // A model folder in neither layout is listed, not silently empty; a -p folder that does not
    // exist is an error.
    std::fs::create_dir_all(outputs.path().join("notes")).unwrap();
    std::fs::write(outputs.path().join("notes/readme.txt"), "").unwrap();
    let (out, err, ok) = query_with(
        &["-p", outputs.path().to_str().unwrap()],
        data.path(),
        "SELECT problem FROM dataset_issues WHERE path LIKE '%notes'",
    );
    assert!(ok, "{err}");
    assert!(out.contains("no model outputs recognised"), "{out}");
    let missing = npcql(&[
        "-d",
        data.path().to_str().unwrap(),
        "-p",
        "/no/such/folder",
        "-c",
        "SELECT 1",
    ]);
    assert!(!missing.status.success());
    assert_eq!(
        stderr(&missing),
        "npcql: error: the predictions folder /no/such/folder does not exist\n"
    );
}
