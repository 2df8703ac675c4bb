//! The export's files: the staging folder and its rename into place, each case's images and
//! label, and the files that describe them (`dataset.json`, `splits_final.json`, the MONAI
//! datalist, `manifest.csv`, the SQL that made it, a README and the predictions sidecar).

use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use npcql_imaging::nifti_write::{Voxels, write_nifti_gz};
use npcql_imaging::resample::Misalignment;
use serde_json::{Value, json};

use super::case::{BuiltCase, CaseSources, CheckedCase};
use super::digest::{HashingWriter, hex};
use super::{ExportFormat, ExportOptions, ExportedCase};
use crate::Engine;
use crate::dataset::Modality;
use crate::error::{Error, Result};

/// Where the export lands: nnU-Net's `DatasetNNN_NAME` under the raw root, or MONAI's folder.
pub(super) fn target_folder(options: &ExportOptions) -> PathBuf {
    match options.format {
        ExportFormat::Nnunet => options.out.join(nnunet_name(options)),
        ExportFormat::Monai => options.out.clone(),
    }
}

fn nnunet_name(options: &ExportOptions) -> String {
    format!("Dataset{:03}_{}", options.dataset_id, options.name)
}

/// `out` as an absolute path without `..`, through its nearest existing ancestor (symlinks
/// resolved there), so a folder that does not exist yet can be compared too.
fn resolved(out: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(out)?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name().unwrap_or_default().to_os_string());
        existing = existing.parent().unwrap_or(Path::new("/"));
    }
    let mut path = existing.canonicalize()?;
    for part in rest.iter().rev() {
        for component in Path::new(part).components() {
            match component {
                Component::ParentDir => {
                    path.pop();
                }
                Component::Normal(name) => path.push(name),
                _ => {}
            }
        }
    }
    Ok(path)
}

/// The dataset is read-only: an export folder inside it is refused.
pub(super) fn refuse_inside_dataset(out: &Path, dataset_root: &Path) -> Result<()> {
    let cannot = |e: std::io::Error| Error::Export(format!("export folder {}: {e}", out.display()));
    let out_resolved = resolved(out).map_err(cannot)?;
    let root = dataset_root.canonicalize().map_err(cannot)?;
    if out_resolved.starts_with(&root) {
        return Err(Error::Export(format!(
            "export folder {} lies inside the dataset {}, which npcql never writes to; export elsewhere",
            out.display(),
            root.display()
        )));
    }
    Ok(())
}

/// A case's written files and sources, for the manifest.
#[derive(Debug, Clone)]
pub(super) struct CaseRecord {
    /// (path relative to the export folder, sha256) of the label, then of each channel's image.
    label: (String, String),
    images: Vec<(String, String)>,
    mask: PathBuf,
    mask_sha256: String,
    pairing_offset_mm: Option<f64>,
    /// Per channel: its series, their sha256, and what building it found.
    channels: Vec<ChannelRecord>,
    bytes: u64,
}

#[derive(Debug, Clone)]
struct ChannelRecord {
    modality: Modality,
    series: PathBuf,
    series_sha256: String,
    resampled: bool,
    outside_voxels: usize,
    misalignment: Option<Misalignment>,
    misalignment_note: Option<String>,
}

/// The temporary folder beside the target that the export is written into.
pub(super) struct Staging {
    temp: PathBuf,
    folder: PathBuf,
    /// Earlier exports this one replaces (`--force`).
    replaces: Vec<PathBuf>,
}

