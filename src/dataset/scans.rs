//! One row of `scans`: a series folder of a patient, and what the imaging room read of it.

use std::path::PathBuf;

use npcql_imaging::dicom::SeriesInfo;

use super::modality::Modality;

/// One row of `scans`.
#[derive(Debug, Clone)]
pub struct ScanRow {
    pub patient_id: String,
    pub modality: Modality,
    pub series_dir: PathBuf,
    pub info: SeriesInfo,
}
