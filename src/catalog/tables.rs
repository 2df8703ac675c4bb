//! The rows of the `scans`, `masks` and `dataset_issues` tables as Arrow batches.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use datafusion::common::Result;

use crate::dataset::dicom::{ScanRow, SeriesInfo, read_series};
use crate::dataset::nifti::read_mask_info;
use crate::dataset::{Dataset, DatasetProblem, Modality};
use npcql_udfs::parallel::parallel_map;

/// Reads every series' headers, spread over the available cores.
pub(crate) fn read_all_series(dataset: &Dataset) -> Vec<ScanRow> {
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
        field("error", Utf8),
    ]))
}

pub(crate) fn masks_batch(dataset: &Dataset, scans: &[ScanRow]) -> Result<RecordBatch> {
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
        read_mask_info(path, series)
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
            Arc::new(infos.iter().map(|i| i.datatype).collect::<StringArray>()),
            Arc::new(infos.iter().map(|i| i.error.clone()).collect::<StringArray>()),
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
