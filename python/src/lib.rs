//! `npcql._native`: the library's public API as a Python extension module. The Python package
//! (`python/npcql/__init__.py`) wraps it with type hints, docstrings and the pandas/polars
//! conveniences; everything that touches the engine is here.
//!
//! Every call into the engine runs on one shared tokio runtime while the calling thread waits
//! without the GIL, waking every 50 ms to let Python deliver Ctrl-C (which cancels the query).
//! A panic in the engine is caught and raised as `npcql.Error`, never as Python's
//! `PanicException`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, RecordBatch, RecordBatchIterator};
use arrow_schema::ffi::FFI_ArrowSchema;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use futures::FutureExt;
use npcql::Engine;
use npcql::output::{Format, TableOptions, write_result};
use npcql::query::{self, diagnostics};
use npcql::report::{self, Rows};
use npcql_udfs::morphology::{MaskError, MaskFault};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

create_exception!(
    npcql,
    Error,
    PyException,
    "Anything npcql refuses: the message is the command line's one line."
);
create_exception!(
    npcql,
    SqlError,
    Error,
    "Bad SQL, an unknown table or function, a missing $NAME value, a function that failed on its values."
);
create_exception!(
    npcql,
    DatasetError,
    Error,
    "The dataset folder is missing or is not laid out as the dataset is."
);
create_exception!(
    npcql,
    FileError,
    Error,
    "A file cannot be read or written: a mask (under strict, also inside a function such as tumor_volume(path)), the clinical sheet, a report file, the results."
);
create_exception!(
    npcql,
    ConfigError,
    Error,
    "npcql.toml, or a folder given to connect() (predictions=), cannot be used."
);
create_exception!(
    npcql,
    AccessError,
    Error,
    "The connection keeps to the dataset (no_external_files=True) and the SQL names a file outside it."
);
create_exception!(
    npcql,
    ReportError,
    Error,
    "A report's comments or a statement's rows do not fit the view it asks for."
);

create_exception!(
    npcql,
    ExportError,
    Error,
    "An export cannot be written: its folder exists (force=True replaces it), lies inside the dataset, or a case failed under strict."
);

/// The Python exception for a library error, carrying the command line's one-line message.
fn to_py(error: npcql::Error, sql: &str) -> PyErr {
    let message = match &error {
        npcql::Error::Sql(_) => diagnostics::describe(&error, sql),
        other => other.to_string(),
    };
    match &error {
        npcql::Error::Dataset(_) => DatasetError::new_err(message),
        npcql::Error::File { .. } | npcql::Error::Write(_) => FileError::new_err(message),
        npcql::Error::Config(_) => ConfigError::new_err(message),
        npcql::Error::Access(_) => AccessError::new_err(message),
        npcql::Error::Report { .. } => ReportError::new_err(message),
        npcql::Error::Export(_) => ExportError::new_err(message),
        npcql::Error::ExportExists(_) => ExportError::new_err(format!("{message} (force=True)")),
        npcql::Error::Sql(e) => match mask_fault(e) {
            Some(MaskFault::OutsideDataset) => AccessError::new_err(message),
            Some(_) => FileError::new_err(message),
            None => SqlError::new_err(message),
        },
        npcql::Error::Param { .. } => SqlError::new_err(message),
        // Workers (npcql's distributed feature, which this module is built without) and the
        // kinds to come.
        _ => Error::new_err(message),
    }
}

/// The fault of the file a function failed on (an unreadable mask under `strict`), if the
/// query failed on a file rather than on its SQL.
fn mask_fault(error: &DataFusionError) -> Option<&MaskFault> {
    match error.find_root() {
        DataFusionError::External(e) => e.downcast_ref::<MaskError>().map(|e| &e.fault),
        _ => None,
    }
}

/// The runtime every query of every connection runs on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Runtime::new().expect("cannot start the tokio runtime"))
}