impl Staging {
    /// Refuses an existing export unless `force`; creates the temporary folder.
    pub(super) fn begin(folder: &Path, options: &ExportOptions) -> Result<Staging> {
        let parent = folder.parent().unwrap_or(Path::new("."));
        let cannot = |what: &Path, e: std::io::Error| Error::Export(format!("{}: {e}", what.display()));
        std::fs::create_dir_all(parent).map_err(|e| cannot(parent, e))?;
        let replaces: Vec<PathBuf> = match options.format {
            // Another name with the same id is the same nnU-Net dataset: nnU-Net would find two.
            ExportFormat::Nnunet => {
                let prefix = format!("Dataset{:03}_", options.dataset_id);
                let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
                    .map_err(|e| cannot(parent, e))?
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
                    .collect();
                found.sort();
                found
            }
            ExportFormat::Monai => {
                let non_empty = std::fs::read_dir(folder).is_ok_and(|mut entries| entries.next().is_some());
                if non_empty || folder.is_file() {
                    vec![folder.to_path_buf()]
                } else {
                    Vec::new()
                }
            }
        };
        if let Some(existing) = replaces.first()
            && !options.force
        {
            return Err(Error::ExportExists(existing.clone()));
        }
        let name = folder.file_name().unwrap_or_default().to_string_lossy();
        let temp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(|e| cannot(&temp, e))?;
        }
        for sub in ["imagesTr", "labelsTr", "imagesTs", "labelsTs", "predictions"] {
            std::fs::create_dir_all(temp.join(sub)).map_err(|e| cannot(&temp, e))?;
        }
        Ok(Staging {
            temp,
            folder: folder.to_path_buf(),
            replaces,
        })
    }

    /// Removes the temporary folder: nothing of this export remains.
    pub(super) fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.temp);
    }

    /// Writes one case's label and images; Err names the file and the fault.
    pub(super) fn write_case(
        &self,
        case_id: &str,
        is_test: bool,
        sources: &CaseSources,
        checked: &CheckedCase,
        built: &BuiltCase,
        options: &ExportOptions,
    ) -> std::result::Result<CaseRecord, String> {
        let set = if is_test { "Ts" } else { "Tr" };
        let mut bytes = 0;
        let mut write = |relative: String, voxels: Voxels| -> std::result::Result<(String, String), String> {
            let path = self.temp.join(&relative);
            let description = format!("npcql {} export", env!("CARGO_PKG_VERSION"));
            let written = std::fs::File::create(&path).and_then(|file| {
                let out = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
                let out = write_nifti_gz(out, &built.space, &voxels, options.compression_level, &description)?;
                let (mut file, sha, size) = out.finish();
                file.flush()?;
                Ok((sha, size))
            });
            let (sha, size) = written.map_err(|e| format!("{}: cannot be written: {e}", path.display()))?;
            bytes += size;
            Ok((relative, hex(&sha)))
        };
        let label = write(format!("labels{set}/{case_id}.nii.gz"), Voxels::Uint8(&built.label))?;
        let images = built
            .channels
            .iter()
            .enumerate()
            .map(|(k, channel)| {
                write(
                    format!("images{set}/{case_id}_{k:04}.nii.gz"),
                    channel.voxels.as_voxels(),
                )
            })
            .collect::<std::result::Result<Vec<_>, String>>()?;
        let channels = sources
            .channels
            .iter()
            .zip(&built.channels)
            .map(|(source, channel)| ChannelRecord {
                modality: source.modality,
                series: source.series.clone(),
                series_sha256: hex(&channel.series_sha256),
                resampled: channel.resampled,
                outside_voxels: channel.outside_voxels,
                misalignment: channel.misalignment,
                misalignment_note: channel.misalignment_note.clone(),
            })
            .collect();
        Ok(CaseRecord {
            label,
            images,
            mask: sources.label_mask.clone(),
            mask_sha256: hex(&built.mask_sha256),
            pairing_offset_mm: checked.pairing.offset_mm(),
            channels,
            bytes,
        })
    }
}

/// The citation nnU-Net's `dataset.json` and the export's README carry.
const CITATION: &str = "Li et al., a multi-sequence MRI dataset of nasopharyngeal carcinoma with tumour masks and clinical \
                        data, Sci Data 12:1450 (2025), arXiv:2404.03253; Zenodo 10900202 and 13131827";
const LICENCE: &str = "CC BY 4.0";

