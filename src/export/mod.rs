//! `npcql export`: a cohort selected in SQL, written as a dataset nnU-Net v2 or MONAI trains
//! on — images on their label's grid in real units, labels 0/1, a patient-level split that can
//! be re-derived anywhere ([`split`]), and a manifest tracing every file to its sources.
//!
//! Safe by construction: everything is written into a temporary folder beside the target and
//! renamed into place at the end, so an interrupted export leaves no half-dataset; an existing
//! export is replaced only with `force`; nothing is ever written inside the dataset.

mod case;
mod digest;
mod files;
pub mod split;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::Engine;
use crate::dataset::{Modality, PatientFolder, normalise_patient_id};
use crate::error::{Error, Result};
use case::{BuiltCase, CaseSources, ChannelSource, CheckedCase};

/// Which trainer's layout to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// nnU-Net v2's raw dataset: `DatasetNNN_NAME/` under the `--out` root, `dataset.json`,
    /// `splits_final.json`.
    Nnunet,
    /// The `--out` folder itself, with a MONAI datalist (`datalist.json`).
    Monai,
}

/// What to export and how (the command line's flags, one field each).
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: ExportFormat,
    /// nnU-Net: the nnUNet_raw root; MONAI: the dataset folder.
    pub out: PathBuf,
    pub dataset_id: u32,
    pub name: String,
    /// SQL whose last statement returns `patient_id` (parameters already bound); `None`: every
    /// patient.
    pub selection: Option<String>,
    /// SQL returning the test cases' `patient_id`: kept out of training.
    pub test: Option<String>,
    /// Image channels, in order.
    pub channels: Vec<Modality>,
    /// The sequence whose mask is the label and whose grid every channel is placed on.
    pub label: Modality,
    pub folds: usize,
    /// A column of the selection's result (else of `patients`) to stratify the folds by.
    pub stratify: Option<String>,
    pub seed: u64,
    /// nnU-Net's preprocessed root, where `splits_final.json` goes (`$nnUNet_preprocessed`).
    pub preprocessed: Option<PathBuf>,
    pub force: bool,
    /// Plan and check the cases (headers, pairing) without reading a pixel or writing a file.
    pub dry_run: bool,
    /// gzip level of the `.nii.gz` files, 0–9.
    pub compression_level: u32,
    /// Cases written at once (each decodes its series and compresses its files).
    pub threads: usize,
    /// A case left out is an error.
    pub strict: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            format: ExportFormat::Nnunet,
            out: PathBuf::new(),
            dataset_id: 501,
            name: "NPC".into(),
            selection: None,
            test: None,
            channels: vec![Modality::T2],
            label: Modality::T2,
            folds: 5,
            stratify: None,
            seed: 12345,
            preprocessed: None,
            force: false,
            dry_run: false,
            // nibabel's default: gzip's level 6 costs about 3× the time for 10% smaller files.
            compression_level: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            strict: false,
        }
    }
}

/// One exported (or, in a dry run, planned) case.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedCase {
    pub case_id: String,
    pub patient_id: String,
    /// The cross-validation fold; `None` for a test case.
    pub fold: Option<usize>,
    pub stratum: Option<String>,
    /// How the label pairs with its series: 'scanner' or 'convention'.
    pub pairing: String,
}

/// A patient of the selection that is not exported, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    pub patient_id: String,
    pub reason: String,
}

/// What an export did.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// The dataset folder written (or that would be written).
    pub folder: PathBuf,
    pub cases: Vec<ExportedCase>,
    pub left_out: Vec<LeftOut>,
    /// Where `splits_final.json` was written.
    pub splits: Option<PathBuf>,
    /// The command that puts `splits_final.json` where nnU-Net reads it, when it could not be
    /// written there.
    pub copy_step: Option<String>,
    pub dry_run: bool,
    /// Bytes of every file written.
    pub bytes_written: u64,
}

