//! Reading the dataset's files into typed rows: where the pieces are ([`layout`]), a series'
//! row ([`scans`]; the imaging room reads the DICOM), what a mask header says for `masks`
//! ([`masks`]; the imaging room reads the NIfTI), the clinical sheet
//! ([`clinical`]) and the optional `npcql.toml` ([`config`]). Nothing here knows of SQL;
//! the catalog turns these rows into tables.

pub(crate) mod canonical;
pub(crate) mod clinical;
pub(crate) mod config;
mod layout;
pub(crate) mod masks;
pub(crate) mod modality;
pub(crate) mod predictions;
pub(crate) mod scans;

pub use clinical::{Sheet, normalise_patient_id, read_sheet};

/// The dataset folder to use when none is named: `$NPCQL_DATA`, else `./data-sample` when it
/// holds the dataset's layout. Every front end (command line, Python) looks in this order.
pub fn default_dir() -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("NPCQL_DATA").filter(|v| !v.is_empty()) {
        return Some(dir.into());
    }
    let local = std::path::PathBuf::from("data-sample");
    local.join("MRI-Segments").is_dir().then_some(local)
}
pub use layout::{Dataset, DatasetProblem, PatientFolder};
pub use modality::Modality;
pub use predictions::SIDECAR as PREDICTIONS_SIDECAR;
