//! An npcql session: a dataset exposed to DataFusion as tables, with npcql's functions.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use npcql_udfs::sql::FunctionContext;

use crate::clinical::{self, PatientsTable};
use crate::config::DatasetConfig;
use crate::dataset::{Dataset, Modality};
use crate::dicom_series::{ScanRow, SeriesInfo, read_series};
use crate::lazy_table::LazyTable;
use crate::nifti_mask::read_mask_header;

/// An open dataset and the DataFusion session that queries it.
pub struct Engine {
    ctx: SessionContext,
    dataset: Arc<Dataset>,
    functions: Arc<FunctionContext>,
    scans: Arc<LazyTable>,
    masks: Arc<LazyTable>,
}

/// How many series and masks there are, and how many of each failed their header checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderSummary {
    pub series: usize,
    pub series_with_errors: usize,
    pub masks: usize,
    pub masks_with_errors: usize,
}

impl Engine {
    /// Opens the dataset at `data_dir` (archive root, `ROOT/data` or `MRI-Segments`).
    /// Clinical data is read now; DICOM and NIfTI headers when a query first needs them.
    pub fn open(data_dir: &Path, strict: bool) -> Result<Engine> {
        let dataset = Arc::new(Dataset::discover(data_dir)?);
        let config = DatasetConfig::load(&dataset.root)?;
        let functions = Arc::new(FunctionContext::new(strict));
        let ctx =
            SessionContext::new_with_config(SessionConfig::new().with_information_schema(true)).enable_url_table();
        npcql_udfs::sql::register_all(&ctx, functions.clone())?;

        let clinical_path: Option<PathBuf> = match &config.clinical.file {
            Some(file) => Some(dataset.root.join(file)),
            None => dataset.clinical_file.clone(),
        };
        let patients = load_patients(&dataset, clinical_path.as_deref(), &config, strict)?;
        let mut issues = dataset.problems.clone();
        for (patient_id, problem) in &patients.problems {
            let path = clinical_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            issues.push(crate::dataset::DatasetProblem {
                patient_id: patient_id.clone(),
                path,
                problem: problem.clone(),
            });
        }
        for (_, problem) in &patients.problems {
            functions.warn(problem.clone());
        }
        let batch = patients.batch;
        ctx.register_table(
            "patients",
            Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?),
        )?;

        // Series headers are read once, for whichever of scans and masks is queried first.
        let series: Arc<OnceLock<Vec<ScanRow>>> = Arc::default();
        let (ds, read) = (dataset.clone(), series.clone());
        let scans = Arc::new(LazyTable::new(scans_schema(), move || {
            scans_batch(read.get_or_init(|| read_all_series(&ds)))
        }));
        ctx.register_table("scans", scans.clone())?;
        let ds = dataset.clone();
        let masks = Arc::new(LazyTable::new(masks_schema(), move || {
            masks_batch(&ds, series.get_or_init(|| read_all_series(&ds)))
        }));
        ctx.register_table("masks", masks.clone())?;
        ctx.register_batch("dataset_issues", issues_batch(&issues)?)?;
        register_morphology_view(&ctx, masks.clone())?;
        Ok(Engine {
            ctx,
            dataset,
            functions,
            scans,
            masks,
        })
    }

    /// The DataFusion session (tables and functions registered).
    pub fn ctx(&self) -> &SessionContext {
        &self.ctx
    }

    /// The discovered dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The shared function settings and warning sink.
    pub fn functions(&self) -> &Arc<FunctionContext> {
        &self.functions
    }

    /// A task that reads every series and mask header (as the first query of `scans` or `masks`
    /// would; the rows are kept for it) and counts the errors. Runs anywhere, e.g. on a
    /// background thread while the user types.
    pub fn header_summary_task(&self) -> impl FnOnce() -> Result<HeaderSummary> + Send + 'static {
        let (scans, masks) = (self.scans.clone(), self.masks.clone());
        move || {
            let count = |table: &LazyTable| -> Result<(usize, usize)> {
                let batch = table.batch()?;
                let errors = batch.column_by_name("error").map_or(0, |c| c.len() - c.null_count());
                Ok((batch.num_rows(), errors))
            };
            let (series, series_with_errors) = count(&scans)?;
            let (masks, masks_with_errors) = count(&masks)?;
            Ok(HeaderSummary {
                series,
                series_with_errors,
                masks,
                masks_with_errors,
            })
        }
    }

    /// Warnings recorded since the last call (bad clinical cells, unreadable masks, ...).
    pub fn take_warnings(&self) -> Vec<String> {
        self.functions.take_warnings()
    }
}