/// Progress of the writing phase: cases done out of cases to write.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Selects, checks, writes and renames into place. Cases that cannot be read or paired are
/// left out and named (an error with `strict`).
pub async fn export(engine: &Engine, options: &ExportOptions, progress: Progress<'_>) -> Result<ExportSummary> {
    check_options(options)?;
    let folder = files::target_folder(options);
    files::refuse_inside_dataset(&options.out, &engine.dataset().root)?;
    let known: &[PatientFolder] = &engine.dataset().patients;
    let mut left_out = Vec::new();
    let selection = match &options.selection {
        Some(sql) => Some(select(engine, sql, "the selection").await?),
        None => None,
    };
    let training_ids = match &selection {
        Some(result) => patient_ids(result, "the selection")?,
        None => known.iter().map(|p| p.patient_id.clone()).collect(),
    };
    let test_ids = match &options.test {
        Some(sql) => patient_ids(&select(engine, sql, "the test selection").await?, "the test selection")?,
        None => Vec::new(),
    };
    let strata = match &options.stratify {
        Some(column) => stratum_values(engine, selection.as_ref(), column).await?,
        None => BTreeMap::new(),
    };

    // Every patient once: a test case is never a training case.
    let mut wanted: BTreeMap<String, bool> = training_ids.into_iter().map(|id| (id, false)).collect();
    wanted.extend(test_ids.into_iter().map(|id| (id, true)));
    let mut planned = Vec::new();
    for (raw_id, is_test) in wanted {
        let found = normalise_patient_id(&raw_id).and_then(|id| {
            known
                .iter()
                .find(|p| normalise_patient_id(&p.patient_id).as_deref() == Some(&id))
        });
        let Some(patient) = found else {
            left_out.push(LeftOut {
                reason: format!("no patient {raw_id} in the dataset"),
                patient_id: raw_id,
            });
            continue;
        };
        match sources(patient, options).and_then(|s| case::check(&s).map(|checked| (s, checked))) {
            Ok((sources, checked)) => planned.push(Planned {
                case_id: format!("{}_{}", options.name, patient.patient_id),
                is_test,
                stratum: normalise_patient_id(&patient.patient_id).and_then(|id| strata.get(&id).cloned().flatten()),
                sources,
                checked,
            }),
            Err(reason) => left_out.push(LeftOut {
                patient_id: patient.patient_id.clone(),
                reason,
            }),
        }
    }
    refuse_left_out_if_strict(options, &left_out)?;
    if options.dry_run {
        let cases = with_folds(&planned, options)?;
        return Ok(ExportSummary {
            folder,
            cases,
            left_out,
            splits: None,
            copy_step: None,
            dry_run: true,
            bytes_written: 0,
        });
    }

    let staging = files::Staging::begin(&folder, options)?;
    // The sources' digests are remembered in the persistent cache, when there is one.
    let digests = digest::SourceDigests {
        store: engine.functions().store(),
    };
    let written = write_cases(&planned, &staging, options, digests, progress);
    let mut exported = Vec::new();
    let mut records = Vec::new();
    for (plan, outcome) in planned.into_iter().zip(written) {
        match outcome {
            Ok(record) => {
                exported.push(plan);
                records.push(record);
            }
            Err(reason) => left_out.push(LeftOut {
                patient_id: plan.sources.patient_id.clone(),
                reason,
            }),
        }
    }
    left_out.sort_by(|a, b| a.patient_id.cmp(&b.patient_id));
    if let Err(e) = refuse_left_out_if_strict(options, &left_out) {
        staging.abandon();
        return Err(e);
    }
    let cases = match with_folds(&exported, options) {
        Ok(cases) => cases,
        Err(e) => {
            staging.abandon();
            return Err(e);
        }
    };
    let finished = files::finish(staging, options, &cases, &records, engine);
    let (splits, copy_step, bytes_written) = finished?;
    Ok(ExportSummary {
        folder,
        cases,
        left_out,
        splits,
        copy_step,
        dry_run: false,
        bytes_written,
    })
}

/// A case that passed the header checks.
struct Planned {
    case_id: String,
    is_test: bool,
    stratum: Option<String>,
    sources: CaseSources,
    checked: CheckedCase,
}