/// Runs `work` on the runtime with the GIL released. Ctrl-C raises KeyboardInterrupt and calls
/// `on_interrupt` (the task is aborted: DataFusion stops at its next batch); a panic becomes
/// `npcql.Error`.
fn wait_for<T: Send + 'static>(
    py: Python<'_>,
    work: impl Future<Output = PyResult<T>> + Send + 'static,
    on_interrupt: impl FnOnce(),
) -> PyResult<T> {
    let (sender, mut receiver) = channel();
    let task = runtime().spawn(async move {
        let outcome = AssertUnwindSafe(work).catch_unwind().await;
        let _ = sender.send(outcome);
    });
    loop {
        // The receiver goes into the GIL-free closure and comes back (it is Send, not Sync).
        let (received, back) = py.detach(move || (receiver.recv_timeout(Duration::from_millis(50)), receiver));
        receiver = back;
        match received {
            Ok(Ok(result)) => return result,
            Ok(Err(panic)) => return Err(panic_error(panic)),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    on_interrupt();
                    return Err(interrupt);
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(Error::new_err("the query stopped unexpectedly")),
        }
    }
}

/// Runs `f` (work on results that needs no runtime), a panic becoming `npcql.Error`.
fn no_panic<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| Err(panic_error(panic)))
}

/// A caught panic as `npcql.Error`, with its message.
fn panic_error(panic: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    Error::new_err(format!("internal error (please report it): {what}"))
}

/// A rendered report for Python: (html, [(file name, svg)], warnings).
type RenderedReport = (String, Vec<(String, String)>, Vec<String>);

/// What an export did, for Python: (folder, cases, left out, splits, copy step, bytes).
type ExportOutcome = (
    PathBuf,
    Vec<(String, String, Option<usize>, Option<String>, String)>,
    Vec<(String, String)>,
    Option<PathBuf>,
    Option<String>,
    u64,
);

/// An open dataset (`npcql.connect`). One engine serves any number of Python threads.
#[pyclass(frozen, module = "npcql._native")]
struct Connection {
    engine: Arc<Engine>,
}

#[pymethods]
impl Connection {
    /// Opens `path` (or `$NPCQL_DATA`, else `./data-sample`).
    /// `cache`: the persistent cache's folder; without one, `default_cache` asks for the
    /// platform's (the wrapper decides, as `npcql.connect(cache=...)` documents).
    #[new]
    #[pyo3(signature = (path=None, strict=false, memory_limit=None, no_external_files=false, predictions=None, cache=None, default_cache=false))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments of npcql.connect()
    fn new(
        py: Python<'_>,
        path: Option<PathBuf>,
        strict: bool,
        memory_limit: Option<String>,
        no_external_files: bool,
        predictions: Option<PathBuf>,
        cache: Option<PathBuf>,
        default_cache: bool,
    ) -> PyResult<Self> {
        let path = path
            .or_else(npcql::dataset::default_dir)
            .ok_or_else(|| DatasetError::new_err("no dataset: pass its folder to npcql.connect() or set NPCQL_DATA"))?;
        let memory_limit = memory_limit
            .map(|size| npcql::catalog::parse_size(&size))
            .transpose()
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        let cache = match cache {
            Some(dir) => Some(npcql::cache::CacheSettings {
                dir,
                max_bytes: npcql::cache::DEFAULT_SIZE_BYTES,
            }),
            None if default_cache => npcql::cache::CacheSettings::default_location(),
            None => None,
        };
        let options = npcql::EngineOptions {
            strict,
            memory_limit,
            no_external_files,
            predictions,
            cache,
            ..Default::default()
        };
        let open = async move { Engine::open_with(&path, &options).map_err(|e| to_py(e, "")) };
        let engine = wait_for(py, open, || {})?;
        Ok(Connection {
            engine: Arc::new(engine),
        })
    }

