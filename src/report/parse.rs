//! A report file: an ordinary `.sql` file whose comment lines give it shape.
//!
//! Between statements, `-- # Title`, `-- ## Section` and `-- ### Subsection` are headings,
//! `-- show: VIEW` says how to show the next statement's result, `-- default $NAME = VALUE`
//! gives a parameter's default (query::params), a bare `--` ends a paragraph and any other
//! comment line is prose. Comments inside a statement stay SQL. sqlparser's
//! tokenizer finds the statements, so a `;` or `--` inside a string is not mistaken for one.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use super::ReportFault;
use super::rows::ColumnName;
use crate::query::Offsets;

/// How a statement's result is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Table,
    /// Kaplan–Meier curves of `time`, `event` and optionally `group`; the time axis in `unit`.
    Km {
        unit: String,
    },
    /// Hazard ratios: `label`, `hr`, `hr_lower`, `hr_upper`, `p` (optionally `n`, `events`).
    Forest,
    /// Patient characteristics per value of `by` and overall.
    Table1 {
        by: ColumnName,
    },
    /// Box plots of each numeric column per value of `by`.
    Box {
        by: ColumnName,
    },
    /// A histogram of each numeric column.
    Histogram,
    /// A grid of tumour pictures, one per row: `series_dir`, `path` (optional `caption`,
    /// `compare_path`, `slice`, the scanner point `x_lps_mm`, `y_lps_mm`, `z_lps_mm`, and
    /// `group`, which puts the rows of one value on one line under it).
    Slices,
    /// Every slice the tumour touches, for each row's `series_dir` and `path`.
    Montage,
}

impl View {
    /// The view's name, as `show:` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            View::Table => "table",
            View::Km { .. } => "km",
            View::Forest => "forest",
            View::Table1 { .. } => "table1",
            View::Box { .. } => "box",
            View::Histogram => "histogram",
            View::Slices => "slices",
            View::Montage => "montage",
        }
    }

    /// Parses the words after `show:`.
    fn parse(words: &str, line: usize) -> Result<View, ReportFault> {
        let tokens: Vec<&str> = words.split_whitespace().collect();
        let by = |kind: &str| {
            let rest = words.trim_start().get(kind.len()..).unwrap_or_default();
            by_column(rest).ok_or_else(|| ReportFault::Directive {
                line,
                message: format!("'show: {kind}' needs a column: 'show: {kind} BY column'"),
            })
        };
        let kind = tokens.first().map(|k| k.to_ascii_lowercase()).unwrap_or_default();
        let view = match kind.as_str() {
            "table" => View::Table,
            "km" => View::Km {
                unit: tokens.get(1).map_or("months", |u| u).to_string(),
            },
            "forest" => View::Forest,
            "table1" => View::Table1 { by: by("table1")? },
            "box" => View::Box { by: by("box")? },
            "histogram" => View::Histogram,
            "slices" => View::Slices,
            "montage" => View::Montage,
            other => {
                return Err(ReportFault::Directive {
                    line,
                    message: format!(
                        "unknown view 'show: {other}' (table, km [UNIT], forest, table1 BY column, box BY column, histogram, slices, montage)"
                    ),
                });
            }
        };
        Ok(view)
    }
}

/// `BY column` after a view's name: the column is an SQL identifier, quoted (`BY "horTh"`,
/// its case kept) or not (`BY ebv_status`), read by sqlparser as a statement's would be.
fn by_column(text: &str) -> Option<ColumnName> {
    let mut parser = Parser::new(&GenericDialect {}).try_with_sql(text).ok()?;
    if !parser.parse_keyword(Keyword::BY) {
        return None;
    }
    let ident = parser.parse_identifier().ok()?;
    (parser.peek_token().token == Token::EOF).then(|| ColumnName::from(ident))
}

/// A piece of the report, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading { level: usize, text: String },
    Prose(String),
    Statement { sql: String, view: View, line: usize },
}

