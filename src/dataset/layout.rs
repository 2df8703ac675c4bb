//! Discovery of the dataset layout: patient folders, DICOM series, masks and the clinical file.
//!
//! Layout (SPEC): `ROOT/MRI-Segments/<patient>/{T1WI,T2WI,CE-T1WI}/*.dcm` and
//! `ROOT/MRI-Segments/<patient>/ROI-{T1,T2,CE-T1}.nii[.gz]`, with the clinical csv/xlsx at ROOT.
//! Missing pieces are recorded as [`DatasetProblem`]s, never fatal.

use std::fs;
use std::path::{Path, PathBuf};

use super::config::DatasetConfig;
use super::modality::Modality;
use crate::error::{Error, Result};

/// One patient folder and the pieces found in it.
#[derive(Debug, Clone)]
pub struct PatientFolder {
    /// Zero-padded id as the folder names it, e.g. `"001"`.
    pub patient_id: String,
    pub dir: PathBuf,
    /// DICOM series folders that exist, by modality.
    pub series: Vec<(Modality, PathBuf)>,
    /// Mask files that exist, by modality.
    pub masks: Vec<(Modality, PathBuf)>,
}

/// Something missing or unexpected in the dataset; reported in `dataset_issues`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetProblem {
    pub patient_id: Option<String>,
    pub path: String,
    pub problem: String,
}

/// A discovered dataset: where it is and what it holds.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The folder the clinical file and `npcql.toml` live in.
    pub root: PathBuf,
    /// The `MRI-Segments` folder.
    pub segments_dir: PathBuf,
    pub patients: Vec<PatientFolder>,
    /// The clinical csv/xlsx: the one `npcql.toml` names, else the one found beside
    /// MRI-Segments.
    pub clinical_file: Option<PathBuf>,
    /// `npcql.toml`, or the defaults when there is none.
    pub config: DatasetConfig,
    pub problems: Vec<DatasetProblem>,
}

impl Dataset {
    /// Finds the dataset under `data_dir`, which may be the archive root, `ROOT/data`, or the
    /// `MRI-Segments` folder itself.
    pub fn discover(data_dir: &Path) -> Result<Dataset> {
        let data_dir = data_dir
            .canonicalize()
            .map_err(|e| Error::Dataset(format!("dataset folder {} not found: {e}", data_dir.display())))?;
        if !data_dir.is_dir() {
            return Err(Error::Dataset(format!(
                "dataset path {} is not a folder",
                data_dir.display()
            )));
        }
        let (root, segments_dir) = locate_segments(&data_dir)?;
        let config = DatasetConfig::load(&root)?;
        let mut problems = Vec::new();
        let patients = list_patients(&segments_dir, &mut problems)?;
        let clinical_file = match &config.clinical.file {
            Some(file) => Some(root.join(file)),
            None => find_clinical_file(&root, &segments_dir, &mut problems)?,
        };
        Ok(Dataset {
            root,
            segments_dir,
            patients,
            clinical_file,
            config,
            problems,
        })
    }
}

fn locate_segments(data_dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let is_segments = |p: &Path| p.file_name().is_some_and(|n| n == "MRI-Segments");
    if is_segments(data_dir) {
        let parent = data_dir.parent().unwrap_or(data_dir).to_path_buf();
        // ROOT/data/MRI-Segments: the clinical file sits beside `data` or beside MRI-Segments.
        return Ok((parent, data_dir.to_path_buf()));
    }
    for candidate in [
        data_dir.join("MRI-Segments"),
        data_dir.join("data").join("MRI-Segments"),
    ] {
        if candidate.is_dir() {
            return Ok((data_dir.to_path_buf(), candidate));
        }
    }
    Err(Error::Dataset(format!(
        "{} does not hold the dataset: expected an MRI-Segments folder in it or in its data/ folder",
        data_dir.display()
    )))
}

fn list_patients(segments_dir: &Path, problems: &mut Vec<DatasetProblem>) -> Result<Vec<PatientFolder>> {
    let mut patients = Vec::new();
    for entry in read_dir_sorted(segments_dir).map_err(|e| Error::io(segments_dir, "cannot list", e))? {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !entry.is_dir() {
            continue;
        }
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_digit()) {
            problems.push(DatasetProblem {
                patient_id: None,
                path: entry.display().to_string(),
                problem: "folder name is not a patient id; skipped".into(),
            });
            continue;
        }
        patients.push(scan_patient_folder(&name, &entry, problems));
    }
    Ok(patients)
}