    /// Runs every statement of `sql` (`$NAME` placeholders replaced by the SQL literals in
    /// `literals`) and returns the last one's rows.
    #[pyo3(signature = (sql, literals=None))]
    fn sql(&self, py: Python<'_>, sql: String, literals: Option<BTreeMap<String, String>>) -> PyResult<QueryResult> {
        let engine = self.engine.clone();
        let functions = engine.functions().clone();
        functions.start_query();
        let run = async move {
            let bound = query::bind_literals(&sql, &literals.unwrap_or_default()).map_err(|e| to_py(e, &sql))?;
            let results = query::run(&engine, &bound).await.map_err(|e| to_py(e, &bound))?;
            let last = results.into_iter().last();
            Ok(match last {
                Some(result) => QueryResult {
                    schema: result.schema,
                    batches: result.batches,
                },
                None => QueryResult::empty(),
            })
        };
        wait_for(py, run, || functions.cancel())
    }

    /// The warnings recorded since the last call (unreadable masks, bad clinical cells).
    fn take_warnings(&self) -> Vec<String> {
        self.engine.take_warnings()
    }

    /// The tables and views of the session, sorted.
    fn tables(&self) -> PyResult<Vec<String>> {
        let ctx = self.engine.ctx();
        let mut names = ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort();
        Ok(names)
    }

    /// The table `name` with no rows: its schema, without reading any header.
    fn table_schema(&self, py: Python<'_>, name: String) -> PyResult<QueryResult> {
        let engine = self.engine.clone();
        let lookup = async move {
            let table = engine
                .ctx()
                .table_provider(name.as_str())
                .await
                .map_err(|e| to_py(npcql::Error::Sql(e), &name))?;
            Ok(QueryResult {
                schema: table.schema(),
                batches: Vec::new(),
            })
        };
        wait_for(py, lookup, || {})
    }

    /// Renders the report file at `path`: (html, [(file name, svg)], warnings).
    #[pyo3(signature = (path, literals=None))]
    fn report(
        &self,
        py: Python<'_>,
        path: PathBuf,
        literals: Option<BTreeMap<String, String>>,
    ) -> PyResult<RenderedReport> {
        let engine = self.engine.clone();
        let functions = engine.functions().clone();
        functions.start_query();
        let render = async move {
            let report = report::render_with_literals(&engine, &path, &literals.unwrap_or_default())
                .await
                .map_err(|e| to_py(e, ""))?;
            Ok((report.html, report.figures, report.warnings))
        };
        wait_for(py, render, || functions.cancel())
    }

    /// One patient's page (the shell's `.patient` page): (html, figures, warnings).
    fn patient(&self, py: Python<'_>, patient_id: String) -> PyResult<RenderedReport> {
        let engine = self.engine.clone();
        let functions = engine.functions().clone();
        functions.start_query();
        let render = async move {
            let report = report::patient_page(&engine, &patient_id)
                .await
                .map_err(|e| to_py(e, ""))?;
            Ok((report.html, report.figures, report.warnings))
        };
        wait_for(py, render, || functions.cancel())
    }

