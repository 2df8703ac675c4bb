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

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::{ALL_KEYWORDS, Keyword};
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use npcql::query::Offsets;

use super::commands::{COMMANDS, CommandSpec};

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
            ALL_KEYWORDS
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
/// (sqlparser's tokenizer decides what is a string, a quoted name or a comment).
pub fn is_complete(text: &str) -> bool {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with(['.', '\\']) {
        return true;
    }
    match Tokenizer::new(&GenericDialect {}, trimmed).tokenize() {
        Ok(tokens) => tokens.iter().rfind(|t| !matches!(t, Token::Whitespace(_))) == Some(&Token::SemiColon),
        // A string, quoted name or comment still open at the end: more lines follow.
        Err(e) if e.message.contains("Unterminated") || e.message.contains("EOF") => false,
        // Text the tokenizer refuses: run it at ';' so the parser names the fault.
        Err(_) => trimmed.ends_with(';'),
    }
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
    let tokens = match Tokenizer::new(&GenericDialect {}, line).tokenize_with_location() {
        Ok(tokens) => tokens,
        // Unfinished input (an open string, say): colour what comes before the fault, and an
        // open string as a string.
        Err(e) => {
            let at = Offsets::new(line).of(e.location);
            if at == 0 || at >= line.len() {
                return line.to_string();
            }
            let (done, open) = line.split_at(at);
            let style = open.starts_with('\'').then_some(STRING_STYLE);
            return highlight_sql(done) + &styled(open, style);
        }
    };
    let mut offsets = Offsets::new(line);
    let mut out = String::with_capacity(line.len() * 2);
    let mut written = 0;
    for token in tokens {
        let start = offsets.of(token.span.start).max(written);
        let end = offsets.of(token.span.end).max(start);
        out.push_str(&line[written..start]);
        out.push_str(&styled(&line[start..end], style_of(&token.token)));
        written = end;
    }
    out.push_str(&line[written..]);
    out
}

fn style_of(token: &Token) -> Option<&'static str> {
    match token {
        Token::Word(w) if w.quote_style.is_none() && w.keyword != Keyword::NoKeyword => Some(KEYWORD_STYLE),
        Token::Number(..) => Some(NUMBER_STYLE),
        Token::SingleQuotedString(_) | Token::EscapedStringLiteral(_) | Token::DollarQuotedString(_) => {
            Some(STRING_STYLE)
        }
        Token::Whitespace(Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)) => {
            Some(COMMENT_STYLE)
        }
        _ => None,
    }
}

fn styled(text: &str, style: Option<&str>) -> String {
    match style {
        Some(style) if !text.is_empty() => format!("{style}{text}{RESET}"),
        _ => text.to_string(),
    }
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
        assert!(!is_complete("SELECT \"a;"));
        assert!(is_complete("SELECT 1 /* multi\nline */;"));
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
        // Unfinished and multi-line input keeps its text too, and an open string is a string.
        for line in ["SELECT 'unfinished", "SELECT 'é', 1\n  FROM /* c */ t", "SELECT \"open"] {
            let plain = [KEYWORD_STYLE, STRING_STYLE, NUMBER_STYLE, COMMENT_STYLE, RESET]
                .iter()
                .fold(highlight_sql(line), |text, style| text.replace(style, ""));
            assert_eq!(plain, line);
        }
        assert!(highlight_sql("SELECT 'unfinished").ends_with(&format!("{STRING_STYLE}'unfinished{RESET}")));
    }
}
