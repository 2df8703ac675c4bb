//! Writing query results: aligned tables for people, csv/tsv/json/ndjson/markdown for tools,
//! Parquet and Arrow IPC for pipelines.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::Result;

/// An output format (`--format`, `.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Tsv,
    Json,
    Ndjson,
    Markdown,
    /// One `column = value` line per field, a blank line between rows (DuckDB's `.mode line`).
    Line,
    Parquet,
    Arrow,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 9] = [
        Format::Table,
        Format::Csv,
        Format::Tsv,
        Format::Json,
        Format::Ndjson,
        Format::Markdown,
        Format::Line,
        Format::Parquet,
        Format::Arrow,
    ];

    /// The format's name, as `--format` and `.mode` take it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Markdown => "markdown",
            Format::Line => "line",
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
        }
    }

    /// The format an output file's extension implies.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "json" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            "md" | "markdown" => Format::Markdown,
            "parquet" | "pq" => Format::Parquet,
            "arrow" | "ipc" | "feather" => Format::Arrow,
            "txt" => Format::Table,
            _ => return None,
        })
    }

    /// Whether the format is binary (not for a terminal).
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Parquet | Format::Arrow)
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    /// A format by its name, in any case.
    fn from_str(name: &str) -> std::result::Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("unknown format '{name}'"))
    }
}

/// Display settings for the table format.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// Rows shown before the rest are cut (0 = all).
    pub max_rows: usize,
}

/// Writes one statement's rows in `format` (all of them in memory; see [`ResultWriter`] to
/// write batch by batch).
pub fn write_result(
    out: &mut (dyn Write + Send),
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    table: TableOptions,
) -> Result<()> {
    let mut writer = ResultWriter::new(out, format, schema.clone(), table)?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()
}

fn json_writer() -> datafusion::arrow::json::WriterBuilder {
    datafusion::arrow::json::WriterBuilder::new().with_explicit_nulls(true)
}

/// Writes one statement's rows as they arrive: csv, json, Parquet and Arrow write each batch
/// through; a table keeps only the rows it shows and counts the rest.
pub struct ResultWriter<'a> {
    schema: SchemaRef,
    rows: usize,
    sink: Sink<'a>,
}

type Out<'a> = &'a mut (dyn Write + Send);

