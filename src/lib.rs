//! npcql: an embedded analytical SQL engine over the nasopharyngeal-carcinoma MRI dataset
//! (Li et al., Sci Data 2025).
//!
//! [`Engine::open`] discovers a dataset folder and exposes it to DataFusion as the tables
//! `patients`, `scans` and `masks`, with npcql's SQL functions registered. The `npcql`
//! binary adds the command line, output formats and the interactive shell.

pub mod cli;
pub mod clinical;
pub mod config;
pub mod dataset;
pub mod dicom_guard;
pub mod dicom_series;
pub mod engine;
pub mod lazy_table;
pub mod nifti_mask;
pub mod output;
pub mod params;
pub mod repl;
pub mod sample;
pub mod script;
pub mod tables;

pub use engine::Engine;
