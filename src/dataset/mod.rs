//! Reading the dataset's files into typed rows: where the pieces are ([`layout`]), what a
//! DICOM series says ([`dicom`]), what a mask header says ([`nifti`]), the clinical sheet
//! ([`clinical`]) and the optional `npcql.toml` ([`config`]). Nothing here knows of SQL;
//! the catalog turns these rows into tables.

pub(crate) mod canonical;
pub(crate) mod clinical;
pub(crate) mod config;
pub(crate) mod dicom;
mod layout;
pub(crate) mod nifti;

pub use clinical::normalise_patient_id;
pub use layout::{Dataset, DatasetProblem, Modality, PatientFolder};