/// The blocks of a report file's text.
pub fn parse_report(text: &str) -> Result<Vec<Block>, ReportFault> {
    let tokens = Tokenizer::new(&GenericDialect {}, text)
        .tokenize_with_location()
        .map_err(|e| ReportFault::Directive {
            line: e.location.line as usize,
            message: e.message,
        })?;
    let mut offsets = Offsets::new(text);
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut view: Option<View> = None;
    // Where the statement being read starts (byte offset and line).
    let mut start: Option<(usize, usize)> = None;
    for token in &tokens {
        match &token.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) if start.is_none() => {
                let line = token.span.start.line as usize;
                match comment.trim() {
                    "" => flush(&mut prose, &mut blocks),
                    c if c.starts_with('#') => {
                        flush(&mut prose, &mut blocks);
                        let level = c.chars().take_while(|ch| *ch == '#').count().min(3);
                        let text = c.trim_start_matches('#').trim().to_string();
                        blocks.push(Block::Heading { level, text });
                    }
                    c if c.to_ascii_lowercase().starts_with("show:") => view = Some(View::parse(&c[5..], line)?),
                    // A parameter's default (query::params), not prose.
                    c if c.starts_with("default $") => {}
                    c => {
                        if !prose.is_empty() {
                            prose.push(' ');
                        }
                        prose.push_str(c);
                    }
                }
            }
            Token::Whitespace(_) => {}
            Token::SemiColon => {
                if let Some((from, line)) = start.take() {
                    let to = offsets.of(token.span.end);
                    let sql = text[from..to].to_string();
                    let view = view.take().unwrap_or(View::Table);
                    blocks.push(Block::Statement { sql, view, line });
                }
            }
            _ => {
                if start.is_none() {
                    flush(&mut prose, &mut blocks);
                    start = Some((offsets.of(token.span.start), token.span.start.line as usize));
                }
            }
        }
    }
    if let Some((from, line)) = start {
        let sql = text[from..].trim_end().to_string();
        blocks.push(Block::Statement {
            sql,
            view: view.take().unwrap_or(View::Table),
            line,
        });
    }
    flush(&mut prose, &mut blocks);
    Ok(blocks)
}

fn flush(prose: &mut String, blocks: &mut Vec<Block>) {
    if !prose.is_empty() {
        blocks.push(Block::Prose(std::mem::take(prose)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_give_the_report_its_shape() {
        let text = "-- # PFS report\n-- The question.\n-- More of it.\n--\n-- ## By EBV\n-- show: km\n\
                    SELECT 1 AS time, -- an inline comment stays SQL\n 0 AS event;\n\
                    -- show: table1 BY ebv_status\nSELECT ';' AS x, ebv_status FROM patients;\nSELECT 2";
        let blocks = parse_report(text).unwrap();
        assert_eq!(
            blocks,
            [
                Block::Heading {
                    level: 1,
                    text: "PFS report".into()
                },
                Block::Prose("The question. More of it.".into()),
                Block::Heading {
                    level: 2,
                    text: "By EBV".into()
                },
                Block::Statement {
                    sql: "SELECT 1 AS time, -- an inline comment stays SQL\n 0 AS event;".into(),
                    view: View::Km { unit: "months".into() },
                    line: 7
                },
                Block::Statement {
                    sql: "SELECT ';' AS x, ebv_status FROM patients;".into(),
                    view: View::Table1 {
                        by: ColumnName::unquoted("ebv_status")
                    },
                    line: 10
                },
                Block::Statement {
                    sql: "SELECT 2".into(),
                    view: View::Table,
                    line: 11
                },
            ]
        );
    }

    #[test]
    fn a_bad_directive_names_its_line() {
        let fault = parse_report("SELECT 1;\n-- show: pie\nSELECT 2;").unwrap_err();
        assert!(
            fault.to_string().contains("line 2") && fault.to_string().contains("pie"),
            "{fault}"
        );
        let fault = parse_report("-- show: box\nSELECT 2;").unwrap_err();
        assert!(fault.to_string().contains("BY column"), "{fault}");
        for bad in ["box BY", "box BY a b", "box BY \"open", "box a"] {
            let fault = parse_report(&format!("-- show: {bad}\nSELECT 2;")).unwrap_err();
            assert!(fault.to_string().contains("BY column"), "{bad}: {fault}");
        }
    }

    /// `BY` takes an SQL identifier: quoted keeps its case (and may hold spaces), unquoted does
    /// not care, and a keyword is a column name there.
    #[test]
    fn by_takes_an_sql_identifier_quoted_or_not() {
        let by = |text: &str| match &parse_report(&format!("-- show: {text}\nSELECT 1;")).unwrap()[0] {
            Block::Statement {
                view: View::Table1 { by } | View::Box { by },
                ..
            } => by.clone(),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(by("table1 BY \"horTh\""), ColumnName::quoted("horTh"));
        assert_eq!(by("box by \"T stage\""), ColumnName::quoted("T stage"));
        assert_eq!(by("table1 BY horTh"), ColumnName::unquoted("horTh"));
        assert_eq!(by("TABLE1   By  group"), ColumnName::unquoted("group"));
    }
}