    /// `npcql export`: the cohort `selection` selects (every patient when None) written for
    /// nnU-Net (`layout` 'nnunet') or MONAI ('monai'). Returns (folder, cases as (case_id,
    /// patient_id, fold, stratum, pairing), left out as (patient_id, reason), where the splits
    /// went, the copy step when they are not where nnU-Net reads them, bytes written).
    #[pyo3(signature = (layout, out, dataset_id, name, selection, test, literals, channels, label, folds, stratify, seed, preprocessed, force, dry_run, compression_level, threads))]
    #[allow(clippy::too_many_arguments)]
    fn export(
        &self,
        py: Python<'_>,
        layout: String,
        out: PathBuf,
        dataset_id: u32,
        name: String,
        selection: Option<String>,
        test: Option<String>,
        literals: Option<BTreeMap<String, String>>,
        channels: Vec<String>,
        label: String,
        folds: usize,
        stratify: Option<String>,
        seed: u64,
        preprocessed: Option<PathBuf>,
        force: bool,
        dry_run: bool,
        compression_level: u32,
        threads: Option<usize>,
    ) -> PyResult<ExportOutcome> {
        use npcql::export::{ExportFormat, ExportOptions};
        let config = |why: String| ConfigError::new_err(why);
        let format = match layout.to_ascii_lowercase().as_str() {
            "nnunet" => ExportFormat::Nnunet,
            "monai" => ExportFormat::Monai,
            other => return Err(config(format!("layout '{other}': 'nnunet' or 'monai'"))),
        };
        let modality = |name: &str| {
            npcql::dataset::Modality::ALL
                .into_iter()
                .find(|m| m.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| config(format!("'{name}': the sequences are T1, T2 and CE-T1")))
        };
        let literals = literals.unwrap_or_default();
        let bind = |sql: Option<String>| {
            sql.map(|sql| query::bind_literals(&sql, &literals).map_err(|e| to_py(e, &sql)))
                .transpose()
        };
        let defaults = ExportOptions::default();
        let options = ExportOptions {
            format,
            out,
            dataset_id,
            name,
            selection: bind(selection)?,
            test: bind(test)?,
            channels: channels.iter().map(|c| modality(c)).collect::<PyResult<_>>()?,
            label: modality(&label)?,
            folds,
            stratify,
            seed,
            preprocessed,
            force,
            dry_run,
            compression_level,
            threads: threads.unwrap_or(defaults.threads),
            strict: self.engine.options().strict,
        };
        let engine = self.engine.clone();
        let run = async move {
            let summary = npcql::export::export(&engine, &options, &|_, _| {})
                .await
                .map_err(|e| to_py(e, ""))?;
            Ok((
                summary.folder,
                summary
                    .cases
                    .into_iter()
                    .map(|c| (c.case_id, c.patient_id, c.fold, c.stratum, c.pairing))
                    .collect(),
                summary.left_out.into_iter().map(|l| (l.patient_id, l.reason)).collect(),
                summary.splits,
                summary.copy_step,
                summary.bytes_written,
            ))
        };
        wait_for(py, run, || {})
    }

    /// Runs `sql` `runs` times in Rust and returns each run's seconds (rows collected, nothing
    /// converted): the baseline of the Python overhead benchmark.
    fn time_in_rust(&self, py: Python<'_>, sql: String, runs: usize) -> PyResult<Vec<f64>> {
        let engine = self.engine.clone();
        let timed = async move {
            let mut seconds = Vec::with_capacity(runs);
            for _ in 0..runs {
                let start = std::time::Instant::now();
                query::run(&engine, &sql).await.map_err(|e| to_py(e, &sql))?;
                seconds.push(start.elapsed().as_secs_f64());
            }
            Ok(seconds)
        };
        wait_for(py, timed, || {})
    }
}

/// One statement's rows, as the engine produced them (Arrow record batches).
#[pyclass(frozen, module = "npcql._native")]
struct QueryResult {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl QueryResult {
    fn empty() -> Self {
        QueryResult {
            schema: Arc::new(datafusion::arrow::datatypes::Schema::empty()),
            batches: Vec::new(),
        }
    }

    fn rows(&self) -> PyResult<Rows> {
        Rows::new(&self.schema, &self.batches).map_err(|e| Error::new_err(e.to_string()))
    }

    fn figure_error(fault: report::ReportFault) -> PyErr {
        ReportError::new_err(fault.to_string())
    }
}

#[pymethods]
impl QueryResult {
    /// The Arrow C stream of the batches (the PyCapsule interface): consumers read the
    /// engine's buffers in place. `requested_schema` is ignored, as the protocol allows.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches = self.batches.clone().into_iter().map(Ok);
        let reader = RecordBatchIterator::new(batches, self.schema.clone());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }

