//! The `predictions` table's rows: model outputs in a folder with one subfolder per model, each
//! in the dataset's own layout (`MRI-Segments/NNN/ROI-T2.nii[.gz]`, or `NNN/ROI-T2.nii[.gz]`)
//! or nnU-Net's (one `NPC_001.nii.gz` per case, named by a pattern, of one modality).
//!
//! How nnU-Net-style names are read comes from `npcql.toml`'s `[predictions]`, unless the folder
//! (or a model's subfolder) holds the sidecar [`SIDECAR`] that `npcql export` writes: its
//! `[predictions]` `pattern` and `modality` win, so a model's output folder is scored without
//! editing the read-only dataset.
//!
//! Every patient of the dataset gets a row per modality a model predicts; a prediction that is
//! not there keeps its expected path and says so in `error`, so comparing against it warns. A
//! model folder in neither layout is a `dataset_issues` row, so a wrong pattern is not silent.

use std::path::{Path, PathBuf};

use super::clinical::normalise_patient_id;
use super::config::{CONFIG_FILE, PredictionsConfig};
use super::layout::{DatasetProblem, PatientFolder, read_dir_sorted};
use super::modality::Modality;
use crate::error::{Error, Result};

/// The sidecar file in a predictions folder or a model's subfolder: `[predictions]` with
/// `pattern` and `modality`, as in `npcql.toml`.
pub const SIDECAR: &str = "npcql-predictions.toml";

/// `config` with the pattern and modality of `folder`'s sidecar, when it has one.
fn with_sidecar(folder: &Path, config: &PredictionsConfig) -> Result<PredictionsConfig> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sidecar {
        predictions: SidecarKeys,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SidecarKeys {
        pattern: Option<String>,
        modality: Option<String>,
    }
    let path = folder.join(SIDECAR);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(config.clone()),
        Err(e) => return Err(Error::Config(format!("{}: cannot be read: {e}", path.display()))),
    };
    let bad = |why: String| Error::Config(format!("{}: {why}", path.display()));
    let sidecar: Sidecar = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
    let mut config = config.clone();
    if let Some(pattern) = sidecar.predictions.pattern {
        config.pattern = pattern;
    }
    if let Some(modality) = sidecar.predictions.modality {
        config.modality = modality;
    }
    config.check().map_err(bad)?;
    Ok(config)
}

/// One row of `predictions`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub patient_id: String,
    pub modality: Modality,
    /// The model's subfolder name.
    pub model: String,
    pub path: PathBuf,
    /// Why there is no prediction at `path`, when there is none.
    pub error: Option<String>,
}

/// The predictions under `dir` for the dataset's `patients`, and what is wrong with the
/// folder: model folders in neither layout, folders that cannot be listed, a folder that
/// npcql.toml names and that does not exist. Nothing when the default folder is not there.
pub fn discover(
    dir: &Path,
    config: &PredictionsConfig,
    patients: &[PatientFolder],
) -> Result<(Vec<Prediction>, Vec<DatasetProblem>)> {
    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    let mut problem = |path: &Path, problem: String| {
        problems.push(DatasetProblem {
            patient_id: None,
            path: path.display().to_string(),
            problem,
        })
    };
    if !dir.is_dir() {
        if config.dir.is_some() {
            problem(
                dir,
                "npcql.toml's [predictions] dir names a folder that does not exist".into(),
            );
        }
        return Ok((rows, problems));
    }
    let config = &with_sidecar(dir, config)?;
    let models = match read_dir_sorted(dir) {
        Ok(models) => models,
        Err(e) => {
            problem(dir, format!("cannot list the model outputs: {e}"));
            return Ok((rows, problems));
        }
    };
    for model_dir in models.iter().filter(|p| p.is_dir()) {
        let model = model_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let in_layout = [model_dir.join("MRI-Segments"), model_dir.clone()]
            .into_iter()
            .find(|root| patients.iter().any(|p| root.join(&p.patient_id).is_dir()));
        let found = match in_layout {
            Some(root) => in_dataset_layout(&root, &model, patients),
            None => match read_dir_sorted(model_dir) {
                Ok(files) => nnunet_style(model_dir, &files, &model, &with_sidecar(model_dir, config)?, patients)?,
                Err(e) => {
                    problem(model_dir, format!("cannot list the model outputs: {e}"));
                    continue;
                }
            },
        };
        if found.is_empty() {
            problem(
                model_dir,
                format!(
                    "no model outputs recognised: neither MRI-Segments/NNN/ROI-<modality>.nii[.gz] nor files \
                     named {} for the dataset's patients",
                    config.pattern
                ),
            );
        }
        rows.extend(found);
    }
    Ok((rows, problems))
}

