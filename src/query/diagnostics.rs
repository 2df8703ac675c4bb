//! An error as the user reads it: one line, and where in the SQL it is.

use datafusion::error::DataFusionError;

use crate::error::Error;
pub use crate::error::clean_error;

/// The error as one line, with "(at line L, column C)" when its place in `sql` is known:
/// from DataFusion's diagnostic span, else from where the name it quotes first appears.
pub fn describe(error: &Error, sql: &str) -> String {
    let message = clean_error(&error.to_string());
    let position = error
        .as_datafusion()
        .and_then(diagnostic_position)
        .or_else(|| locate_error(sql, &message));
    match position {
        Some(position) => format!("{message} (at {position})"),
        None => message,
    }
}

/// "line L, column C" of the span DataFusion's planner attached to the error, if any.
fn diagnostic_position(error: &DataFusionError) -> Option<String> {
    let span = error.diagnostic()?.span?;
    (span.start.line > 0).then(|| format!("line {}, column {}", span.start.line, span.start.column))
}

/// Where in `sql` the name an error complains about first appears, as "line L, column C"
/// (1-based), when the message quotes one: DataFusion's planner errors carry no position.
fn locate_error(sql: &str, message: &str) -> Option<String> {
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