/// Writes the describing files, renames the export into place and puts `splits_final.json`
/// where nnU-Net reads it. Returns where the splits went, the copy step when they could not go
/// there, and the bytes written.
pub(super) fn finish(
    staging: Staging,
    options: &ExportOptions,
    cases: &[ExportedCase],
    records: &[CaseRecord],
    engine: &Engine,
) -> Result<(Option<PathBuf>, Option<String>, u64)> {
    match describe(&staging, options, cases, records, engine) {
        Ok(()) => {}
        Err(e) => {
            staging.abandon();
            return Err(e);
        }
    }
    let bytes = records.iter().map(|r| r.bytes).sum();
    let cannot = |what: &Path, e: std::io::Error| Error::Export(format!("{}: {e}", what.display()));
    // Swap in: the old export aside, the new one in, then the old one deleted.
    let mut aside = Vec::new();
    for (i, old) in staging.replaces.iter().enumerate() {
        let name = old.file_name().unwrap_or_default().to_string_lossy();
        let moved = old.with_file_name(format!(".{name}.old-{}-{i}", std::process::id()));
        std::fs::rename(old, &moved).map_err(|e| cannot(old, e))?;
        aside.push(moved);
    }
    std::fs::rename(&staging.temp, &staging.folder).map_err(|e| cannot(&staging.folder, e))?;
    for old in aside {
        std::fs::remove_dir_all(&old).map_err(|e| cannot(&old, e))?;
    }
    if options.format == ExportFormat::Monai {
        return Ok((None, None, bytes));
    }
    let beside = staging.folder.join("splits_final.json");
    let preprocessed = options.preprocessed.clone().or_else(|| {
        std::env::var_os("nnUNet_preprocessed")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let Some(preprocessed) = preprocessed else {
        let step = format!(
            "mkdir -p \"$nnUNet_preprocessed/{name}\" && cp {} \"$nnUNet_preprocessed/{name}/\"",
            beside.display(),
            name = nnunet_name(options)
        );
        return Ok((Some(beside), Some(step), bytes));
    };
    let dir = preprocessed.join(nnunet_name(options));
    std::fs::create_dir_all(&dir).map_err(|e| cannot(&dir, e))?;
    let target = dir.join("splits_final.json");
    let temp = dir.join(format!(".splits_final.json.partial-{}", std::process::id()));
    std::fs::copy(&beside, &temp).map_err(|e| cannot(&temp, e))?;
    std::fs::rename(&temp, &target).map_err(|e| cannot(&target, e))?;
    Ok((Some(target), None, bytes))
}

fn describe(
    staging: &Staging,
    options: &ExportOptions,
    cases: &[ExportedCase],
    records: &[CaseRecord],
    engine: &Engine,
) -> Result<()> {
    let write = |name: &str, text: String| {
        let path = staging.temp.join(name);
        std::fs::write(&path, text).map_err(|e| Error::Export(format!("{}: {e}", path.display())))
    };
    let json = |value: Value| serde_json::to_string_pretty(&value).expect("JSON values serialise") + "\n";
    let training: Vec<(&ExportedCase, &CaseRecord)> =
        cases.iter().zip(records).filter(|(c, _)| c.fold.is_some()).collect();
    let testing: Vec<(&ExportedCase, &CaseRecord)> =
        cases.iter().zip(records).filter(|(c, _)| c.fold.is_none()).collect();
    let channel_names: serde_json::Map<String, Value> = options
        .channels
        .iter()
        .enumerate()
        .map(|(k, m)| (k.to_string(), json!(m.name())))
        .collect();
    match options.format {
        ExportFormat::Nnunet => {
            write(
                "dataset.json",
                json(json!({
                    "name": options.name,
                    "description": format!("Nasopharyngeal carcinoma, {} tumour masks, exported by npcql {}", options.label.name(), env!("CARGO_PKG_VERSION")),
                    "channel_names": channel_names,
                    "labels": {"background": 0, "tumour": 1},
                    "numTraining": training.len(),
                    "file_ending": ".nii.gz",
                    "reference": CITATION,
                    "licence": LICENCE,
                })),
            )?;
            let splits: Vec<Value> = (0..options.folds)
                .map(|fold| {
                    let ids = |in_fold: bool| -> Vec<&str> {
                        training
                            .iter()
                            .filter(|(c, _)| (c.fold == Some(fold)) == in_fold)
                            .map(|(c, _)| c.case_id.as_str())
                            .collect()
                    };
                    json!({"train": ids(false), "val": ids(true)})
                })
                .collect();
            write("splits_final.json", json(Value::Array(splits)))?;
        }
        ExportFormat::Monai => {
            let entry = |(c, r): &(&ExportedCase, &CaseRecord)| {
                let mut item = json!({
                    "image": r.images.iter().map(|(path, _)| path.clone()).collect::<Vec<_>>(),
                    "label": r.label.0,
                    "patient_id": c.patient_id,
                });
                if let Some(fold) = c.fold {
                    item["fold"] = json!(fold);
                }
                item
            };
            write(
                "datalist.json",
                json(json!({
                    "name": options.name,
                    "modality": channel_names,
                    "labels": {"0": "background", "1": "tumour"},
                    "numTraining": training.len(),
                    "numTest": testing.len(),
                    "reference": CITATION,
                    "licence": LICENCE,
                    "training": training.iter().map(entry).collect::<Vec<_>>(),
                    "testing": testing.iter().map(entry).collect::<Vec<_>>(),
                })),
            )?;
        }
    }
    write("manifest.csv", manifest(options, cases, records)?)?;
    write("export.sql", export_sql(options, engine))?;
    write("README.md", readme(options, training.len(), testing.len()))?;
    write(
        &format!("predictions/{}", crate::dataset::PREDICTIONS_SIDECAR),
        format!(
            "# Written by npcql export: how `npcql -p {}` reads model outputs in this folder\n\
             # (one subfolder per model, nnU-Net's file names).\n\
             [predictions]\npattern = \"{}_{{patient}}.nii.gz\"\nmodality = \"{}\"\n",
            staging.folder.join("predictions").display(),
            options.name,
            options.label.name()
        ),
    )?;
    Ok(())
}

/// One row per case: its sources and their sha256, the pairing, each channel's misalignment
/// against the label, and every written file's sha256.
fn manifest(options: &ExportOptions, cases: &[ExportedCase], records: &[CaseRecord]) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "case_id",
        "patient_id",
        "set",
        "fold",
        "stratum",
        "label_modality",
        "mask",
        "mask_sha256",
        "pairing",
        "pairing_offset_mm",
        "label_file",
        "label_sha256",
    ]
    .map(String::from)
    .to_vec();
    for m in &options.channels {
        let p = m.name().to_lowercase().replace('-', "_");
        for field in [
            "series",
            "series_sha256",
            "image_file",
            "image_sha256",
            "resampled",
            "outside_fov_voxels",
            "centroid_distance_mm",
            "dice",
            "misalignment_note",
        ] {
            header.push(format!("{p}_{field}"));
        }
    }
    let csv_error = |e: csv::Error| Error::Export(format!("manifest.csv: {e}"));
    out.write_record(&header).map_err(csv_error)?;
    let number = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for (case, record) in cases.iter().zip(records) {
        let mut row = vec![
            case.case_id.clone(),
            case.patient_id.clone(),
            if case.fold.is_some() { "train" } else { "test" }.to_string(),
            case.fold.map_or(String::new(), |f| f.to_string()),
            case.stratum.clone().unwrap_or_default(),
            options.label.name().to_string(),
            record.mask.display().to_string(),
            record.mask_sha256.clone(),
            case.pairing.clone(),
            number(record.pairing_offset_mm),
            record.label.0.clone(),
            record.label.1.clone(),
        ];
        for (channel, (file, sha)) in record.channels.iter().zip(&record.images) {
            debug_assert!(options.channels.contains(&channel.modality));
            row.extend([
                channel.series.display().to_string(),
                channel.series_sha256.clone(),
                file.clone(),
                sha.clone(),
                channel.resampled.to_string(),
                channel.outside_voxels.to_string(),
                number(channel.misalignment.and_then(|m| m.centroid_distance_mm)),
                number(channel.misalignment.map(|m| m.dice)),
                channel.misalignment_note.clone().unwrap_or_default(),
            ]);
        }
        out.write_record(&row).map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Export(format!("manifest.csv: {e}")))?;
    Ok(String::from_utf8(bytes).expect("the manifest is UTF-8"))
}