/// `root/NNN/ROI-<modality>.nii[.gz]`, for each modality the model predicts for any patient.
fn in_dataset_layout(root: &Path, model: &str, patients: &[PatientFolder]) -> Vec<Prediction> {
    let find = |patient: &str, modality: Modality| {
        ["nii.gz", "nii"]
            .map(|ext| root.join(patient).join(format!("{}.{ext}", modality.mask_stem())))
            .into_iter()
            .find(|p| p.is_file())
    };
    let mut rows = Vec::new();
    for modality in Modality::ALL {
        if !patients.iter().any(|p| find(&p.patient_id, modality).is_some()) {
            continue;
        }
        for patient in patients {
            let found = find(&patient.patient_id, modality);
            let expected = || {
                root.join(&patient.patient_id)
                    .join(format!("{}.nii.gz", modality.mask_stem()))
            };
            rows.push(Prediction {
                patient_id: patient.patient_id.clone(),
                modality,
                model: model.to_string(),
                error: found.is_none().then(|| {
                    format!(
                        "no {} prediction for patient {} in {}",
                        modality.name(),
                        patient.patient_id,
                        root.display()
                    )
                }),
                path: found.unwrap_or_else(expected),
            });
        }
    }
    rows
}

/// The `files` of the model folder named by `config.pattern` (`{patient}` = the case id).
fn nnunet_style(
    model_dir: &Path,
    files: &[PathBuf],
    model: &str,
    config: &PredictionsConfig,
    patients: &[PatientFolder],
) -> Result<Vec<Prediction>> {
    let in_config = |message: String| Error::Config(format!("{CONFIG_FILE}: {message}"));
    let (prefix, suffix) = config.affixes().map_err(in_config)?;
    let modality = config.predicted_modality().map_err(in_config)?;
    // Case ids as the files spell them ("001", "1"), matched to the dataset's ("001").
    let case_of = |file: &Path| -> Option<String> {
        let name = file.file_name()?.to_str()?;
        let id = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
        let id = normalise_patient_id(id)?;
        patients
            .iter()
            .find(|p| normalise_patient_id(&p.patient_id).as_deref() == Some(id.as_str()))
            .map(|p| p.patient_id.clone())
    };
    let found: Vec<(String, PathBuf)> = files
        .iter()
        .filter(|f| f.is_file())
        .filter_map(|f| Some((case_of(f)?, f.clone())))
        .collect();
    if found.is_empty() {
        return Ok(Vec::new());
    }
    Ok(patients
        .iter()
        .map(|patient| {
            let files: Vec<&PathBuf> = found
                .iter()
                .filter(|(id, _)| *id == patient.patient_id)
                .map(|(_, f)| f)
                .collect();
            let name = |f: &PathBuf| f.file_name().unwrap_or_default().to_string_lossy().into_owned();
            // Two spellings of one case (NPC_1 and NPC_001): which is meant is not ours to guess.
            let error = match files.as_slice() {
                [] => Some(format!(
                    "no prediction for patient {} in {}",
                    patient.patient_id,
                    model_dir.display()
                )),
                [_] => None,
                several => Some(format!(
                    "{} outputs for patient {} in {}: {}",
                    several.len(),
                    patient.patient_id,
                    model_dir.display(),
                    several.iter().map(|f| name(f)).collect::<Vec<_>>().join(", ")
                )),
            };
            let expected = || model_dir.join(config.pattern.replace("{patient}", &patient.patient_id));
            Prediction {
                patient_id: patient.patient_id.clone(),
                modality,
                model: model.to_string(),
                error,
                path: files.first().map_or_else(expected, |f| (*f).clone()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patients(ids: &[&str]) -> Vec<PatientFolder> {
        ids.iter()
            .map(|id| PatientFolder {
                patient_id: id.to_string(),
                dir: PathBuf::from(id),
                series: Vec::new(),
                masks: Vec::new(),
            })
            .collect()
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }

    fn summary(rows: &[Prediction], root: &Path) -> Vec<(String, String, String, String, bool)> {
        rows.iter()
            .map(|r| {
                (
                    r.model.clone(),
                    r.patient_id.clone(),
                    r.modality.name().to_string(),
                    r.path.strip_prefix(root).unwrap().display().to_string(),
                    r.error.is_some(),
                )
            })
            .collect()
    }

    #[test]
    fn the_dataset_layout_is_read_with_or_without_mri_segments() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("unet/MRI-Segments/001/ROI-T1.nii"));
        touch(&root.join("unet/MRI-Segments/002/ROI-T1.nii.gz"));
        touch(&root.join("unet/MRI-Segments/001/ROI-T2.nii.gz"));
        touch(&root.join("flat/002/ROI-CE-T1.nii"));
        let (rows, problems) = discover(root, &PredictionsConfig::default(), &patients(&["001", "002"])).unwrap();
        assert_eq!(problems, Vec::new());
        let row = |model: &str, id: &str, modality: &str, path: &str, missing| {
            (model.into(), id.into(), modality.into(), path.into(), missing)
        };
        assert_eq!(
            summary(&rows, root),
            vec![
                row("flat", "001", "CE-T1", "flat/001/ROI-CE-T1.nii.gz", true),
                row("flat", "002", "CE-T1", "flat/002/ROI-CE-T1.nii", false),
                row("unet", "001", "T1", "unet/MRI-Segments/001/ROI-T1.nii", false),
                row("unet", "002", "T1", "unet/MRI-Segments/002/ROI-T1.nii.gz", false),
                row("unet", "001", "T2", "unet/MRI-Segments/001/ROI-T2.nii.gz", false),
                row("unet", "002", "T2", "unet/MRI-Segments/002/ROI-T2.nii.gz", true),
            ]
        );
        let missing = rows.iter().find(|r| r.model == "unet" && r.error.is_some()).unwrap();
        assert_eq!(
            missing.error.as_deref().unwrap(),
            format!(
                "no T2 prediction for patient 002 in {}",
                root.join("unet/MRI-Segments").display()
            )
        );
    }

    #[test]
    fn nnunet_outputs_are_matched_by_the_pattern_and_case_id() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("nnunet/NPC_001.nii.gz"));
        touch(&root.join("nnunet/NPC_3.nii.gz"));
        touch(&root.join("nnunet/plans.json"));
        touch(&root.join("nnunet/NPC_999.nii.gz"));
        let (rows, _) = discover(root, &PredictionsConfig::default(), &patients(&["001", "002", "003"])).unwrap();
        let got: Vec<_> = summary(&rows, root)
            .into_iter()
            .map(|(_, id, modality, path, missing)| (id, modality, path, missing))
            .collect();
        let row = |id: &str, path: &str, missing| (id.to_string(), "T2".to_string(), path.to_string(), missing);
        assert_eq!(
            got,
            vec![
                row("001", "nnunet/NPC_001.nii.gz", false),
                row("002", "nnunet/NPC_002.nii.gz", true),
                row("003", "nnunet/NPC_3.nii.gz", false),
            ]
        );

        // Two spellings of one case: the row says so.
        touch(&root.join("nnunet/NPC_1.nii.gz"));
        let (rows, _) = discover(root, &PredictionsConfig::default(), &patients(&["001"])).unwrap();
        assert_eq!(
            rows[0].error.as_deref(),
            Some(
                format!(
                    "2 outputs for patient 001 in {}: NPC_001.nii.gz, NPC_1.nii.gz",
                    root.join("nnunet").display()
                )
                .as_str()
            )
        );

        let config = PredictionsConfig {
            pattern: "case-{patient}_pred.nii".into(),
            modality: "ce-t1".into(),
            ..PredictionsConfig::default()
        };
        touch(&root.join("other/case-2_pred.nii"));
        let (rows, problems) = discover(&root.join("."), &config, &patients(&["002"])).unwrap();
        let other: Vec<_> = rows.iter().filter(|r| r.model == "other").collect();
        assert_eq!(other.len(), 1);
        assert_eq!((other[0].modality, other[0].error.is_none()), (Modality::CeT1, true));
        // The nnU-Net folder's files no longer match the pattern: said, not silently dropped.
        assert_eq!(problems.len(), 1);
        assert!(problems[0].path.ends_with("nnunet"), "{problems:?}");
        assert!(problems[0].problem.contains("case-{patient}_pred.nii"), "{problems:?}");
    }

    #[test]
    fn a_bad_pattern_or_modality_is_a_clear_error_and_no_folder_no_rows() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("model/NPC_001.nii.gz"));
        let bad = |pattern: &str, modality: &str| {
            let config = PredictionsConfig {
                pattern: pattern.into(),
                modality: modality.into(),
                ..PredictionsConfig::default()
            };
            discover(dir.path(), &config, &patients(&["001"]))
                .unwrap_err()
                .to_string()
        };
        assert!(bad("NPC.nii.gz", "T2").contains("pattern 'NPC.nii.gz' has no {patient}"));
        assert!(bad("NPC_{patient}.nii.gz", "PET").contains("modality 'PET' is not T1, T2 or CE-T1"));
        let unusable = PredictionsConfig {
            modality: "PET".into(),
            ..PredictionsConfig::default()
        };
        assert_eq!(
            unusable.check(),
            Err("[predictions] modality 'PET' is not T1, T2 or CE-T1".to_string())
        );
        let none = discover(
            &dir.path().join("absent"),
            &PredictionsConfig::default(),
            &patients(&["001"]),
        );
        assert_eq!(none.unwrap(), (Vec::new(), Vec::new()));
        // A folder npcql.toml names must be there; the default one need not.
        let named = PredictionsConfig {
            dir: Some(PathBuf::from("absent")),
            ..PredictionsConfig::default()
        };
        let (rows, problems) = discover(&named.folder(dir.path()), &named, &patients(&["001"])).unwrap();
        assert!(rows.is_empty());
        assert!(
            problems[0]
                .problem
                .contains("[predictions] dir names a folder that does not exist")
        );
    }
}
