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

/// Where in `sql` the name an error complains about first appears, as "line L, column C"
/// (1-based), when the message quotes one: DataFusion's planner errors carry no position.
pub fn locate_error(sql: &str, message: &str) -> Option<String> {
    // "No field named x." names the culprit; other errors quote it ('datafusion.public.t').
    let named = message
        .split("named ")
        .nth(1)
        .and_then(|rest| rest.split(['.', ' ']).next());
    let quoted = message
        .split(['\'', '"', '`'])
        .skip(1)
        .step_by(2)
        .map(|q| q.rsplit('.').next().unwrap_or(q));
    named
        .into_iter()
        .chain(quoted)
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .find_map(|name| position_of_word(sql, name))
}

/// "line L, column C" of the first whole-word, case-insensitive occurrence of `word` in `sql`.
fn position_of_word(sql: &str, word: &str) -> Option<String> {
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    let target = word.to_lowercase();
    for (line_index, line) in sql.lines().enumerate() {
        let lower = line.to_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find(&target) {
            let (start, end) = (from + found, from + found + target.len());
            let whole_word = !lower[..start].chars().next_back().is_some_and(word_char)
                && !lower[end..].chars().next().is_some_and(word_char);
            if whole_word {
                // Lower-casing can change byte lengths; count characters of the original line.
                let column = lower[..start].chars().count() + 1;
                return Some(format!("line {}, column {column}", line_index + 1));
            }
            from = end;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_the_name_they_quote() {
        let sql = "SELECT *\nFROM nowhere";
        let message = "Error during planning: table 'datafusion.public.nowhere' not found";
        assert_eq!(locate_error(sql, message).as_deref(), Some("line 2, column 6"));
        let message = "Schema error: No field named ebv_statsu. Did you mean 'patients.ebv_status'? Valid fields are patients.ebv_status.";
        assert_eq!(
            locate_error("SELECT ebv_statsu FROM patients", message).as_deref(),
            Some("line 1, column 8")
        );
        assert_eq!(locate_error("SELECT 1", "Arrow error: divide by zero"), None);
    }
}
