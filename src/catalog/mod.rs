//! The catalog: an npcql session, in which a dataset is exposed to DataFusion as the tables
//! `patients` (read at open), `scans` and `masks` (headers read on first use, once), the
//! `dataset_issues` list and the `morphology` view, with npcql's functions registered.

mod lazy_table;
mod lazy_view;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use npcql_udfs::sql::FunctionContext;

use crate::dataset::clinical::{self, PatientsTable};
use crate::dataset::scans::ScanRow;
use crate::dataset::{Dataset, DatasetProblem};
use crate::error::{Error, Result};
use crate::tables::{
    function_context, issues_batch, mask_jobs, masks_batch, masks_schema, predictions_batch, read_all_series,
    scans_batch, scans_schema, series_jobs,
};
use lazy_table::LazyTable;
use lazy_view::LazyView;

/// An open dataset and the DataFusion session that queries it.
pub struct Engine {
    options: EngineOptions,
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

/// How an engine opens a dataset: the command line's `--strict`, `--memory-limit` and
/// `--no-external-files`.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Fail on the first unreadable file or bad clinical value instead of warning.
    pub strict: bool,
    /// The most bytes queries may hold in DataFusion's memory pool (sorts, joins and
    /// aggregates beyond it fail with "resources exhausted"); `None`: no limit.
    pub memory_limit: Option<usize>,
    /// Refuse whatever reads or writes files outside the dataset: quoted paths that resolve
    /// outside it (`FROM '/any/file.csv'`; one inside the dataset or the predictions folder,
    /// after symlinks and `..`, reads), `CREATE EXTERNAL TABLE`, `COPY … TO`, and the path
    /// functions given a file outside the dataset folder. For services that embed npcql; a
    /// refusal is an [`Error::Access`](crate::Error::Access).
    pub no_external_files: bool,
    /// Run queries on these datafusion-distributed workers (`HOST:PORT`, each started with
    /// `npcql worker` on the same dataset path); empty: on this machine. Needs the cargo
    /// feature `distributed`.
    pub workers: Vec<String>,
    /// The folder of model outputs for the `predictions` table (one subfolder per model);
    /// `None`: `npcql.toml`'s `[predictions] dir`, else `predictions` beside MRI-Segments.
    pub predictions: Option<std::path::PathBuf>,
    /// The persistent cache of headers and results across processes; `None` (the default: a
    /// library does not write into `$HOME` unasked) runs uncached. The command line, the shell
    /// and Python turn it on ([`CacheSettings::default_location`]).
    ///
    /// [`CacheSettings::default_location`]: crate::cache::CacheSettings::default_location
    pub cache: Option<crate::cache::CacheSettings>,
}

/// Kept in the session's configuration so that planning can see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilePolicy {
    pub no_external_files: bool,
}

impl datafusion::config::ConfigExtension for FilePolicy {
    const PREFIX: &'static str = "npcql";
}

impl datafusion::config::ExtensionOptions for FilePolicy {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
    fn cloned(&self) -> Box<dyn datafusion::config::ExtensionOptions> {
        Box::new(*self)
    }
    fn set(&mut self, key: &str, _value: &str) -> datafusion::error::Result<()> {
        // Set when the engine opens, never from SQL: a query cannot turn the policy off.
        datafusion::common::plan_err!("npcql.{key} cannot be SET")
    }
    fn entries(&self) -> Vec<datafusion::config::ConfigEntry> {
        vec![datafusion::config::ConfigEntry {
            key: "npcql.no_external_files".into(),
            value: Some(self.no_external_files.to_string()),
            description: "refuse files outside the dataset (set when the engine opens)",
        }]
    }
}

/// The message when a statement would touch a file outside the dataset (the `npcql` binary
/// adds its flag, `--no-external-files`).
pub(crate) const NO_EXTERNAL_FILES: &str = "reading or writing files outside the dataset is turned off";