fn check_options(options: &ExportOptions) -> Result<()> {
    let bad = |why: String| Err(Error::Config(why));
    if options.channels.is_empty() {
        return bad("the channels name no sequence".into());
    }
    let distinct: BTreeSet<_> = options.channels.iter().collect();
    if distinct.len() != options.channels.len() {
        return bad("the channels name a sequence twice".into());
    }
    if options.name.is_empty() || !options.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return bad(format!(
            "the name '{}': letters, digits and '-' only (nnU-Net splits case ids at '_')",
            options.name
        ));
    }
    if options.format == ExportFormat::Nnunet && !(1..=999).contains(&options.dataset_id) {
        return bad(format!("dataset id {}: nnU-Net's ids are 1 to 999", options.dataset_id));
    }
    if options.compression_level > 9 {
        return bad(format!(
            "compression level {}: gzip's levels are 0 to 9",
            options.compression_level
        ));
    }
    Ok(())
}

fn refuse_left_out_if_strict(options: &ExportOptions, left_out: &[LeftOut]) -> Result<()> {
    match left_out.first() {
        Some(first) if options.strict => Err(Error::Export(format!(
            "patient {} cannot be exported: {} ({} case{} left out in all; unless strict, they are skipped)",
            first.patient_id,
            first.reason,
            left_out.len(),
            if left_out.len() == 1 { "" } else { "s" }
        ))),
        _ => Ok(()),
    }
}

/// The files of one patient's case, or why it has none.
fn sources(patient: &PatientFolder, options: &ExportOptions) -> std::result::Result<CaseSources, String> {
    let series = |m: Modality| patient.series.iter().find(|(s, _)| *s == m).map(|(_, p)| p.clone());
    let mask = |m: Modality| patient.masks.iter().find(|(s, _)| *s == m).map(|(_, p)| p.clone());
    let label_mask = mask(options.label).ok_or_else(|| format!("no {} mask", options.label.name()))?;
    let label_series = series(options.label).ok_or_else(|| format!("no {} series", options.label.name()))?;
    let channels = options
        .channels
        .iter()
        .map(|&m| {
            Ok(ChannelSource {
                modality: m,
                series: series(m).ok_or_else(|| format!("no {} series", m.name()))?,
                own_mask: mask(m),
            })
        })
        .collect::<std::result::Result<_, String>>()?;
    Ok(CaseSources {
        patient_id: patient.patient_id.clone(),
        label_modality: options.label,
        label_mask,
        label_series,
        channels,
    })
}

/// Cases with their folds: the training cases split by [`split::assign_folds`].
fn with_folds(planned: &[Planned], options: &ExportOptions) -> Result<Vec<ExportedCase>> {
    let training: Vec<(String, Option<String>)> = planned
        .iter()
        .filter(|p| !p.is_test)
        .map(|p| (p.sources.patient_id.clone(), p.stratum.clone()))
        .collect();
    let folds: BTreeMap<String, usize> = split::assign_folds(&training, options.folds, options.seed)
        .map_err(Error::Config)?
        .into_iter()
        .collect();
    Ok(planned
        .iter()
        .map(|p| ExportedCase {
            case_id: p.case_id.clone(),
            patient_id: p.sources.patient_id.clone(),
            fold: folds.get(&p.sources.patient_id).copied(),
            stratum: p.stratum.clone(),
            pairing: p.checked.pairing.name().to_string(),
        })
        .collect())
}

/// Builds and writes the cases on `options.threads` threads, in case order; each outcome is
/// the case's record or why it could not be written.
fn write_cases(
    planned: &[Planned],
    staging: &files::Staging,
    options: &ExportOptions,
    digests: digest::SourceDigests,
    progress: Progress<'_>,
) -> Vec<std::result::Result<files::CaseRecord, String>> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<std::result::Result<files::CaseRecord, String>>>> =
        Mutex::new(vec![None; planned.len()]);
    progress(0, planned.len());
    std::thread::scope(|scope| {
        for _ in 0..options.threads.clamp(1, planned.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(plan) = planned.get(i) else { break };
                    let outcome = case::build(&plan.sources, &plan.checked, digests).and_then(|built: BuiltCase| {
                        staging.write_case(
                            &plan.case_id,
                            plan.is_test,
                            &plan.sources,
                            &plan.checked,
                            &built,
                            options,
                        )
                    });
                    outcomes.lock().expect("no writer panics")[i] = Some(outcome);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, planned.len());
                }
            });
        }
    });
    outcomes
        .into_inner()
        .expect("no writer panics")
        .into_iter()
        .map(|o| o.expect("every case is written once"))
        .collect()
}

