//! The library's one error type. A caller matches on the kind of thing that went wrong; the
//! message names the file or the statement and the fault, on one line.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// What went wrong opening a dataset or running SQL over it. Each kind is one thing; the
/// message names the file, the setting or the statement, and says no command-line flag (a front
/// end that has flags adds them: the `npcql` binary prints `--no-external-files` after an
/// [`Error::Access`]).
///
/// Kinds the next readers bring go here too: a series whose pixels cannot be decoded or whose
/// geometry does not hold is a fault of that file ([`FileFault`], one variant each); a
/// folder an export would write into is an [`Error::Export`]; a cache folder that cannot be
/// used gets an `Error::Cache` of its own when the cache lands.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The dataset folder is missing or is not laid out as the dataset is.
    #[error("{0}")]
    Dataset(String),
    /// A file npcql reads or writes cannot be used; the fault says why.
    #[error("{}: {fault}", path.display())]
    File { path: PathBuf, fault: FileFault },
    /// `npcql.toml` (the message names it), or a setting npcql was given, cannot be used: a
    /// predictions folder that does not exist, a size that is not one, an output format that
    /// cannot hold what the SQL returns.
    #[error("{0}")]
    Config(String),
    /// Bad SQL, an unknown table or function, a failed function: DataFusion's own error, kept
    /// whole so that its diagnostics (source spans) reach the user. A path function's
    /// unreadable file under `strict` is one of these, its root an `External`
    /// `npcql_udfs::morphology::MaskError` naming the file.
    #[error(transparent)]
    Sql(DataFusionError),
    /// A `$NAME` placeholder has no value (`name` is its name), or a `NAME=VALUE` is not one
    /// (`name` is `None`).
    #[error("{message}")]
    Param { name: Option<String>, message: String },
    /// The engine keeps queries to the dataset ([`EngineOptions::no_external_files`]) and a
    /// statement would read or write a file outside it, or change the runtime's settings.
    ///
    /// [`EngineOptions::no_external_files`]: crate::EngineOptions::no_external_files
    #[error("{0}")]
    Access(String),
    /// A datafusion-distributed worker cannot be used: its address is not one, it does not
    /// answer, it serves another dataset, or it stopped.
    #[error("{0}")]
    Worker(String),
    /// A folder npcql writes a dataset into (`npcql sample`; the exports to come) cannot be used.
    #[error("{0}")]
    Export(String),
    /// The folder an export would write already exists; forcing the export replaces it (the
    /// front ends name how: `--force`, `force=True`).
    #[error("{} already exists; a forced export replaces it (the new one is written first, then swapped in)", .0.display())]
    ExportExists(PathBuf),
    /// A report cannot show a statement as its comments ask; the section and line say where
    /// (`None`: the comments themselves, whose fault names its line).
    #[error("report {}{}: {fault}", file.display(), section.as_ref().map_or(String::new(), |s| format!(", section {s}")))]
    Report {
        file: PathBuf,
        section: Option<String>,
        fault: ReportFault,
    },
    /// Writing results failed: a closed pipe, a full disk.
    #[error("cannot write the results ({0})")]
    Write(#[from] std::io::Error),
}

/// What is wrong with one file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileFault {
    /// It could not be opened, read or written.
    #[error("{action} ({source})")]
    Io {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The clinical sheet cannot be read as a table of patients.
    #[error("{0}")]
    Clinical(String),
}

/// What is wrong with a report or one of its statements' results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportFault {
    /// A comment directive cannot be read.
    #[error("line {line}: {message}")]
    Directive { line: usize, message: String },
    /// The view needs a column the statement does not return.
    #[error("'show: {view}' needs a column named {column}; the statement returns {found}")]
    MissingColumn {
        view: &'static str,
        column: String,
        found: String,
    },
    /// A column holds values the view cannot use.
    #[error("column {column} {problem}")]
    BadColumn { column: String, problem: String },
    /// The survival kernels refused the data (a negative time, say).
    #[error("{0}")]
    Survival(#[from] npcql_udfs::survival::SurvivalError),
    /// The statement's rows could not be read.
    #[error("{0}")]
    Data(String),
    /// The statement failed: its error as one line, with its position in the statement
    /// (`query::diagnostics::describe`).
    #[error("{message}")]
    Statement { message: String },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A fault of the file at `path`.
    pub(crate) fn file(path: impl Into<PathBuf>, fault: FileFault) -> Error {
        Error::File {
            path: path.into(),
            fault,
        }
    }

    /// An I/O failure on the file at `path` while doing `action` ("cannot open", ...).
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Error {
        Error::file(path, FileFault::Io { action, source })
    }

    /// The DataFusion error inside, if this is one (for its diagnostic).
    pub fn as_datafusion(&self) -> Option<&DataFusionError> {
        match self {
            Error::Sql(e) => Some(e),
            _ => None,
        }
    }
}

/// DataFusion errors carry nested context ("Error during planning: ..."); keep them on one
/// line, and point at the bracket form where DataFusion 55 rejects `f(x).field`.
pub fn clean_error(message: &str) -> String {
    let mut one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    // A function's own error (an unreadable mask under --strict) names its file already.
    one_line = one_line.replacen("External error: ", "", 1);
    for kind in ["ParserError", "TokenizerError"] {
        if let Some(inner) = one_line.strip_prefix(&format!("SQL error: {kind}(\"")) {
            one_line = format!("syntax error: {}", inner.trim_end_matches("\")").replace("\\\"", "\""));
        }
    }
    if one_line.contains("Dot access not supported") {
        return format!("{one_line} (read a STRUCT field with brackets: f(x)['field'])");
    }
    one_line
}

impl From<DataFusionError> for Error {
    /// DataFusion's error, except a refusal raised inside DataFusion's planning (a quoted path
    /// outside the dataset), which keeps its kind.
    fn from(e: DataFusionError) -> Error {
        if let DataFusionError::External(inner) = e.find_root()
            && let Some(Error::Access(message)) = inner.downcast_ref::<Error>()
        {
            return Error::Access(message.clone());
        }
        Error::Sql(e)
    }
}

impl From<datafusion::arrow::error::ArrowError> for Error {
    fn from(e: datafusion::arrow::error::ArrowError) -> Error {
        match e {
            // Arrow's writers wrap the output's I/O error: keep it an I/O error.
            datafusion::arrow::error::ArrowError::IoError(_, io) => Error::Write(io),
            e => Error::Sql(DataFusionError::ArrowError(Box::new(e), None)),
        }
    }
}

impl From<datafusion::parquet::errors::ParquetError> for Error {
    fn from(e: datafusion::parquet::errors::ParquetError) -> Error {
        Error::Sql(DataFusionError::from(e))
    }
}