/// A size such as `512m`, `2g`, `1.5GB` or `1048576` (bytes), as `--memory-limit` takes it.
pub fn parse_size(text: &str) -> Result<usize> {
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let scale: f64 = match unit.trim().trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0_f64.powi(4),
        _ => {
            return Err(crate::Error::Config(format!(
                "{text}: not a size (say 512m, 2g or a number of bytes)"
            )));
        }
    };
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() && n * scale >= 1.0 && n * scale < usize::MAX as f64 => Ok((n * scale) as usize),
        _ => Err(crate::Error::Config(format!(
            "{text}: not a size (say 512m, 2g or a number of bytes)"
        ))),
    }
}

impl Engine {
    /// Opens the dataset at `data_dir` (archive root, `ROOT/data` or `MRI-Segments`).
    /// Clinical data is read now; DICOM and NIfTI headers when a query first needs them.
    pub fn open(data_dir: &Path, strict: bool) -> Result<Engine> {
        Engine::open_with(
            data_dir,
            &EngineOptions {
                strict,
                ..EngineOptions::default()
            },
        )
    }

    /// [`Engine::open`] with every option.
    pub fn open_with(data_dir: &Path, options: &EngineOptions) -> Result<Engine> {
        let strict = options.strict;
        let dataset = Arc::new(Dataset::discover(data_dir)?);
        let predictions_dir = match &options.predictions {
            Some(dir) if !dir.is_dir() => {
                return Err(Error::Config(format!(
                    "the predictions folder {} does not exist",
                    dir.display()
                )));
            }
            Some(dir) => dir.clone(),
            None => dataset.config.predictions.folder(&dataset.root),
        };
        let mut functions = function_context(
            strict,
            options.no_external_files,
            &dataset.root,
            predictions_dir.is_dir().then_some(predictions_dir.as_path()),
        )?;
        let mut cache_fault = None;
        match options.cache.as_ref().map(|c| c.open()) {
            Some(Ok(store)) => functions = functions.with_store(store),
            Some(Err(fault)) => cache_fault = Some(fault),
            None => {}
        }
        let functions = Arc::new(functions);
        // A cache that cannot be used is a warning even under strict: the query runs uncached.
        if let Some(fault) = cache_fault {
            functions.warn_about_cache(fault);
        }
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_option_extension(FilePolicy {
                no_external_files: options.no_external_files,
            });
        // Spans let planning errors say where in the SQL they are.
        config.options_mut().sql_parser.collect_spans = true;
        // DataFusion 55 moves `morphology(path)['volume_mm3']` below a filter once common
        // subexpression elimination has made `morphology(path)` a column, so `morphology WHERE
        // modality = 'T2'` would mesh every mask, not a third of them (tests/slt/morphology_view.slt).
        config.options_mut().optimizer.enable_leaf_expression_pushdown = false;
        let mut runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new();
        if let Some(limit) = options.memory_limit {
            runtime = runtime.with_memory_limit(limit, 1.0);
        }
        let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
        let ctx = on_workers(ctx, &dataset, &predictions_dir, options, functions.shared_store())?;
        let readable = match options.no_external_files {
            true => Some(readable_folders(&dataset.root, &predictions_dir)?),
            false => None,
        };
        let ctx = with_quoted_files(ctx, readable);
        npcql_udfs::sql::register_all(&ctx, functions.clone())?;

        let patients = load_patients(&dataset, strict)?;
        // Clinical problems are warned about now and listed in dataset_issues for later.
        let clinical_file = dataset
            .clinical_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut issues = dataset.problems.clone();
        for (patient_id, problem) in &patients.problems {
            functions.warn(problem.clone());
            issues.push(DatasetProblem {
                patient_id: patient_id.clone(),
                path: clinical_file.clone(),
                problem: problem.clone(),
            });
        }
        let batch = patients.batch;
        ctx.register_table(
            "patients",
            Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?),
        )?;

