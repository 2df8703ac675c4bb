//! The line editor's helper: statement completeness (multi-line input until `;`), tab
//! completion of keywords, tables, columns, functions and quoted file paths, and syntax
//! highlighting.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper, Hinter};

use super::commands::{COMMANDS, CommandSpec};

/// SQL keywords offered by completion and coloured by the highlighter.
pub const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "OUTER",
    "CROSS",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "DISTINCT",
    "UNION",
    "ALL",
    "EXCEPT",
    "INTERSECT",
    "WITH",
    "OVER",
    "PARTITION",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "CREATE",
    "VIEW",
    "TABLE",
    "DROP",
    "INSERT",
    "INTO",
    "VALUES",
    "EXPLAIN",
    "ANALYZE",
    "DESCRIBE",
    "SHOW",
    "TABLES",
    "COLUMNS",
    "CAST",
    "TRUE",
    "FALSE",
    "EXISTS",
    "FILTER",
    "WINDOW",
    "ROWS",
    "RANGE",
    "COPY",
    "TO",
    "EXCLUDE",
    "REPLACE",
];

/// What completion can offer: refreshed after every statement (views may appear).
#[derive(Debug, Default, Clone)]
pub struct CompletionCatalog {
    /// Table name and its column names.
    pub tables: Vec<(String, Vec<String>)>,
    pub functions: Vec<String>,
}

/// rustyline helper for npcql's shell.
#[derive(Helper, Hinter)]
pub struct SqlInput {
    pub catalog: Arc<RwLock<CompletionCatalog>>,
    pub highlight: Arc<AtomicBool>,
    files: FilenameCompleter,
}

impl SqlInput {
    pub fn new(catalog: Arc<RwLock<CompletionCatalog>>, highlight: Arc<AtomicBool>) -> Self {
        Self {
            catalog,
            highlight,
            files: FilenameCompleter::new(),
        }
    }

    fn sql_candidates(&self, line: &str, word: &str) -> Vec<String> {
        let catalog = self.catalog.read().unwrap_or_else(|e| e.into_inner());
        let lower = word.to_lowercase();
        let matches = |name: &str| name.to_lowercase().starts_with(&lower);
        // Columns of the tables the statement names; all columns while none is named yet.
        let named: Vec<&(String, Vec<String>)> = catalog.tables.iter().filter(|(t, _)| mentions(line, t)).collect();
        let column_source: Vec<&(String, Vec<String>)> = if named.is_empty() {
            catalog.tables.iter().collect()
        } else {
            named
        };
        let mut out: Vec<String> = Vec::new();
        // Right after FROM or JOIN only a table makes sense.
        if previous_word(line, word).is_some_and(|w| TABLE_CONTEXT.iter().any(|k| k.eq_ignore_ascii_case(&w))) {
            out.extend(catalog.tables.iter().map(|(t, _)| t).filter(|t| matches(t)).cloned());
            return out;
        }
        out.extend(
            column_source
                .iter()
                .flat_map(|(_, cols)| cols.iter())
                .filter(|c| matches(c))
                .cloned(),
        );
        out.extend(catalog.tables.iter().map(|(t, _)| t).filter(|t| matches(t)).cloned());
        out.extend(catalog.functions.iter().filter(|f| matches(f)).cloned());
        // Keywords follow the case the user types in.
        let upper = word.chars().next().is_some_and(char::is_uppercase);
        out.extend(
            KEYWORDS
                .iter()
                .filter(|k| matches(k))
                .map(|k| if upper { k.to_string() } else { k.to_lowercase() }),
        );
        let mut seen = std::collections::HashSet::new();
        out.retain(|c| seen.insert(c.clone()));
        out
    }
}

/// Keywords after which completion offers only tables.
const TABLE_CONTEXT: &[&str] = &["FROM", "JOIN", "TABLE", "DESCRIBE", "INTO"];

/// The word before the one being completed (at the end of `line`'s prefix ending in `word`).
fn previous_word(line: &str, word: &str) -> Option<String> {
    let before = line.rfind(word).map_or(line, |i| &line[..i]);
    before
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .rfind(|w| !w.is_empty())
        .map(str::to_string)
}

/// Whether `line` names `table` as a whole word.
fn mentions(line: &str, table: &str) -> bool {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w.eq_ignore_ascii_case(table))
}

