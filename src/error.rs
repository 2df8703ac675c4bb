//! The library's one error type. A caller matches on the kind of thing that went wrong; the
//! message names the file or the statement and the fault, on one line.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// What went wrong opening a dataset or running SQL over it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The dataset folder is missing or is not laid out as the dataset is.
    #[error("{0}")]
    Dataset(String),
    /// A file npcql reads or writes cannot be used; the fault says why.
    #[error("{}: {fault}", path.display())]
    File { path: PathBuf, fault: FileFault },
    /// Bad SQL, an unknown table or function, a failed function: DataFusion's own error, kept
    /// whole so that its diagnostics (source spans) reach the user.
    #[error(transparent)]
    Sql(#[from] DataFusionError),
    /// A `$NAME` placeholder without a value, or a malformed `NAME=VALUE`.
    #[error("{0}")]
    Param(String),
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
    /// `npcql.toml` is not valid, or names what does not exist.
    #[error("{0}")]
    Config(String),
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