/// The SQL that selected the cases and the settings, so the export can be made again.
fn export_sql(options: &ExportOptions, engine: &Engine) -> String {
    let channels: Vec<&str> = options.channels.iter().map(|m| m.name()).collect();
    let mut text = format!(
        "-- Made by npcql {} export {} on {} (data: {}).\n\
         -- --channels {} --label {} --folds {} --seed {}{}{}\n",
        env!("CARGO_PKG_VERSION"),
        match options.format {
            ExportFormat::Nnunet => "nnunet",
            ExportFormat::Monai => "monai",
        },
        crate::output::now_utc(),
        engine.dataset().root.display(),
        channels.join(","),
        options.label.name(),
        options.folds,
        options.seed,
        options
            .stratify
            .as_ref()
            .map_or(String::new(), |c| format!(" --stratify {c}")),
        match options.format {
            ExportFormat::Nnunet => format!(" --dataset-id {} --name {}", options.dataset_id, options.name),
            ExportFormat::Monai => format!(" --name {}", options.name),
        }
    );
    text += "\n-- The selection (every patient when none was given):\n";
    text += options
        .selection
        .as_deref()
        .unwrap_or("SELECT patient_id FROM patients");
    text += "\n";
    if let Some(test) = &options.test {
        text += "\n-- The test cases (--test):\n";
        text += test;
        text += "\n";
    }
    text
}

