//! npcql: an embedded analytical SQL engine over the nasopharyngeal-carcinoma MRI dataset
//! (Li et al., Sci Data 2025).
//!
//! The library is four layers, each using only the ones above it:
//!
//! | room | what it does |
//! |---|---|
//! | [`dataset`] | reads the files: discovery of the layout, DICOM series headers, NIfTI mask headers, the clinical sheet, `npcql.toml`. Knows nothing of SQL. |
//! | [`catalog`] | the session: [`Engine`] exposes a dataset to DataFusion as the tables `patients`, `scans`, `masks`, `dataset_issues` and the view `morphology`, with npcql's functions (crate `npcql-udfs`) registered. |
//! | [`query`] | SQL text to results: statements, `$NAME` parameters, error positions. |
//! | [`output`] | results to bytes: tables for people, csv/json/markdown for tools, Parquet/Arrow for pipelines. |
//!
//! [`report`] turns a `.sql` file with `-- show:` comments into an HTML page of tables and
//! figures (Kaplan–Meier with risk table, forest plot, Table 1, box plots, histograms).
//!
//! [`distributed`] (cargo feature `distributed`) runs the same SQL on datafusion-distributed
//! workers: `npcql worker` and `--workers`.
//!
//! [`cache`] keeps headers and computed results on disk across processes (the imaging room's
//! cache, in the folder this room chooses).
//!
//! [`export`] writes a cohort selected in SQL as an nnU-Net v2 or MONAI training dataset.
//!
//! [`sample`] writes a synthetic cohort in the dataset's layout. The `npcql` binary
//! (`src/bin/npcql`) adds the command line and the interactive shell on top.
//!
//! ```no_run
//! # async fn example() -> npcql::Result<()> {
//! let engine = npcql::Engine::open(std::path::Path::new("data-sample"), false)?;
//! let results = npcql::query::run(&engine, "SELECT count(*) FROM patients").await?;
//! # Ok(()) }
//! ```

pub mod cache;
pub mod catalog;
pub mod dataset;
#[cfg(feature = "distributed")]
pub mod distributed;
mod error;
pub mod export;
pub mod output;
pub mod query;
pub mod report;
pub mod sample;
mod tables;

pub use catalog::{Engine, EngineOptions, HeaderSummary};
pub use error::{Error, FileFault, Result};
