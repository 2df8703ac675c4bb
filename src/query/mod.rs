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

pub use params::{Params, bind, parse_param};

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

/// The byte offset in `sql` of a sqlparser tokenizer location (1-based line and character
/// column); the end of the text for a location past it.
pub fn byte_offset(sql: &str, location: Location) -> usize {
    let mut line_start = 0;
    for _ in 1..location.line {
        match sql[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return sql.len(),
        }
    }
    let column = usize::try_from(location.column.saturating_sub(1)).unwrap_or(usize::MAX);
    sql[line_start..]
        .char_indices()
        .nth(column)
        .map_or(sql.len(), |(i, _)| line_start + i)
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
    let plan = ctx.state().statement_to_plan(statement).await?;
    let frame = ctx.execute_logical_plan(plan).await?;
    Ok((SchemaRef::new(frame.schema().as_arrow().clone()), frame))
}

/// Runs every statement of `sql` and returns each one's rows.
pub async fn run(engine: &Engine, sql: &str) -> Result<Vec<StatementResult>> {
    let mut results = Vec::new();
    for statement in parse_statements(sql)? {
        results.push(execute(engine.ctx(), statement).await?);
    }
    Ok(results)
}