/// The last result of `sql` that has columns.
async fn select(engine: &Engine, sql: &str, what: &str) -> Result<RecordBatch> {
    let results = crate::query::run(engine, sql).await?;
    let last = results.into_iter().rev().find(|r| r.has_columns()).ok_or_else(|| {
        Error::Config(format!(
            "{what} returns no rows: it needs a query with a patient_id column"
        ))
    })?;
    datafusion::arrow::compute::concat_batches(&last.schema, &last.batches).map_err(|e| Error::Sql(e.into()))
}

/// The column `name` (any case) of `batch`.
fn column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    let schema = batch.schema();
    let index = schema
        .fields()
        .iter()
        .position(|f| f.name().eq_ignore_ascii_case(name))?;
    Some(batch.column(index))
}

/// A column as text, as the CLI prints it (NULL: `None`).
fn texts(array: &ArrayRef) -> Vec<Option<String>> {
    let options = FormatOptions::default();
    let Ok(formatter) = ArrayFormatter::try_new(array.as_ref(), &options) else {
        return vec![None; array.len()];
    };
    (0..array.len())
        .map(|i| array.is_valid(i).then(|| formatter.value(i).to_string()))
        .collect()
}

/// The distinct non-NULL `patient_id`s of a selection's result.
fn patient_ids(batch: &RecordBatch, what: &str) -> Result<Vec<String>> {
    let ids = column(batch, "patient_id").ok_or_else(|| {
        let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
        Error::Config(format!(
            "{what} has no patient_id column (it returns {})",
            names.join(", ")
        ))
    })?;
    let distinct: BTreeSet<String> = texts(ids).into_iter().flatten().collect();
    Ok(distinct.into_iter().collect())
}

/// Each patient's value of the `--stratify` column, from the selection's result when it has the
/// column, else from `patients`. A continuous column is refused.
async fn stratum_values(
    engine: &Engine,
    selection: Option<&RecordBatch>,
    name: &str,
) -> Result<BTreeMap<String, Option<String>>> {
    let from_patients;
    let batch = match selection.filter(|b| column(b, name).is_some()) {
        Some(batch) => batch,
        None => {
            from_patients = select(engine, "SELECT * FROM patients", "patients").await?;
            &from_patients
        }
    };
    let values = column(batch, name).ok_or_else(|| {
        Error::Config(format!(
            "stratify column {name}: neither the selection nor the patients table has that column"
        ))
    })?;
    let ids =
        column(batch, "patient_id").ok_or_else(|| Error::Config("the selection has no patient_id column".into()))?;
    let labels = texts(values);
    let distinct: BTreeSet<&String> = labels.iter().flatten().collect();
    let continuous = matches!(
        values.data_type(),
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) | DataType::Decimal256(..)
    ) || (values.data_type().is_integer() && distinct.len() > MAX_INTEGER_STRATA);
    if continuous {
        return Err(Error::Config(format!(
            "stratify column {name}: a continuous column ({}, {} distinct values) is not stratified; bin it in the \
             selection, e.g. CASE WHEN {name} >= 50 THEN 'high' ELSE 'low' END AS {name}_group",
            values.data_type(),
            distinct.len()
        )));
    }
    Ok(texts(ids)
        .into_iter()
        .zip(labels)
        .filter_map(|(id, value)| Some((normalise_patient_id(&id?)?, value)))
        .collect())
}

/// An integer column with more distinct values than this is continuous (an age), not a
/// category (a T stage).
const MAX_INTEGER_STRATA: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_before_anything_is_read() {
        let base = ExportOptions::default();
        let check = |o: ExportOptions| check_options(&o).map_err(|e| e.to_string());
        assert!(check(base.clone()).is_ok());
        assert!(
            check(ExportOptions {
                name: "NPC_x".into(),
                ..base.clone()
            })
            .unwrap_err()
            .contains("the name")
        );
        assert!(
            check(ExportOptions {
                channels: vec![Modality::T2, Modality::T2],
                ..base.clone()
            })
            .unwrap_err()
            .contains("twice")
        );
        assert!(
            check(ExportOptions {
                dataset_id: 1000,
                ..base
            })
            .unwrap_err()
            .contains("1 to 999")
        );
    }
}