fn scan_patient_folder(patient_id: &str, dir: &Path, problems: &mut Vec<DatasetProblem>) -> PatientFolder {
    let mut series = Vec::new();
    let mut masks = Vec::new();
    let problem = |path: &Path, problem: String| DatasetProblem {
        patient_id: Some(patient_id.to_string()),
        path: path.display().to_string(),
        problem,
    };
    // Names match case-insensitively (t2wi, roi-t2.nii): archives made on other systems vary.
    let entries: Vec<PathBuf> = read_dir_sorted(dir).unwrap_or_default();
    let mut used = vec![false; entries.len()];
    let mut find = |name: &str, want_dir: bool| {
        let i = entries.iter().position(|e| {
            e.file_name()
                .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case(name))
                && e.is_dir() == want_dir
        })?;
        used[i] = true;
        Some(entries[i].clone())
    };
    for modality in Modality::ALL {
        match find(modality.series_folder(), true) {
            Some(series_dir) => series.push((modality, series_dir)),
            None => {
                let name = modality.series_folder();
                let (path, what) = match find(name, false) {
                    Some(file) => (
                        file,
                        format!("no {} series: {name} is a file, not a folder", modality.name()),
                    ),
                    None => (dir.join(name), format!("no {} series", modality.name())),
                };
                problems.push(problem(&path, what));
            }
        }
        let plain = find(&format!("{}.nii", modality.mask_stem()), false);
        let gz = find(&format!("{}.nii.gz", modality.mask_stem()), false);
        match (plain, gz) {
            (Some(plain), Some(gz)) => {
                problems.push(problem(
                    &gz,
                    format!("both {0}.nii and {0}.nii.gz exist; using .nii", modality.mask_stem()),
                ));
                masks.push((modality, plain));
            }
            (Some(path), None) | (None, Some(path)) => masks.push((modality, path)),
            (None, None) => {
                let stem = modality.mask_stem();
                // An Analyze 7.5 pair (or NIfTI as a pair): header and voxels in two files.
                let pair = (find(&format!("{stem}.hdr"), false), find(&format!("{stem}.img"), false));
                let (path, what) = match pair {
                    (Some(header), _) | (None, Some(header)) => (
                        header,
                        format!(
                            "no {} mask: {stem}.hdr/.img is an Analyze-style image pair, which npcql does not \
                             read; convert it to {stem}.nii (nibabel, SimpleITK or ITK-SNAP do)",
                            modality.name()
                        ),
                    ),
                    (None, None) => (dir.join(format!("{stem}.nii")), format!("no {} mask", modality.name())),
                };
                problems.push(problem(&path, what));
            }
        }
    }
    for (entry, used) in entries.iter().zip(used) {
        let hidden = entry.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !used && !hidden {
            problems.push(problem(entry, "not part of the dataset layout; ignored".into()));
        }
    }
    PatientFolder {
        patient_id: patient_id.to_string(),
        dir: dir.to_path_buf(),
        series,
        masks,
    }
}

/// The clinical file: the one csv/xlsx/xls beside MRI-Segments (or at ROOT).
fn find_clinical_file(root: &Path, segments_dir: &Path, problems: &mut Vec<DatasetProblem>) -> Result<Option<PathBuf>> {
    let mut folders = vec![root.to_path_buf()];
    if let Some(parent) = segments_dir.parent().filter(|p| *p != root) {
        folders.push(parent.to_path_buf());
    }
    for folder in folders {
        let found: Vec<PathBuf> = read_dir_sorted(&folder)
            .map_err(|e| Error::io(&folder, "cannot list", e))?
            .into_iter()
            .filter(|p| p.is_file() && is_clinical_extension(p))
            .collect();
        if let Some(first) = found.first() {
            if found.len() > 1 {
                problems.push(DatasetProblem {
                    patient_id: None,
                    path: first.display().to_string(),
                    problem: format!(
                        "{} clinical files found; using this one (name another in npcql.toml)",
                        found.len()
                    ),
                });
            }
            return Ok(Some(first.clone()));
        }
    }
    problems.push(DatasetProblem {
        patient_id: None,
        path: root.display().to_string(),
        problem: "no clinical csv or xlsx file found; patients holds only ids".into(),
    });
    Ok(None)
}

/// Whether the file extension is one the clinical reader understands.
fn is_clinical_extension(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("csv" | "xlsx" | "xls" | "xlsm" | "ods"))
}

/// Entries of a folder in name order.
pub(crate) fn read_dir_sorted(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    Ok(entries)
}
