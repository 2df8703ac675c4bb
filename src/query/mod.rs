//! SQL text to results: statements split by the SQL parser (`;`, `--` and `/* */` comments,
//! semicolons inside strings), `$NAME` parameters bound ([`params`]), each statement planned
//! and executed in turn by the one statement loop, [`exec_and_print`], which hands its rows to
//! the caller's [`Printer`]; [`diagnostics`] turns an error into one line with its position.

pub mod diagnostics;
pub mod params;

use std::future::Future;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::Location;
use futures::StreamExt;

use crate::Engine;
use crate::error::Result;
use crate::output::ResultWriter;

pub use params::{Params, bind, bind_literals, parse_param, string_literal};

/// The rows one statement produced.
#[derive(Debug)]
pub struct StatementResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl StatementResult {
    /// Number of rows across all batches.
    pub fn row_count(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Whether the statement returns rows (a query) rather than only acting (DDL).
    pub fn has_columns(&self) -> bool {
        !self.schema.fields().is_empty()
    }
}

/// One statement's rows as they are produced, batch by batch.
pub struct StatementStream {
    pub schema: SchemaRef,
    pub batches: SendableRecordBatchStream,
}

impl StatementStream {
    /// Whether the statement returns rows (a query) rather than only acting (DDL).
    pub fn has_columns(&self) -> bool {
        !self.schema.fields().is_empty()
    }

    /// Runs the statement to its end, passing each batch to `writer`, then finishes it.
    pub async fn write_to(mut self, mut writer: ResultWriter<'_>) -> Result<()> {
        while let Some(batch) = self.batches.next().await {
            writer.write(&batch?)?;
        }
        writer.finish()
    }

    /// Runs a statement that returns no rows (DDL) to its end.
    pub async fn run_to_end(mut self) -> Result<()> {
        while let Some(batch) = self.batches.next().await {
            batch?;
        }
        Ok(())
    }

    /// Runs the statement to its end and keeps every row.
    pub async fn collect(mut self) -> Result<StatementResult> {
        let mut batches = Vec::new();
        while let Some(batch) = self.batches.next().await {
            batches.push(batch?);
        }
        Ok(StatementResult {
            schema: self.schema,
            batches,
        })
    }
}

/// What a way in does with each statement's result: `-c`/`-f` and the shell print the rows,
/// the report and [`run`] keep them. The one thing they do differently around
/// [`exec_and_print`], as datafusion-cli's `PrintOptions` is around its `exec_and_print`.
pub trait Printer: Send {
    /// The caller's error: npcql's, or one that npcql's becomes (the command line's `anyhow`).
    type Error: From<crate::Error> + Send;

    /// Shows or keeps the rows of a statement that returns rows, as they arrive.
    fn print(&mut self, result: StatementStream) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// A statement that returns no rows (DDL) has run to its end.
    fn ran_without_rows(&mut self) {}

    /// After each statement, whether it ran or failed: its warnings are in
    /// `engine.take_warnings()`. An error here (`--strict`) stops the loop, before the
    /// statement's own error. The default leaves them in the engine for the caller.
    fn warnings(&mut self, _engine: &Engine) -> Result<(), Self::Error> {
        Ok(())
    }

    /// How long the statement that just ran took (the shell's `.timer`).
    fn finished(&mut self, _elapsed: Duration) {}
}

/// The one statement loop, for `-c`, `-f`, the shell, the report and [`run`] (datafusion-cli's
/// `exec_and_print`): parse `sql` (bound already: see [`bind`]) → plan → execute → print, one
/// statement after the other, stopping at the first that fails.
pub async fn exec_and_print<P: Printer>(engine: &Engine, sql: &str, printer: &mut P) -> Result<(), P::Error> {
    for statement in parse_statements(sql)? {
        let started = Instant::now();
        let analyze = matches!(&statement, Statement::Explain(e) if e.options.analyze);
        let outcome: Result<(), P::Error> = async {
            if analyze {
                // Counted from here: the analysed statement's own hits and misses.
                engine.take_cache_counts();
            }
            let mut result = execute_stream(engine.ctx(), statement).await?;
            if analyze {
                result = with_cache_row(engine, result).await?;
            }
            if result.has_columns() {
                printer.print(result).await
            } else {
                result.run_to_end().await?;
                printer.ran_without_rows();
                Ok(())
            }
        }
        .await;
        printer.warnings(engine)?;
        outcome?;
        printer.finished(started.elapsed());
    }
    Ok(())
}

/// `EXPLAIN ANALYZE`'s rows and one more, `Cache`, with the persistent cache's hits and misses
/// while the statement ran (the functions that read through it are not plan nodes, so
/// DataFusion's metrics cannot show them). Unchanged without a cache.
async fn with_cache_row(engine: &Engine, result: StatementStream) -> Result<StatementStream> {
    use datafusion::arrow::array::StringArray;
    let schema = result.schema.clone();
    let mut batches = result.collect().await?.batches;
    if let Some((hits, misses)) = engine.take_cache_counts()
        && schema.fields().len() == 2
    {
        let column = |text: &str| std::sync::Arc::new(StringArray::from(vec![text])) as _;
        let row = format!("npcql cache: {hits} hits, {misses} misses");
        batches.push(RecordBatch::try_new(
            schema.clone(),
            vec![column("Cache"), column(&row)],
        )?);
    }
    let stream = datafusion::physical_plan::memory::MemoryStream::try_new(batches, schema.clone(), None)?;
    Ok(StatementStream {
        schema,
        batches: Box::pin(stream),
    })
}

/// Keeps each statement's result, for [`run`].
#[derive(Default)]
struct Collect {
    results: Vec<StatementResult>,
}

impl Printer for Collect {
    type Error = crate::Error;

