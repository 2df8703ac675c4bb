//! What the catalog's tables and functions are made of, on one machine and on every worker
//! alike: the rows of `scans`, `masks`, `predictions` and `dataset_issues` as Arrow batches, the
//! jobs that read the headers, and the path functions' context ([`function_context`]). Below
//! both the catalog and the distributed glue, so neither reaches into the other.

mod functions;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use datafusion::common::Result;

use npcql_imaging::cache::{
    FileVersion, MEMO_CAPACITY, ResultKey, ResultStore, bounded_entry, content_digest, get_value, put_value,
};
use npcql_imaging::dicom::{SeriesInfo, read_series_remembered};

use crate::dataset::masks::{MaskInfo, read_mask_info};
use crate::dataset::predictions::Prediction;
use crate::dataset::scans::ScanRow;
use crate::dataset::{Dataset, DatasetProblem, Modality};
use npcql_udfs::parallel::parallel_map;

pub(crate) use functions::function_context;

/// One DICOM series to read: whose, which modality, and its folder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeriesJob {
    pub patient_id: String,
    pub modality: Modality,
    pub dir: PathBuf,
}

/// One mask header to read, with the series whose grid it must match.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaskJob {
    pub patient_id: String,
    pub modality: Modality,
    pub path: PathBuf,
    pub series_dir: Option<PathBuf>,
}

/// Every series of the dataset, in table order.
pub(crate) fn series_jobs(dataset: &Dataset) -> Vec<SeriesJob> {
    dataset
        .patients
        .iter()
        .flat_map(|p| {
            p.series.iter().map(|(modality, dir)| SeriesJob {
                patient_id: p.patient_id.clone(),
                modality: *modality,
                dir: dir.clone(),
            })
        })
        .collect()
}

/// Every mask of the dataset, in table order.
pub(crate) fn mask_jobs(dataset: &Dataset) -> Vec<MaskJob> {
    dataset
        .patients
        .iter()
        .flat_map(|p| {
            p.masks.iter().map(|(modality, path)| MaskJob {
                patient_id: p.patient_id.clone(),
                modality: *modality,
                path: path.clone(),
                series_dir: p.series.iter().find(|(m, _)| m == modality).map(|(_, d)| d.clone()),
            })
        })
        .collect()
}

/// Reads the headers of each series (or remembers them from earlier in the process, or finds
/// them in the persistent cache `store`), spread over the available cores.
pub(crate) fn read_all_series(jobs: &[SeriesJob], store: Option<&dyn ResultStore>) -> Vec<ScanRow> {
    let infos = parallel_map(jobs, |job| read_series_remembered(&job.dir, store));
    jobs.iter()
        .zip(infos)
        .map(|(job, info)| ScanRow {
            patient_id: job.patient_id.clone(),
            modality: job.modality,
            series_dir: job.dir.clone(),
            info,
        })
        .collect()
}

fn field(name: &str, data_type: DataType) -> Field {
    Field::new(name, data_type, true)
}

pub(crate) fn scans_schema() -> SchemaRef {
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
        field("frame_of_reference_uid", Utf8),
        field("error", Utf8),
    ]))
}

pub(crate) fn scans_batch(rows: &[ScanRow]) -> Result<RecordBatch> {
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
            text(&|r| r.info.geometry.as_ref().and_then(|g| g.frame_of_reference_uid.clone())),
            text(&|r| r.info.error.clone()),
        ],
    )?)
}

pub(crate) fn masks_schema() -> SchemaRef {
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
        field("pairing", Utf8),
        field("pairing_offset_mm", Float64),
        field("error", Utf8),
    ]))
}

/// The `masks` rows of `jobs`; `scans` holds (at least) their series, whose grids they are
/// checked against. Headers are read through [`read_mask_remembered`].
pub(crate) fn masks_batch(jobs: &[MaskJob], scans: &[ScanRow], store: Option<&dyn ResultStore>) -> Result<RecordBatch> {
    let infos = parallel_map(jobs, |job| {
        let series = scans
            .iter()
            .find(|s| s.patient_id == job.patient_id && s.modality == job.modality);
        // A series that failed to read has no trustworthy grid to compare against.
        let series = series.map(|s| &s.info).filter(|i| i.error.is_none());
        read_mask_remembered(&job.path, series, store)
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
            Arc::new(
                jobs.iter()
                    .map(|j| Some(j.patient_id.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(jobs.iter().map(|j| Some(j.modality.name())).collect::<StringArray>()),
            Arc::new(
                jobs.iter()
                    .map(|j| Some(j.path.display().to_string()))
                    .collect::<StringArray>(),
            ),
            dim(0),
            dim(1),
            dim(2),
            spacing(0),
            spacing(1),
            spacing(2),
            Arc::new(infos.iter().map(|i| i.datatype.as_deref()).collect::<StringArray>()),
            Arc::new(infos.iter().map(|i| i.pairing.as_deref()).collect::<StringArray>()),
            Arc::new(infos.iter().map(|i| i.pairing_offset_mm).collect::<Float64Array>()),
            Arc::new(infos.iter().map(|i| i.error.clone()).collect::<StringArray>()),
        ],
    )?)
}

/// The `predictions` rows.
pub(crate) fn predictions_batch(rows: &[Prediction]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&Prediction) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("patient_id", DataType::Utf8, false),
            Field::new("modality", DataType::Utf8, false),
            Field::new("model", DataType::Utf8, false),
            Field::new("path", DataType::Utf8, false),
            field("error", DataType::Utf8),
        ])),
        vec![
            text(&|p| Some(p.patient_id.clone())),
            text(&|p| Some(p.modality.name().to_string())),
            text(&|p| Some(p.model.clone())),
            text(&|p| Some(p.path.display().to_string())),
            text(&|p| p.error.clone()),
        ],
    )?)
}

pub(crate) fn issues_batch(issues: &[DatasetProblem]) -> Result<RecordBatch> {
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

/// [`read_mask_info`], remembered for the life of the process (up to
/// [`MEMO_CAPACITY`] masks) while the file keeps its version
/// and is checked against the same series grid (a worker's tasks, a view used seven times by
/// `cox_morphology.sql`), and behind that kept in the persistent cache `store` for later
/// processes: the same memory and disk tiers as the series headers'.
pub(crate) fn read_mask_remembered(
    path: &Path,
    series: Option<&SeriesInfo>,
    store: Option<&dyn ResultStore>,
) -> MaskInfo {
    type Memo = HashMap<PathBuf, (ResultKey, MaskInfo)>;
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    let memo = || {
        MEMO.get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    };
    let Ok(version) = FileVersion::of(path) else {
        return read_mask_info(path, series);
    };
    let key = ResultKey {
        function: "mask_headers",
        version: 1,
        // The grid the header is checked against, by its content.
        settings: series.map_or(String::new(), content_digest),
        files: vec![version],
    };
    if let Some((seen, info)) = memo().get(path)
        && *seen == key
    {
        return info.clone();
    }
    let info = get_value(store, &key).unwrap_or_else(|| {
        let info = read_mask_info(path, series);
        // Faults are not kept: an unreadable header may be a transient one.
        if info.error.is_none() {
            put_value(store, &key, &info);
        }
        info
    });
    bounded_entry(&mut memo(), path.to_path_buf(), MEMO_CAPACITY).insert_entry((key, info.clone()));
    info
}