        // Series headers are read once, for whichever of scans and masks is queried first.
        let series: Arc<OnceLock<Vec<ScanRow>>> = Arc::default();
        let (ds, read, f) = (dataset.clone(), series.clone(), functions.clone());
        let scans = Arc::new(LazyTable::new(scans_schema(), move || {
            scans_batch(read.get_or_init(|| read_all_series(&series_jobs(&ds), f.store())))
        }));
        let (ds, f) = (dataset.clone(), functions.clone());
        let masks = Arc::new(LazyTable::new(masks_schema(), move || {
            masks_batch(
                &mask_jobs(&ds),
                series.get_or_init(|| read_all_series(&series_jobs(&ds), f.store())),
                f.store(),
            )
        }));
        let (scans_table, masks_table) = header_tables(&dataset, options, &scans, &masks);
        let scans_table_for_views = scans_table.clone();
        ctx.register_table("scans", scans_table)?;
        ctx.register_table("masks", masks_table.clone())?;
        let (predictions, problems) =
            crate::dataset::predictions::discover(&predictions_dir, &dataset.config.predictions, &dataset.patients)?;
        issues.extend(problems);
        ctx.register_batch("predictions", predictions_batch(&predictions)?)?;
        ctx.register_batch("dataset_issues", issues_batch(&issues)?)?;
        register_morphology_view(&ctx, masks_table.clone())?;
        register_radiomics_views(&ctx, masks_table, scans_table_for_views)?;
        Ok(Engine {
            options: options.clone(),
            ctx,
            dataset,
            functions,
            scans,
            masks,
        })
    }

    /// The options it was opened with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
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

    /// The persistent cache's (hits, misses) since the last call; `None` without a cache.
    pub fn take_cache_counts(&self) -> Option<(u64, u64)> {
        Some(self.functions.store()?.take_counts())
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

    /// The same, as (about the data, which `--strict` makes errors; about the persistent
    /// cache, which stay warnings).
    pub fn take_warnings_by_kind(&self) -> (Vec<String>, Vec<String>) {
        self.functions.take_warnings_by_kind()
    }
}

/// `ctx` running its queries on `options.workers`, if any.
fn on_workers(
    ctx: SessionContext,
    dataset: &Dataset,
    predictions_dir: &Path,
    options: &EngineOptions,
    store: Option<Arc<dyn npcql_imaging::cache::ResultStore>>,
) -> Result<SessionContext> {
    if options.workers.is_empty() {
        return Ok(ctx);
    }
    #[cfg(feature = "distributed")]
    {
        let root = dataset
            .root
            .canonicalize()
            .map_err(|e| crate::Error::io(&dataset.root, "cannot resolve the dataset folder", e))?;
        // Workers see the model outputs at the same path, as they see the dataset.
        let predictions = predictions_dir.canonicalize().ok();
        let task_options = crate::distributed::ClusterOptions {
            strict: options.strict,
            no_external_files: options.no_external_files,
            predictions_folder: predictions.map(|p| p.display().to_string()).unwrap_or_default(),
        };
        crate::distributed::coordinate(ctx, &root, &options.workers, task_options, store)
    }
    #[cfg(not(feature = "distributed"))]
    {
        let _ = (ctx, dataset, predictions_dir, store);
        Err(crate::Error::Worker(
            "running on workers needs npcql built with distributed execution (the cargo feature `distributed`)".into(),
        ))
    }
}

/// The `scans` and `masks` tables: read here once and kept, or, on a cluster, read by the
/// workers for each query.
fn header_tables(
    dataset: &Arc<Dataset>,
    options: &EngineOptions,
    scans: &Arc<LazyTable>,
    masks: &Arc<LazyTable>,
) -> (Arc<dyn TableProvider>, Arc<dyn TableProvider>) {
    #[cfg(feature = "distributed")]
    if !options.workers.is_empty() {
        use crate::distributed::HeaderTable;
        return (
            Arc::new(HeaderTable::scans(dataset.clone())),
            Arc::new(HeaderTable::masks(dataset.clone())),
        );
    }
    let _ = (dataset, options);
    (scans.clone(), masks.clone())
}