impl Completer for SqlInput {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let trimmed = before.trim_start();
        if let Some(command) = trimmed.strip_prefix(['.', '\\']) {
            if !command.contains(char::is_whitespace) {
                let start = pos - command.len();
                let pairs = COMMANDS
                    .iter()
                    .flat_map(CommandSpec::names)
                    .filter(|c| c.starts_with(command))
                    .map(|c| Pair {
                        display: c.to_string(),
                        replacement: format!("{c} "),
                    })
                    .collect();
                return Ok((start, pairs));
            }
            return self.files.complete(line, pos, ctx); // .read FILE, .open DIR, ...
        }
        if in_quote(before) {
            return self.files.complete(line, pos, ctx);
        }
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        if word.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let pairs = self
            .sql_candidates(line, word)
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

/// Whether the text ends inside a single-quoted string.
fn in_quote(text: &str) -> bool {
    text.chars().filter(|c| *c == '\'').count() % 2 == 1
}

/// Whether `text` is a complete input: a shell command, or SQL whose last token is `;`
/// outside strings and comments.
pub fn is_complete(text: &str) -> bool {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with(['.', '\\']) {
        return true;
    }
    let mut last_significant = ' ';
    let mut chars = trimmed.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            last_significant = c;
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                last_significant = c;
            }
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            c if c.is_whitespace() => {}
            c => last_significant = c,
        }
    }
    quote.is_none() && last_significant == ';'
}

impl Validator for SqlInput {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

const KEYWORD_STYLE: &str = "\x1b[1;34m";
const STRING_STYLE: &str = "\x1b[32m";
const NUMBER_STYLE: &str = "\x1b[33m";
const COMMENT_STYLE: &str = "\x1b[90m";
const RESET: &str = "\x1b[0m";

impl Highlighter for SqlInput {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.highlight.load(Ordering::Relaxed) || line.trim_start().starts_with(['.', '\\']) {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight_sql(line))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.highlight.load(Ordering::Relaxed)
    }
}

/// Colours keywords, strings, numbers and comments with ANSI escapes (display width unchanged).
pub fn highlight_sql(line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    let end_of = |j: usize| chars.get(j).map_or(line.len(), |(b, _)| *b);
    while i < chars.len() {
        let (start, c) = chars[i];
        let mut j = i + 1;
        let style = if c == '\'' {
            while j < chars.len() && chars[j].1 != '\'' {
                j += 1;
            }
            j = (j + 1).min(chars.len());
            Some(STRING_STYLE)
        } else if c == '-' && chars.get(j).is_some_and(|(_, n)| *n == '-') {
            j = chars.len();
            Some(COMMENT_STYLE)
        } else if c.is_ascii_digit() && (i == 0 || !is_word_char(chars[i - 1].1)) {
            while j < chars.len() && (chars[j].1.is_ascii_digit() || chars[j].1 == '.') {
                j += 1;
            }
            Some(NUMBER_STYLE)
        } else if is_word_char(c) {
            while j < chars.len() && is_word_char(chars[j].1) {
                j += 1;
            }
            let word = &line[start..end_of(j)];
            KEYWORDS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(word))
                .then_some(KEYWORD_STYLE)
        } else {
            None
        };
        let text = &line[start..end_of(j)];
        match style {
            Some(style) => {
                out.push_str(style);
                out.push_str(text);
                out.push_str(RESET);
            }
            None => out.push_str(text),
        }
        i = j;
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_a_semicolon_outside_strings_and_comments() {
        assert!(is_complete("SELECT 1;"));
        assert!(is_complete("SELECT 1; -- done"));
        assert!(is_complete(".tables"));
        assert!(!is_complete("SELECT 1"));
        assert!(!is_complete("SELECT ';'"));
        assert!(!is_complete("SELECT 1 -- ;"));
        assert!(!is_complete("SELECT 1 /* ; */"));
        assert!(is_complete("SELECT 'a;b'\nFROM t;"));
    }

    #[test]
    fn highlighting_keeps_the_text() {
        let line = "SELECT 'x', 42 FROM patients -- hi";
        let plain = highlight_sql(line)
            .replace(KEYWORD_STYLE, "")
            .replace(STRING_STYLE, "")
            .replace(NUMBER_STYLE, "");
        assert_eq!(plain.replace(COMMENT_STYLE, "").replace(RESET, ""), line);
        assert!(highlight_sql("select").contains(KEYWORD_STYLE));
    }
}
