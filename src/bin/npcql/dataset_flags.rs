//! The dataset flags, defined once: every command that reads the dataset (`npcql`, `npcql
//! report`, `npcql worker`, and `npcql export` to come) shares this one group, given before or
//! after the subcommand (`npcql -d X report f.sql` and `npcql report f.sql -d X` are the same).
//!
//! This module uses nothing else of the binary, so `cli.rs` and each subcommand import it and
//! not one another.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use npcql::EngineOptions;
use npcql::cache::CacheSettings;
use npcql::query::{Params, parse_param};

/// `-d`, `--param`, `--strict`, `-m`, `--no-external-files`, `-p`, `--workers`, the cache
/// flags: flattened into
/// the main command with `global = true`, so clap accepts them on either side of a subcommand.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Dataset (npcql, report, worker; before or after the subcommand)")]
pub struct DatasetArgs {
    /// Dataset folder (archive root, ROOT/data, or MRI-Segments). Default: $NPCQL_DATA, else the
    /// bundled data-sample.
    #[arg(short = 'd', long = "data", value_name = "DIR", global = true)]
    pub data: Option<PathBuf>,
    /// Bind $NAME in the SQL to VALUE (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", global = true)]
    pub params: Vec<String>,
    /// Fail on the first unreadable file or bad clinical value instead of warning.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Memory queries may hold (e.g. 512m, 2g), as datafusion-cli's: a sort, join or aggregate
    /// that needs more fails with "resources exhausted". Default: no limit.
    #[arg(short = 'm', long, value_name = "SIZE", global = true,
          value_parser = |s: &str| npcql::catalog::parse_size(s).map_err(|e| e.to_string()))]
    pub memory_limit: Option<usize>,
    /// Refuse files outside the dataset: quoted paths (FROM '/x.csv'), CREATE EXTERNAL TABLE,
    /// COPY … TO, and the morphology functions on other files. For services embedding npcql.
    #[arg(long, global = true)]
    pub no_external_files: bool,
    /// Model outputs for the `predictions` table: one subfolder per model, in the dataset's
    /// layout or nnU-Net's. Default: npcql.toml's [predictions] dir, else DATA/predictions.
    #[arg(short = 'p', long, value_name = "DIR", global = true)]
    pub predictions: Option<PathBuf>,
    /// Run on these workers (started with `npcql worker` on the same dataset path).
    /// Needs npcql built with `--features distributed`.
    #[arg(long, value_name = "HOST:PORT,...", value_delimiter = ',', global = true)]
    pub workers: Vec<String>,
    /// Keep headers and computed features in this folder across runs. Default: $NPCQL_CACHE_DIR,
    /// else $XDG_CACHE_HOME/npcql, else ~/.cache/npcql (off under --no-external-files).
    #[arg(long, value_name = "DIR", global = true, conflicts_with = "no_cache")]
    pub cache: Option<PathBuf>,
    /// Run without the persistent cache (nothing read from it or written to it).
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// The most the cache folder may hold (e.g. 500m, 4g); least recently used entries go
    /// first. Default: 2g.
    #[arg(long, value_name = "SIZE", global = true,
          value_parser = |s: &str| npcql::catalog::parse_size(s).map_err(|e| e.to_string()))]
    pub cache_size: Option<usize>,
}

impl DatasetArgs {
    /// `-d`, else `$NPCQL_DATA`, else `./data-sample`, else the data-sample this binary was
    /// built with.
    pub fn data_dir(&self) -> Result<PathBuf> {
        if let Some(dir) = &self.data {
            return Ok(dir.clone());
        }
        if let Some(dir) = npcql::dataset::default_dir() {
            return Ok(dir);
        }
        let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-sample");
        if bundled.is_dir() {
            return Ok(bundled);
        }
        bail!("no dataset: pass -d DIR or set NPCQL_DATA")
    }

    /// The `--param NAME=VALUE` values by name.
    pub fn params(&self) -> Result<Params> {
        Ok(self
            .params
            .iter()
            .map(|p| parse_param(p))
            .collect::<npcql::Result<_>>()?)
    }

    /// How the engine opens the dataset.
    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            strict: self.strict,
            memory_limit: self.memory_limit,
            no_external_files: self.no_external_files,
            workers: self.workers.clone(),
            predictions: self.predictions.clone(),
            cache: self.cache_settings(),
        }
    }

    /// The persistent cache these flags ask for: `--cache DIR`, else the default folder unless
    /// `--no-cache` or `--no-external-files` (a service does not write into $HOME unasked).
    pub fn cache_settings(&self) -> Option<CacheSettings> {
        if self.no_cache {
            return None;
        }
        let mut settings = match &self.cache {
            Some(dir) => CacheSettings {
                dir: dir.clone(),
                max_bytes: npcql::cache::DEFAULT_SIZE_BYTES,
            },
            None if self.no_external_files => return None,
            None => CacheSettings::default_location()?,
        };
        if let Some(size) = self.cache_size {
            settings.max_bytes = size as u64;
        }
        Some(settings)
    }

    /// The flags of this group that were given other than `allowed`, as the user spells them.
    pub fn given_except(&self, allowed: &[&str]) -> Vec<&'static str> {
        let given = [
            ("-d", self.data.is_some()),
            ("--param", !self.params.is_empty()),
            ("--strict", self.strict),
            ("--memory-limit", self.memory_limit.is_some()),
            ("--no-external-files", self.no_external_files),
            ("--predictions", self.predictions.is_some()),
            ("--workers", !self.workers.is_empty()),
            ("--cache", self.cache.is_some()),
            ("--no-cache", self.no_cache),
            ("--cache-size", self.cache_size.is_some()),
        ];
        given
            .into_iter()
            .filter(|(flag, set)| *set && !allowed.contains(flag))
            .map(|(flag, _)| flag)
            .collect()
    }
}

/// The flag behind a library error, which the library does not name (its users may not have
/// typed one): the command line and the shell print it after the message.
pub fn flag_hint(error: &npcql::Error) -> Option<String> {
    match error {
        npcql::Error::Access(_) => Some("--no-external-files".into()),
        npcql::Error::ExportExists(_) => Some("--force".into()),
        npcql::Error::Param { name: Some(name), .. } => Some(format!("pass --param {name}=VALUE")),
        npcql::Error::Param { name: None, .. } => Some("--param NAME=VALUE".into()),
        _ => None,
    }
}

/// `describe(error, sql)` and the flag behind the error, as the shell prints a failed statement.
pub fn describe_with_hint(error: &npcql::Error, sql: &str) -> String {
    let message = npcql::query::diagnostics::describe(error, sql);
    match flag_hint(error) {
        Some(hint) => format!("{message} ({hint})"),
        None => message,
    }
}