/// `SELECT * FROM 'x.csv'`: a quoted path is a table, read as DataFusion's `enable_url_table`
/// reads it, except JSON: DataFusion reads one object per line unless told otherwise, so a
/// `.json` file that opens with `[` (what `npcql -o r.json`, DuckDB and pandas write) is read as
/// an array, and `.ndjson` / `.jsonl` (which DataFusion does not know) as one object per line.
/// With `readable` folders, a quoted path reads only when it resolves inside one of them (see
/// [`check_quoted_path`]).
fn with_quoted_files(ctx: SessionContext, readable: Option<Vec<PathBuf>>) -> SessionContext {
    use datafusion::catalog::DynamicFileCatalog;
    let state = Arc::new(OnceLock::new());
    let catalogs = DynamicFileCatalog::new(
        ctx.state().catalog_list().clone(),
        Arc::new(QuotedFiles {
            state: state.clone(),
            readable,
        }),
    );
    let session_id = ctx.session_id();
    let ctx: SessionContext = ctx
        .into_state_builder()
        .with_session_id(session_id)
        .with_catalog_list(Arc::new(catalogs))
        .build()
        .into();
    let weak = ctx.state_weak_ref();
    let _ = state.set(Box::new(move || weak.upgrade().map(|s| s.read().clone())) as CurrentState);
    ctx
}

/// The session's state as it is now (None once the session is dropped).
type CurrentState = Box<dyn Fn() -> Option<datafusion::execution::context::SessionState> + Send + Sync>;

/// Makes a table of a quoted file path (see [`with_quoted_files`]).
struct QuotedFiles {
    state: Arc<OnceLock<CurrentState>>,
    /// `None`: any path reads; else only what resolves inside these folders (canonical).
    readable: Option<Vec<PathBuf>>,
}

impl std::fmt::Debug for QuotedFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QuotedFiles")
    }
}

#[async_trait::async_trait]
impl datafusion::catalog::UrlTableFactory for QuotedFiles {
    async fn try_new(
        &self,
        url: &str,
    ) -> datafusion::error::Result<Option<Arc<dyn datafusion::catalog::TableProvider>>> {
        use datafusion::datasource::file_format::json::JsonFormat;
        use datafusion::datasource::listing::{
            ListingOptions, ListingTable, ListingTableConfig, ListingTableConfigExt, ListingTableUrl,
        };
        if let Some(folders) = &self.readable {
            // Only names that look like files: an unknown table stays "not found".
            if !url.contains(['/', '\\', '.', ':']) {
                return Ok(None);
            }
            // Raised as npcql's own error, which keeps its kind through DataFusion's planning.
            check_quoted_path(url, folders)
                .map_err(|message| datafusion::error::DataFusionError::External(Box::new(Error::Access(message))))?;
        }
        let Ok(table_url) = ListingTableUrl::parse(url) else {
            return Ok(None);
        };
        let Some(state) = self.state.get().and_then(|current| current()) else {
            return Ok(None);
        };
        let config = ListingTableConfig::new(table_url);
        let config = match json_layout(Path::new(url)) {
            Some((newline_delimited, extension)) => {
                let mut json = state.default_table_options().json;
                json.newline_delimited = newline_delimited;
                let format = Arc::new(JsonFormat::default().with_options(json));
                config.with_listing_options(ListingOptions::new(format).with_file_extension(extension))
            }
            None => match config.infer_options(&state).await {
                Ok(config) => config,
                Err(_) => return Ok(None),
            },
        };
        let config = config
            .infer_partitions_from_path(&state)
            .await?
            .infer_schema(&state)
            .await?;
        Ok(Some(Arc::new(ListingTable::try_new(config)?)))
    }
}

/// The dataset folder and, when there is one, the predictions folder (canonical): what a quoted
/// path may name when the engine keeps queries to the dataset, as the path functions may read.
fn readable_folders(root: &Path, predictions: &Path) -> Result<Vec<PathBuf>> {
    let root = root
        .canonicalize()
        .map_err(|e| Error::io(root, "cannot resolve the dataset folder", e))?;
    let predictions = predictions.canonicalize().ok().filter(|p| !p.starts_with(&root));
    Ok(std::iter::once(root).chain(predictions).collect())
}