fn readme(options: &ExportOptions, training: usize, testing: usize) -> String {
    let channels: Vec<&str> = options.channels.iter().map(|m| m.name()).collect();
    format!(
        "# {name}: nasopharyngeal carcinoma MRI, exported by npcql {version}\n\n\
         {training} training and {testing} test cases. Channels: {channels} (`_0000` is the first); label: the \
         radiologist's {label} tumour mask (0 background, 1 tumour).\n\n\
         Every image lies on its label's grid, its header's geometry copied from the label's: the label's own \
         sequence voxel for voxel (no resampling), other sequences resampled trilinearly through scanner \
         coordinates (0 outside their field of view; `manifest.csv` counts those voxels and gives each \
         sequence's misalignment against the label: centroid distance and Dice of its own mask). Intensities \
         are the DICOM real values (Rescale Slope/Intercept applied; Philips' private scale not applied).\n\n\
         The cross-validation split ({folds} folds, seed {seed}{stratified}) is by patient: patients sorted by \
         id, grouped by stratum (NULL its own, last), each stratum shuffled by Fisher-Yates with one SplitMix64 \
         stream seeded with the seed, then dealt to the folds in turn (npcql's `export::split` documents it).\n\n\
         `manifest.csv` traces each case to its sources (sha256 of the mask; of a series, the sha256 of its \
         slice files' sha256 digests concatenated in slice order) and gives every written file's sha256; \
         `export.sql` is the SQL and the settings that made this export.\n\n\
         Model outputs placed in `predictions/<model>/` (e.g. `nnUNetv2_predict -i imagesTs -o \
         predictions/<model> ...`) are read by `npcql -p predictions` through `predictions/npcql-predictions.toml`; \
         `queries/model_vs_clinical.sql` scores them against the clinical data.\n\n\
         Data: {citation}. Licence: {licence}; cite the dataset when you use this export.\n",
        name = options.name,
        version = env!("CARGO_PKG_VERSION"),
        channels = channels.join(", "),
        label = options.label.name(),
        folds = options.folds,
        seed = options.seed,
        stratified = options
            .stratify
            .as_ref()
            .map_or(String::new(), |c| format!(", stratified by {c}")),
        citation = CITATION,
        licence = LICENCE,
    )
}