/// `morphology`: every mask with each feature of `morphology(path)` as a column. Built as a
/// plan rather than SQL text because planning SQL is async. Each column calls
/// `morphology(path)`; the function's feature cache reads and meshes a mask only once.
fn register_morphology_view(ctx: &SessionContext, masks: Arc<LazyTable>) -> Result<()> {
    use datafusion::datasource::{ViewTable, provider_as_source};
    use datafusion::execution::FunctionRegistry;
    use datafusion::functions::core::expr_fn::get_field;
    use datafusion::logical_expr::LogicalPlanBuilder;
    use datafusion::prelude::col;

    let features = ctx.udf("morphology")?.call(vec![col("path")]);
    let mut columns = vec![col("patient_id"), col("modality"), col("path")];
    for (name, _) in npcql_udfs::sql::morphology::MORPHOLOGY_FIELDS.iter() {
        columns.push(get_field(features.clone(), *name).alias(*name));
    }
    let plan = LogicalPlanBuilder::scan("masks", provider_as_source(masks), None)?
        .project(columns)?
        .build()?;
    ctx.register_table("morphology", Arc::new(ViewTable::new(plan, None)))?;
    Ok(())
}

fn load_patients(
    dataset: &Dataset,
    clinical_path: Option<&Path>,
    config: &DatasetConfig,
    strict: bool,
) -> Result<PatientsTable> {
    let folder_ids: Vec<String> = dataset.patients.iter().map(|p| p.patient_id.clone()).collect();
    let Some(path) = clinical_path else {
        return clinical::build_patients(None, &config.clinical, &folder_ids);
    };
    match clinical::read_sheet(path, config.clinical.sheet.as_deref(), config.clinical.header_row) {
        Ok(sheet) => clinical::build_patients(Some((path, &sheet)), &config.clinical, &folder_ids)
            .with_context(|| format!("clinical file {}", path.display())),
        Err(e) if !strict => {
            let mut table = clinical::build_patients(None, &config.clinical, &folder_ids)?;
            table.problems.push((None, format!("{e:#}; patients holds only ids")));
            Ok(table)
        }
        Err(e) => Err(e),
    }
}

/// Reads every series' headers, spread over the available cores.
fn read_all_series(dataset: &Dataset) -> Vec<ScanRow> {
    let jobs: Vec<(String, Modality, PathBuf)> = dataset
        .patients
        .iter()
        .flat_map(|p| p.series.iter().map(|(m, dir)| (p.patient_id.clone(), *m, dir.clone())))
        .collect();
    let infos = parallel_map(&jobs, |(_, _, dir)| read_series(dir));
    jobs.into_iter()
        .zip(infos)
        .map(|((patient_id, modality, series_dir), info)| ScanRow {
            patient_id,
            modality,
            series_dir,
            info,
        })
        .collect()
}

/// Applies `f` to every item on all cores, keeping order. Hand-written over std's scoped
/// threads because header reading is the only parallel loop here; rayon would be a new dependency.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn field(name: &str, data_type: DataType) -> Field {
    Field::new(name, data_type, true)
}

fn scans_schema() -> SchemaRef {
    use DataType::{Float64, Int64, Utf8};
    Arc::new(Schema::new(vec![
        field("patient_id", Utf8),
        field("modality", Utf8),
        field("series_dir", Utf8),
        field("slice_count", Int64),
        field("rows", Int64),
        field("columns", Int64),
        field("pixel_spacing_row", Float64),
        field("pixel_spacing_col", Float64),
        field("slice_thickness", Float64),
        field("spacing_between_slices", Float64),
        field("echo_time_ms", Float64),
        field("repetition_time_ms", Float64),
        field("flip_angle", Float64),
        field("manufacturer", Utf8),
        field("model", Utf8),
        field("field_strength_t", Float64),
        field("error", Utf8),
    ]))
}

