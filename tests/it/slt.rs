//! Runs every `tests/slt/*.slt` file against a fresh npcql session on data-sample.
//!
//! Cells are printed as text: NULL as `NULL`, floats rounded to 9 significant digits (so a
//! summation order change cannot flip the last digit), everything else as Arrow displays it.
//! Each `query` line's type letters are checked against the result's Arrow types, with
//! DataFusion's own sqllogictest letters: `I` integers, `R` floats and decimals, `T` text,
//! `B` booleans, `D` dates and times, `P` timestamps, `?` anything else.

use std::path::Path;

use datafusion::arrow::array::{Array, Float32Array, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use npcql::Engine;
use sqllogictest::{ColumnType, DBOutput};

struct NpcqlDb {
    engine: Engine,
}

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

/// A result column's type letter, as DataFusion's sqllogictest runner assigns them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SltType {
    Boolean,
    DateTime,
    Integer,
    Float,
    Text,
    Timestamp,
    Another,
}

impl ColumnType for SltType {
    /// An unknown letter is a parse error, so a typo in a `query` line cannot pass as `?`.
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'B' => Self::Boolean,
            'D' => Self::DateTime,
            'I' => Self::Integer,
            'R' => Self::Float,
            'T' => Self::Text,
            'P' => Self::Timestamp,
            '?' => Self::Another,
            _ => return None,
        })
    }

    fn to_char(&self) -> char {
        match self {
            Self::Boolean => 'B',
            Self::DateTime => 'D',
            Self::Integer => 'I',
            Self::Float => 'R',
            Self::Text => 'T',
            Self::Timestamp => 'P',
            Self::Another => '?',
        }
    }
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for NpcqlDb {
    type Error = SltError;
    type ColumnType = SltType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<SltType>, SltError> {
        let results = npcql::query::run(&self.engine, sql)
            .await
            .map_err(|e| SltError(format!("{e:#}")));
        let warnings = self.engine.take_warnings();
        let mut results = results?;
        if self.engine.functions().strict && !warnings.is_empty() {
            return Err(SltError(warnings.join("; ")));
        }
        let Some(last) = results.pop() else {
            return Ok(DBOutput::StatementComplete(0));
        };
        if !last.has_columns() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = last
            .schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let rows = last
            .batches
            .iter()
            .flat_map(rows_as_text)
            .flat_map(one_line_each)
            .collect();
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}
}

fn column_type(data_type: &DataType) -> SltType {
    match data_type {
        DataType::Boolean => SltType::Boolean,
        t if t.is_integer() => SltType::Integer,
        t if t.is_floating() || t.is_decimal() => SltType::Float,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => SltType::Text,
        DataType::Date32 | DataType::Date64 | DataType::Time32(_) | DataType::Time64(_) => SltType::DateTime,
        DataType::Timestamp(_, _) => SltType::Timestamp,
        _ => SltType::Another,
    }
}

/// A runner on a fresh session of data-sample that checks the type letters of every query.
fn runner(strict: bool) -> sqllogictest::Runner<NpcqlDb, impl sqllogictest::MakeConnection<Conn = NpcqlDb>> {
    let mut runner = sqllogictest::Runner::new(move || async move {
        let engine = Engine::open(&super::support::data_sample(), strict).map_err(|e| SltError(format!("{e:#}")))?;
        Ok(NpcqlDb { engine })
    });
    runner.with_column_validator(sqllogictest::strict_column_validator);
    runner
}

fn rows_as_text(batch: &RecordBatch) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let formatters: Vec<ArrayFormatter> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
        .collect();
    (0..batch.num_rows())
        .map(|r| {
            batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(column, formatter)| match float_cell(column.as_ref(), r) {
                    Some(v) => round_significant(v, 9),
                    None => formatter.value(r).to_string(),
                })
                .collect()
        })
        .collect()
}

/// A row with a multi-line cell (EXPLAIN's plan) as one row per line, as DataFusion's own
/// `.slt` files write plans; other rows as they are.
fn one_line_each(row: Vec<String>) -> Vec<Vec<String>> {
    if !row.iter().any(|cell| cell.contains('\n')) {
        return vec![row];
    }
    row.join(" ").lines().map(|line| vec![line.to_string()]).collect()
}

fn float_cell(column: &dyn Array, row: usize) -> Option<f64> {
    if column.is_null(row) {
        return None;
    }
    if let Some(a) = column.as_any().downcast_ref::<Float64Array>() {
        return Some(a.value(row));
    }
    column
        .as_any()
        .downcast_ref::<Float32Array>()
        .map(|a| f64::from(a.value(row)))
}

/// `v` to `digits` significant digits, without trailing zeros.
pub fn round_significant(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { v.to_string() };
    }
    let decimals = (digits - 1 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".into() } else { text }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_files() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("tests/slt")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "slt"));
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", folder.display());
    let mut failures = Vec::new();
    for file in &files {
        let strict = file.file_stem().is_some_and(|s| s.to_string_lossy().contains("strict"));
        let mut runner = runner(strict);
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn rounds_to_significant_digits() {
    assert_eq!(round_significant(0.123456789123, 9), "0.123456789");
    assert_eq!(round_significant(12345.678912345, 9), "12345.6789");
    assert_eq!(round_significant(2.0, 9), "2");
    assert_eq!(round_significant(-0.5, 9), "-0.5");
}

/// The runner itself fails on a wrong expected value (a test that cannot fail is no test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expectation_fails() {
    let wrong = "query I\nSELECT count(*) FROM patients\n----\n49\n";
    let outcome = runner(false).run_script_async(wrong).await;
    assert!(outcome.is_err(), "a wrong expected value passed: {outcome:?}");
}

/// A wrong type letter fails too: `R` for a count, `I` for text, `T` for a float or a boolean,
/// too few or too many letters, and a letter that is none of DataFusion's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_letter_fails() {
    let script = |letters: &str| {
        format!("query {letters}\nSELECT count(*), min(patient_id), 2.5, true FROM patients\n----\n48 001 2.5 true\n")
    };
    runner(false)
        .run_script_async(&script("ITRB"))
        .await
        .unwrap_or_else(|e| panic!("the right letters fail: {e}"));
    for wrong in ["RTRB", "IIRB", "ITTB", "ITRT", "ITR", "ITRBI"] {
        let outcome = runner(false).run_script_async(&script(wrong)).await;
        assert!(
            outcome.is_err(),
            "query {wrong} passed for a BIGINT, VARCHAR, DOUBLE, BOOLEAN row"
        );
    }
    // A letter that is none of them does not parse (the runner would panic on it).
    assert!(sqllogictest::parse::<SltType>(&script("ITRX")).is_err());
}