/// Whether the quoted path `url` may be read when only `folders` may (the first is the dataset
/// folder): a file, or a folder whose every file, resolved through symlinks and `..`, lies inside
/// one of them. The error names the path, what it resolves to, and the folders.
fn check_quoted_path(url: &str, folders: &[PathBuf]) -> std::result::Result<(), String> {
    let allowed = || {
        let mut names = format!("the dataset folder {}", folders[0].display());
        for other in &folders[1..] {
            names.push_str(&format!(" and the predictions folder {}", other.display()));
        }
        names
    };
    // `what` ends in its punctuation: "x.csv:" or "x.csv resolves to /y.csv,".
    let outside = |what: String| format!("{what} outside {}; {NO_EXTERNAL_FILES}", allowed());
    if url.contains("://") || url.contains(['*', '?', '[']) {
        return Err(outside(format!("{url}: a URL or a pattern, which may lead")));
    }
    let resolved = Path::new(url).canonicalize().map_err(|e| {
        format!(
            "{url}: cannot be resolved ({e}); only files inside {} can be read",
            allowed()
        )
    })?;
    let inside = |path: &Path| folders.iter().any(|folder| path.starts_with(folder));
    if !inside(&resolved) {
        let written = std::path::absolute(url).unwrap_or_else(|_| PathBuf::from(url));
        return Err(outside(match written == resolved {
            true => format!("{url}:"),
            false => format!("{url} resolves to {},", resolved.display()),
        }));
    }
    // A folder is read whole: none of its files may lead out through a symlink.
    let mut pending = vec![resolved];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let target = entry.path().canonicalize().unwrap_or_else(|_| entry.path());
            if !inside(&target) {
                return Err(outside(format!(
                    "{url}: {} resolves to {},",
                    entry.path().display(),
                    target.display()
                )));
            }
            if target.is_dir() {
                pending.push(target);
            }
        }
    }
    Ok(())
}

/// For a JSON file DataFusion would misread: whether it is newline-delimited, and its
/// extension (with the dot, as listing matches it). None: let DataFusion decide.
fn json_layout(path: &Path) -> Option<(bool, String)> {
    use std::io::Read;
    let extension = path.extension()?.to_str()?;
    match extension.to_ascii_lowercase().as_str() {
        "ndjson" | "jsonl" => Some((true, format!(".{extension}"))),
        "json" => {
            let mut start = Vec::new();
            std::fs::File::open(path)
                .ok()?
                .take(4096)
                .read_to_end(&mut start)
                .ok()?;
            let text = start.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&start);
            let first = text.iter().find(|b| !b.is_ascii_whitespace())?;
            (*first == b'[').then(|| (false, format!(".{extension}")))
        }
        _ => None,
    }
}

/// `morphology`: every mask with each feature of `morphology(path)` as a column. Built as a
/// plan rather than SQL text because planning SQL is async. Each column calls
/// `morphology(path)`; the function's feature cache reads and meshes a mask only once.
fn register_morphology_view(ctx: &SessionContext, masks: Arc<dyn TableProvider>) -> Result<()> {
    use datafusion::datasource::provider_as_source;
    use datafusion::execution::FunctionRegistry;
    use datafusion::functions::core::expr_fn::get_field;
    use datafusion::logical_expr::LogicalPlanBuilder;
    use datafusion::prelude::col;

    let morphology = ctx.udf("morphology")?;
    let plan = move || {
        let features = morphology.call(vec![col("path")]);
        let mut columns = vec![col("patient_id"), col("modality"), col("path")];
        for (name, _) in npcql_udfs::sql::morphology::MORPHOLOGY_FIELDS.iter() {
            columns.push(get_field(features.clone(), *name).alias(*name));
        }
        LogicalPlanBuilder::scan("masks", provider_as_source(masks.clone()), None)?
            .project(columns)?
            .build()
    };
    ctx.register_table("morphology", Arc::new(LazyView::new("morphology", plan)))?;
    Ok(())
}