    async fn print(&mut self, result: StatementStream) -> Result<()> {
        self.results.push(result.collect().await?);
        Ok(())
    }

    fn ran_without_rows(&mut self) {
        self.results.push(StatementResult {
            schema: SchemaRef::new(datafusion::arrow::datatypes::Schema::empty()),
            batches: Vec::new(),
        });
    }
}

/// Byte offsets in a text of sqlparser tokenizer locations (1-based line and character
/// column). Locations asked in order are found in one pass, so highlighting or splitting a long
/// text stays linear.
pub struct Offsets<'a> {
    text: &'a str,
    byte: usize,
    line: u64,
    column: u64,
}

impl<'a> Offsets<'a> {
    pub fn new(text: &'a str) -> Self {
        Offsets {
            text,
            byte: 0,
            line: 1,
            column: 1,
        }
    }

    /// The byte offset of `location` (the end of the text for one past it).
    pub fn of(&mut self, location: Location) -> usize {
        if (location.line, location.column) < (self.line, self.column) {
            *self = Offsets::new(self.text);
        }
        while (self.line, self.column) < (location.line, location.column) {
            let Some(c) = self.text[self.byte..].chars().next() else {
                break;
            };
            self.byte += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.byte
    }
}

/// Splits `sql` into statements; a syntax error says where it is.
pub fn parse_statements(sql: &str) -> Result<Vec<Statement>> {
    let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})?;
    Ok(statements.into_iter().map(struct_fields_by_dot).collect())
}

/// Lets `f(x).field` read a STRUCT field as `f(x)['field']` does: DataFusion 55's planner
/// accepts a dot only before a quoted name, so the field name is quoted here.
fn struct_fields_by_dot(mut statement: Statement) -> Statement {
    use datafusion::sql::sqlparser::ast::{AccessExpr, Expr, Value, visit_expressions_mut};
    if let Statement::Statement(inner) = &mut statement {
        let _ = visit_expressions_mut(inner.as_mut(), |expr| {
            if let Expr::CompoundFieldAccess { access_chain, .. } = expr {
                for access in access_chain {
                    if let AccessExpr::Dot(Expr::Identifier(field)) = access {
                        let name = Value::SingleQuotedString(field.value.clone()).with_empty_span();
                        *access = AccessExpr::Dot(Expr::Value(name));
                    }
                }
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
    statement
}

/// Plans one parsed statement and starts it; rows arrive as the stream is read.
pub async fn execute_stream(ctx: &SessionContext, statement: Statement) -> Result<StatementStream> {
    let (schema, frame) = plan(ctx, statement).await?;
    let batches = frame.execute_stream().await?;
    Ok(StatementStream { schema, batches })
}

/// The statement's result schema and its planned DataFrame.
async fn plan(ctx: &SessionContext, statement: Statement) -> Result<(SchemaRef, DataFrame)> {
    let state = ctx.state();
    let plan = state.statement_to_plan(statement).await?;
    refuse_external_files(&state, &plan)?;
    let frame = ctx.execute_logical_plan(plan).await?;
    Ok((SchemaRef::new(frame.schema().as_arrow().clone()), frame))
}

/// When the engine keeps queries to the dataset, refuses the statements that read or write files
/// by name: `CREATE EXTERNAL TABLE` and `COPY … TO` (quoted paths are checked where they are resolved),
/// and `SET datafusion.runtime.*`, which would let a query raise the service's memory limit or
/// spill into a folder of its choosing.
fn refuse_external_files(
    state: &datafusion::execution::context::SessionState,
    plan: &datafusion::logical_expr::LogicalPlan,
) -> Result<()> {
    use datafusion::logical_expr::{DdlStatement, LogicalPlan};
    let policy = state.config().options().extensions.get::<crate::catalog::FilePolicy>();
    if !policy.is_some_and(|p| p.no_external_files) {
        return Ok(());
    }
    let what = match plan {
        LogicalPlan::Ddl(DdlStatement::CreateExternalTable(t)) => {
            format!("CREATE EXTERNAL TABLE … LOCATION '{}'", t.locations.join("', '"))
        }
        LogicalPlan::Copy(copy) => format!("COPY … TO '{}'", copy.output_url),
        LogicalPlan::Statement(datafusion::logical_expr::Statement::SetVariable(set))
            if set.variable.to_ascii_lowercase().starts_with("datafusion.runtime.") =>
        {
            return Err(crate::Error::Access(format!(
                "SET {}: runtime settings (the memory limit, the spill folder) belong to the program \
                 that runs npcql, when it keeps queries to the dataset",
                set.variable
            )));
        }
        _ => return Ok(()),
    };
    Err(crate::Error::Access(format!(
        "{what}: {}",
        crate::catalog::NO_EXTERNAL_FILES
    )))
}

/// Runs every statement of `sql` and returns each one's rows (no rows and no columns for a
/// statement that only acts); warnings stay in the engine.
pub async fn run(engine: &Engine, sql: &str) -> Result<Vec<StatementResult>> {
    let mut collect = Collect::default();
    exec_and_print(engine, sql, &mut collect).await?;
    Ok(collect.results)
}