fn scans_batch(rows: &[ScanRow]) -> datafusion::common::Result<RecordBatch> {
    let text =
        |f: &dyn Fn(&ScanRow) -> Option<String>| -> ArrayRef { Arc::new(rows.iter().map(f).collect::<StringArray>()) };
    let int = |f: &dyn Fn(&SeriesInfo) -> Option<i64>| -> ArrayRef {
        Arc::new(rows.iter().map(|r| f(&r.info)).collect::<Int64Array>())
    };
    let float = |f: &dyn Fn(&SeriesInfo) -> Option<f64>| -> ArrayRef {
        Arc::new(rows.iter().map(|r| f(&r.info)).collect::<Float64Array>())
    };
    Ok(RecordBatch::try_new(
        scans_schema(),
        vec![
            text(&|r| Some(r.patient_id.clone())),
            text(&|r| Some(r.modality.name().to_string())),
            text(&|r| Some(r.series_dir.display().to_string())),
            int(&|i| Some(i.slice_count as i64)),
            int(&|i| i.rows.map(i64::from)),
            int(&|i| i.columns.map(i64::from)),
            float(&|i| i.pixel_spacing_row),
            float(&|i| i.pixel_spacing_col),
            float(&|i| i.slice_thickness),
            float(&|i| i.spacing_between_slices),
            float(&|i| i.echo_time_ms),
            float(&|i| i.repetition_time_ms),
            float(&|i| i.flip_angle),
            text(&|r| r.info.manufacturer.clone()),
            text(&|r| r.info.model.clone()),
            float(&|i| i.field_strength_t),
            text(&|r| r.info.error.clone()),
        ],
    )?)
}

fn masks_schema() -> SchemaRef {
    use DataType::{Float64, Int64, Utf8};
    Arc::new(Schema::new(vec![
        field("patient_id", Utf8),
        field("modality", Utf8),
        field("path", Utf8),
        field("dim_x", Int64),
        field("dim_y", Int64),
        field("dim_z", Int64),
        field("spacing_x", Float64),
        field("spacing_y", Float64),
        field("spacing_z", Float64),
        field("datatype", Utf8),
        field("error", Utf8),
    ]))
}

fn masks_batch(dataset: &Dataset, scans: &[ScanRow]) -> datafusion::common::Result<RecordBatch> {
    let jobs: Vec<(&str, Modality, &PathBuf)> = dataset
        .patients
        .iter()
        .flat_map(|p| p.masks.iter().map(|(m, path)| (p.patient_id.as_str(), *m, path)))
        .collect();
    let infos = parallel_map(&jobs, |(patient_id, modality, path)| {
        let series = scans
            .iter()
            .find(|s| s.patient_id == *patient_id && s.modality == *modality);
        // A series that failed to read has no trustworthy grid to compare against.
        let series = series.map(|s| &s.info).filter(|i| i.error.is_none());
        read_mask_header(path, series)
    });
    let dim = |axis: usize| -> ArrayRef {
        Arc::new(
            infos
                .iter()
                .map(|i| i.dims.map(|d| d[axis] as i64))
                .collect::<Int64Array>(),
        )
    };
    let spacing = |axis: usize| -> ArrayRef {
        Arc::new(
            infos
                .iter()
                .map(|i| i.spacing.map(|s| s[axis]))
                .collect::<Float64Array>(),
        )
    };
    Ok(RecordBatch::try_new(
        masks_schema(),
        vec![
            Arc::new(jobs.iter().map(|j| Some(j.0)).collect::<StringArray>()),
            Arc::new(jobs.iter().map(|j| Some(j.1.name())).collect::<StringArray>()),
            Arc::new(
                jobs.iter()
                    .map(|j| Some(j.2.display().to_string()))
                    .collect::<StringArray>(),
            ),
            dim(0),
            dim(1),
            dim(2),
            spacing(0),
            spacing(1),
            spacing(2),
            Arc::new(infos.iter().map(|i| i.datatype.clone()).collect::<StringArray>()),
            Arc::new(infos.iter().map(|i| i.error.clone()).collect::<StringArray>()),
        ],
    )?)
}

fn issues_batch(issues: &[crate::dataset::DatasetProblem]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_from_iter(vec![
        (
            "patient_id",
            Arc::new(issues.iter().map(|i| i.patient_id.clone()).collect::<StringArray>()) as ArrayRef,
        ),
        (
            "path",
            Arc::new(issues.iter().map(|i| Some(i.path.clone())).collect::<StringArray>()) as ArrayRef,
        ),
        (
            "problem",
            Arc::new(issues.iter().map(|i| Some(i.problem.clone())).collect::<StringArray>()) as ArrayRef,
        ),
    ])?)
}