/// `radiomics`: every mask with its series' features at default settings, one column per
/// feature; `radiomics_long`: the same as (patient_id, modality, class, feature, value) rows,
/// for screens over every feature (DataFusion's planner has no UNPIVOT). Both are plans over
/// `masks` joined to `scans`; the function's cache extracts each mask once for both.
fn register_radiomics_views(
    ctx: &SessionContext,
    masks: Arc<dyn TableProvider>,
    scans: Arc<dyn TableProvider>,
) -> Result<()> {
    use datafusion::execution::FunctionRegistry;
    use datafusion::functions::core::expr_fn::{get_field, named_struct};
    use datafusion::functions_nested::expr_fn::make_array;
    use datafusion::prelude::{col, lit};

    let radiomics = ctx.udf("radiomics")?;
    let (m, s, udf) = (masks.clone(), scans.clone(), radiomics.clone());
    let wide = move || {
        let features = udf.call(vec![col("series_dir"), col("path")]);
        let mut columns = vec![col("patient_id"), col("modality"), col("series_dir"), col("path")];
        for (_, _, column) in &npcql_udfs::sql::radiomics::feature_columns() {
            columns.push(get_field(features.clone(), column.as_str()).alias(column.as_str()));
        }
        columns.push(get_field(features.clone(), "diagnostics").alias("diagnostics"));
        masks_with_series(&m, &s)?.project(columns)?.build()
    };
    ctx.register_table("radiomics", Arc::new(LazyView::new("radiomics", wide)))?;

    let long = move || {
        let features = radiomics.call(vec![col("series_dir"), col("path")]);
        let rows = npcql_udfs::sql::radiomics::feature_columns()
            .iter()
            .map(|(class, feature, column)| {
                named_struct(vec![
                    lit("class"),
                    lit(class.as_str()),
                    lit("feature"),
                    lit(feature.as_str()),
                    lit("value"),
                    get_field(features.clone(), column.as_str()),
                ])
            })
            .collect();
        masks_with_series(&masks, &scans)?
            .project(vec![
                col("patient_id"),
                col("modality"),
                make_array(rows).alias("feature_row"),
            ])?
            .unnest_column("feature_row")?
            .project(vec![
                col("patient_id"),
                col("modality"),
                get_field(col("feature_row"), "class").alias("class"),
                get_field(col("feature_row"), "feature").alias("feature"),
                get_field(col("feature_row"), "value").alias("value"),
            ])?
            .build()
    };
    ctx.register_table("radiomics_long", Arc::new(LazyView::new("radiomics_long", long)))?;
    Ok(())
}

/// Every mask beside its series' folder (`series_dir`; NULL when the patient has none).
fn masks_with_series(
    masks: &Arc<dyn TableProvider>,
    scans: &Arc<dyn TableProvider>,
) -> datafusion::common::Result<datafusion::logical_expr::LogicalPlanBuilder> {
    use datafusion::common::JoinType;
    use datafusion::datasource::provider_as_source;
    use datafusion::logical_expr::LogicalPlanBuilder;
    use datafusion::prelude::col;

    let series = LogicalPlanBuilder::scan("scans", provider_as_source(scans.clone()), None)?
        .project(vec![
            col("patient_id").alias("series_patient"),
            col("modality").alias("series_modality"),
            col("series_dir"),
        ])?
        .build()?;
    LogicalPlanBuilder::scan("masks", provider_as_source(masks.clone()), None)?.join(
        series,
        JoinType::Left,
        (
            vec!["patient_id", "modality"],
            vec!["series_patient", "series_modality"],
        ),
        None,
    )
}

fn load_patients(dataset: &Dataset, strict: bool) -> Result<PatientsTable> {
    let config = &dataset.config.clinical;
    let folder_ids: Vec<String> = dataset.patients.iter().map(|p| p.patient_id.clone()).collect();
    let Some(path) = dataset.clinical_file.as_deref() else {
        return clinical::build_patients(None, config, &folder_ids);
    };
    match clinical::read_sheet(path, config.sheet.as_deref(), config.header_row) {
        Ok(sheet) => clinical::build_patients(Some((path, &sheet)), config, &folder_ids),
        Err(e) if !strict => {
            let mut table = clinical::build_patients(None, config, &folder_ids)?;
            table.problems.push((None, format!("{e}; patients holds only ids")));
            Ok(table)
        }
        Err(e) => Err(e),
    }
}