enum Sink<'a> {
    Table {
        out: Out<'a>,
        options: TableOptions,
        shown: Vec<RecordBatch>,
    },
    Markdown(Out<'a>),
    Line(Out<'a>),
    Csv {
        writer: datafusion::arrow::csv::Writer<Out<'a>>,
        delimiter: u8,
    },
    Json(datafusion::arrow::json::ArrayWriter<Out<'a>>),
    Ndjson(datafusion::arrow::json::LineDelimitedWriter<Out<'a>>),
    Parquet(datafusion::parquet::arrow::ArrowWriter<Out<'a>>),
    Arrow(datafusion::arrow::ipc::writer::FileWriter<Out<'a>>),
}

impl<'a> ResultWriter<'a> {
    /// A writer of rows of `schema` in `format` to `out`.
    pub fn new(out: Out<'a>, format: Format, schema: SchemaRef, table: TableOptions) -> Result<ResultWriter<'a>> {
        let sink = match format {
            Format::Table => Sink::Table {
                out,
                options: table,
                shown: Vec::new(),
            },
            Format::Markdown => {
                write_markdown_header(out, &schema)?;
                Sink::Markdown(out)
            }
            Format::Line => Sink::Line(out),
            Format::Csv | Format::Tsv => {
                let delimiter = if format == Format::Csv { b',' } else { b'\t' };
                let writer = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .with_delimiter(delimiter)
                    .build(out);
                Sink::Csv { writer, delimiter }
            }
            // NULL is written as `null` (as DuckDB does), so a column that is NULL in every row
            // is still there when the file is read back.
            Format::Json => Sink::Json(json_writer().build(out)),
            Format::Ndjson => Sink::Ndjson(json_writer().build(out)),
            Format::Parquet => Sink::Parquet(datafusion::parquet::arrow::ArrowWriter::try_new(
                out,
                schema.clone(),
                None,
            )?),
            Format::Arrow => Sink::Arrow(datafusion::arrow::ipc::writer::FileWriter::try_new(out, &schema)?),
        };
        Ok(ResultWriter { schema, rows: 0, sink })
    }

    /// Writes (or, for a table, keeps what is shown of) one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let before = self.rows;
        self.rows += batch.num_rows();
        match &mut self.sink {
            Sink::Table { options, shown, .. } => {
                let room = if options.max_rows == 0 {
                    batch.num_rows()
                } else {
                    options.max_rows.saturating_sub(before)
                };
                if room > 0 {
                    shown.push(batch.slice(0, room.min(batch.num_rows())));
                }
            }
            Sink::Markdown(out) => {
                let escape = |s: &str| s.replace('|', "\\|").replace('\n', " ");
                for row in display_rows(std::slice::from_ref(batch), 0)? {
                    let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
                    writeln!(out, "| {} |", cells.join(" | "))?;
                }
            }
            Sink::Line(out) => write_lines(out, &self.schema, batch, before == 0)?,
            Sink::Csv { writer, .. } => {
                for flat in flatten_nested(&self.schema, std::slice::from_ref(batch))? {
                    writer.write(&flat)?;
                }
            }
            Sink::Json(writer) => writer.write(batch)?,
            Sink::Ndjson(writer) => writer.write(batch)?,
            Sink::Parquet(writer) => writer.write(batch)?,
            Sink::Arrow(writer) => writer.write(batch)?,
        }
        Ok(())
    }

    /// Ends the output (a table is drawn now; file formats write their footers).
    pub fn finish(self) -> Result<()> {
        match self.sink {
            Sink::Table { out, options, shown } => {
                out.write_all(render_table(&self.schema, &shown, self.rows, options)?.as_bytes())?
            }
            Sink::Markdown(_) | Sink::Line(_) => {}
            Sink::Csv { writer, delimiter } => {
                let out = writer.into_inner();
                // The csv writer writes its header with the first batch: an empty result still
                // gets one.
                if self.rows == 0 {
                    let header: Vec<&str> = self.schema.fields().iter().map(|f| f.name().as_str()).collect();
                    writeln!(out, "{}", header.join(if delimiter == b',' { "," } else { "\t" }))?;
                }
            }
            Sink::Json(mut writer) => {
                // An empty result is `[]` too: arrow writes the brackets without rows.
                writer.finish()?;
                writer.into_inner().write_all(b"\n")?;
            }
            Sink::Ndjson(mut writer) => writer.finish()?,
            Sink::Parquet(writer) => {
                writer.close()?;
            }
            Sink::Arrow(mut writer) => writer.finish()?,
        }
        Ok(())
    }
}

/// Cell text of every row, floats rounded for display.
fn display_rows(batches: &[RecordBatch], limit: usize) -> Result<Vec<Vec<String>>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<_, _>>()?;
        for r in 0..batch.num_rows() {
            if limit > 0 && rows.len() >= limit {
                return Ok(rows);
            }
            let row = (0..batch.num_columns())
                .map(|c| match float_value(batch.column(c), r) {
                    Some(v) => display_float(v),
                    None => formatters[c].value(r).to_string(),
                })
                .collect();
            rows.push(row);
        }
    }
    Ok(rows)
}

fn float_value(column: &ArrayRef, row: usize) -> Option<f64> {
    use datafusion::arrow::array::{Float32Array, Float64Array};
    if column.is_null(row) {
        return None;
    }
    match column.data_type() {
        DataType::Float64 => Some(column.as_any().downcast_ref::<Float64Array>()?.value(row)),
        DataType::Float32 => Some(f64::from(column.as_any().downcast_ref::<Float32Array>()?.value(row))),
        _ => None,
    }
}

/// Floats for people: six decimals, trailing zeros dropped; scientific when tiny or huge.
pub fn display_float(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e15) {
        return format!("{v:.4e}");
    }
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A short type name for table headers, as DuckDB shows them.
pub fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "varchar".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::UInt64 => "ubigint".into(),
        DataType::Float64 => "double".into(),
        DataType::Float32 => "float".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Struct(_) => "struct".into(),
        DataType::List(_) | DataType::LargeList(_) => "list".into(),
        other => other.to_string().to_ascii_lowercase(),
    }
}

/// The shown rows as an aligned table, with a count of all `total` rows under it.
fn render_table(schema: &SchemaRef, batches: &[RecordBatch], total: usize, options: TableOptions) -> Result<String> {
    let rows = display_rows(batches, options.max_rows)?;
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    // A terminal that reports no usable width (a bare pty) would squeeze every column to one
    // character: lay the table out at its natural width instead.
    if table.width().is_none_or(|w| w < 20) {
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    table.set_header(
        schema
            .fields()
            .iter()
            .map(|f| format!("{}\n{}", f.name(), type_name(f.data_type()))),
    );
    for row in rows.iter() {
        table.add_row(row.clone());
    }
    for (i, field) in schema.fields().iter().enumerate() {
        if field.data_type().is_numeric()
            && let Some(column) = table.column_mut(i)
        {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut text = table.to_string();
    text.push('\n');
    let shown = rows.len();
    let noun = if total == 1 { "row" } else { "rows" };
    if shown < total {
        text.push_str(&format!(
            "{total} {noun} ({shown} shown, {} cut by .maxrows)\n",
            total - shown
        ));
    } else {
        text.push_str(&format!("{total} {noun}\n"));
    }
    Ok(text)
}

fn write_markdown_header(out: &mut dyn Write, schema: &SchemaRef) -> Result<()> {
    let escape = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let names: Vec<String> = schema.fields().iter().map(|f| escape(f.name())).collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    let rules: Vec<&str> = schema
        .fields()
        .iter()
        .map(|f| if f.data_type().is_numeric() { "---:" } else { "---" })
        .collect();
    writeln!(out, "| {} |", rules.join(" | "))?;
    Ok(())
}

/// One `column = value` line per field, a blank line between rows.
fn write_lines(out: &mut dyn Write, schema: &SchemaRef, batch: &RecordBatch, first_batch: bool) -> Result<()> {
    let width = schema
        .fields()
        .iter()
        .map(|f| f.name().chars().count())
        .max()
        .unwrap_or(0);
    for (i, row) in display_rows(std::slice::from_ref(batch), 0)?.into_iter().enumerate() {
        if i > 0 || !first_batch {
            writeln!(out)?;
        }
        for (field, value) in schema.fields().iter().zip(row) {
            writeln!(out, "{:>width$} = {value}", field.name())?;
        }
    }
    Ok(())
}

/// csv cannot hold STRUCT or LIST columns: write them as their display text.
fn flatten_nested(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<RecordBatch>> {
    let nested = |dt: &DataType| dt.is_nested();
    if !schema.fields().iter().any(|f| nested(f.data_type())) {
        return Ok(batches.to_vec());
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if nested(f.data_type()) {
                Field::new(f.name(), DataType::Utf8, true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let flat_schema = Arc::new(Schema::new(fields));
    let options = FormatOptions::default();
    batches
        .iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .map(|column| -> Result<ArrayRef> {
                    if !nested(column.data_type()) {
                        return Ok(column.clone());
                    }
                    let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
                    let text: StringArray = (0..column.len())
                        .map(|r| (!column.is_null(r)).then(|| formatter.value(r).to_string()))
                        .collect();
                    Ok(Arc::new(text))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RecordBatch::try_new(flat_schema.clone(), columns)?)
        })
        .collect()
}

/// The time now, `2026-12-05 13:04 UTC`: the footer's date, and what an export records.
pub fn now_utc() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    datafusion::arrow::temporal_conversions::timestamp_s_to_datetime(now)
        .map_or_else(String::new, |d| format!("{} UTC", d.format("%Y-%m-%d %H:%M")))
}