    /// The schema as an Arrow C schema capsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref()).map_err(|e| Error::new_err(e.to_string()))?;
        PyCapsule::new_with_value(py, schema, c"arrow_schema")
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    #[getter]
    fn columns(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    /// The rows as the command line's table, at most `max_rows` of them (0: all).
    fn table_text(&self, max_rows: usize) -> PyResult<String> {
        if self.schema.fields().is_empty() {
            return Ok(String::new());
        }
        no_panic(|| {
            let mut out = Vec::new();
            let options = TableOptions { max_rows };
            write_result(&mut out, Format::Table, &self.schema, &self.batches, options)
                .map_err(|e| Error::new_err(e.to_string()))?;
            Ok(String::from_utf8_lossy(&out).into_owned())
        })
    }

    /// The rows as the report's HTML table.
    fn html_table(&self) -> PyResult<String> {
        no_panic(|| Ok(report::html_table(&self.rows()?)))
    }

    /// The Kaplan–Meier figure of columns `time`, `event`, `group`: (svg, caption).
    fn km_plot(&self, unit: &str) -> PyResult<(String, String)> {
        no_panic(|| {
            let figure = report::km_figure(&self.rows()?, unit).map_err(Self::figure_error)?;
            Ok((figure.svg, figure.caption))
        })
    }

    /// The forest plot of columns `label`, `hr`, `hr_lower`, `hr_upper`, `p`: (svg, caption).
    fn forest_plot(&self) -> PyResult<(String, String)> {
        no_panic(|| {
            let figure = report::forest_figure(&self.rows()?).map_err(Self::figure_error)?;
            Ok((figure.svg, figure.caption))
        })
    }

    /// The tumour pictures of the rows (the columns of `-- show: slices`) as one PNG grid:
    /// (png, width, height, legend).
    fn slice_grid(&self) -> PyResult<PngPicture> {
        no_panic(|| {
            let grid = report::slice_grid(&self.rows()?).map_err(Self::figure_error)?;
            Ok((Cow::Owned(grid.png), grid.width, grid.height, grid.legend))
        })
    }

    /// Where each column's buffers live in memory, batch by batch (data buffers of the top
    /// level arrays): lets a test check that Python reads the engine's memory, not a copy.
    fn buffer_addresses(&self) -> Vec<usize> {
        let mut addresses = Vec::new();
        for batch in &self.batches {
            for column in batch.columns() {
                let data = column.to_data();
                addresses.extend(data.buffers().iter().map(|b| b.as_ptr() as usize));
            }
        }
        addresses
    }
}

/// The extension module: the classes and the exceptions (re-exported by `npcql`).
/// A picture for Python: (PNG bytes, width, height, legend).
type PngPicture = (Cow<'static, [u8]>, u32, u32, Vec<String>);

/// One slice of a series with its mask's outline, as `-- show: slices` draws it:
/// (png, width, height, legend). `slice`: an index in position order (None: the largest
/// tumour area); `window`: (low, high) in real units (None: the series' 1st–99th percentile).
#[pyfunction]
#[allow(clippy::too_many_arguments)] // Python's keyword arguments, one each
#[pyo3(signature = (series_dir, mask_path, slice=None, window=None, compare=None, crop=true, size=256))]
fn slice_plot(
    py: Python<'_>,
    series_dir: PathBuf,
    mask_path: PathBuf,
    slice: Option<usize>,
    window: Option<(f64, f64)>,
    compare: Option<PathBuf>,
    crop: bool,
    size: u32,
) -> PyResult<PngPicture> {
    use report::figures::{SliceChoice, SliceOptions, render_slice};
    let options = SliceOptions {
        slice: slice.map_or(SliceChoice::LargestArea, SliceChoice::Index),
        window: window.map(|(low, high)| [low, high]),
        compare,
        crop,
        size,
    };
    py.detach(|| {
        no_panic(|| {
            let picture =
                render_slice(&series_dir, &mask_path, &options).map_err(|e| FileError::new_err(e.to_string()))?;
            Ok((Cow::Owned(picture.png), picture.width, picture.height, picture.legend))
        })
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_function(wrap_pyfunction!(slice_plot, m)?)?;
    m.add_class::<Connection>()?;
    m.add_class::<QueryResult>()?;
    m.add("Error", py.get_type::<Error>())?;
    m.add("SqlError", py.get_type::<SqlError>())?;
    m.add("DatasetError", py.get_type::<DatasetError>())?;
    m.add("FileError", py.get_type::<FileError>())?;
    m.add("ReportError", py.get_type::<ReportError>())?;
    m.add("ExportError", py.get_type::<ExportError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("AccessError", py.get_type::<AccessError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
