//! SQL text to results: statements split by the SQL parser (`;`, `--` and `/* */` comments,
//! semicolons inside strings), `$NAME` parameters bound ([`params`]), each statement planned
//! and executed in turn, its rows collected or streamed; [`diagnostics`] turns an error into
//! one line with its position.

pub mod diagnostics;
pub mod params;

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

/// Plans and runs one parsed statement and collects its rows.
pub async fn execute(ctx: &SessionContext, statement: Statement) -> Result<StatementResult> {
    let (schema, frame) = plan(ctx, statement).await?;
    let batches = frame.collect().await?;
    Ok(StatementResult { schema, batches })
}

/// The statement's result schema and its planned DataFrame.
async fn plan(ctx: &SessionContext, statement: Statement) -> Result<(SchemaRef, DataFrame)> {
    let state = ctx.state();
    let plan = state.statement_to_plan(statement).await?;
    refuse_external_files(&state, &plan)?;
    let frame = ctx.execute_logical_plan(plan).await?;
    Ok((SchemaRef::new(frame.schema().as_arrow().clone()), frame))
}

/// Under `--no-external-files`, refuses the statements that read or write files by name:
/// `CREATE EXTERNAL TABLE` and `COPY … TO` (quoted paths are refused where they are resolved),
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
            return Err(crate::Error::Param(format!(
                "SET {}: runtime settings (the memory limit, the spill folder) belong to the program \
                 that runs npcql with --no-external-files",
                set.variable
            )));
        }
        _ => return Ok(()),
    };
    Err(crate::Error::Param(format!(
        "{what}: {}",
        crate::catalog::NO_EXTERNAL_FILES
    )))
}

/// Runs every statement of `sql` and returns each one's rows.
pub async fn run(engine: &Engine, sql: &str) -> Result<Vec<StatementResult>> {
    let mut results = Vec::new();
    for statement in parse_statements(sql)? {
        results.push(execute(engine.ctx(), statement).await?);
    }
    Ok(results)
}
