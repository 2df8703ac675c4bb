//! Running SQL text: statements split by the SQL parser (`;`, `--` and `/* */` comments,
//! semicolons inside strings), each planned and executed in turn.

use anyhow::{Result, anyhow};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::Engine;

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

/// Splits `sql` into statements; a syntax error names where it is.
pub fn parse_statements(sql: &str) -> Result<Vec<Statement>> {
    let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})
        .map_err(|e| anyhow!("{}", clean_error(&e.to_string())))?;
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

/// Plans and runs one parsed statement.
pub async fn execute(ctx: &SessionContext, statement: Statement) -> Result<StatementResult> {
    let one_line = |e: datafusion::error::DataFusionError| anyhow!("{}", clean_error(&e.to_string()));
    let plan = ctx.state().statement_to_plan(statement).await.map_err(one_line)?;
    let frame = ctx.execute_logical_plan(plan).await.map_err(one_line)?;
    let schema = SchemaRef::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await.map_err(one_line)?;
    Ok(StatementResult { schema, batches })
}

/// Runs every statement of `sql` and returns each one's rows.
pub async fn run(engine: &Engine, sql: &str) -> Result<Vec<StatementResult>> {
    let mut results = Vec::new();
    for statement in parse_statements(sql)? {
        results.push(execute(engine.ctx(), statement).await?);
    }
    Ok(results)
}

/// DataFusion errors carry nested context ("Error during planning: ..."); keep them on one
/// line, and point at the bracket form where DataFusion 55 rejects `f(x).field`.
pub fn clean_error(message: &str) -> String {
    let mut one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
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
