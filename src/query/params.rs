//! `$NAME` placeholders bound from `--param NAME=VALUE`.
//!
//! A value that reads as a plain number (no leading zero) becomes a numeric literal, anything
//! else a quoted string literal: `--param t=60` gives `60`, `--param id=001` gives `'001'`.
//! Placeholders are found with the SQL tokenizer, so `'$x'` inside a string is left alone.
//! A file may give a placeholder a default with a comment line `-- default $NAME = VALUE`
//! (VALUE read as `--param` reads it), used when no value is given.

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::error::{Error, Result};

/// Parameter values by name (without the `$`).
pub type Params = BTreeMap<String, String>;

/// Parses `NAME=VALUE` as given to `--param`.
pub fn parse_param(arg: &str) -> Result<(String, String)> {
    let (name, value) = arg.split_once('=').ok_or_else(|| Error::Param {
        name: None,
        message: format!("{arg}: expected NAME=VALUE"),
    })?;
    let name = name.trim().trim_start_matches('$');
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(Error::Param {
            name: None,
            message: format!("{arg}: a parameter's name is letters, digits or _"),
        });
    }
    Ok((name.to_string(), value.to_string()))
}

/// Replaces every `$NAME` placeholder in `sql` by its value as a SQL literal (see the module
/// documentation for how a value's text becomes one).
pub fn bind(sql: &str, params: &Params) -> Result<String> {
    let literals: Params = params.iter().map(|(k, v)| (k.clone(), literal(v))).collect();
    substitute(sql, &literals, |_| String::new())
}

/// Replaces every `$NAME` placeholder in `sql` by the SQL literal `literals[NAME]`, as written:
/// for callers whose values are typed (Python's `params={...}`) and so already literals.
pub fn bind_literals(sql: &str, literals: &Params) -> Result<String> {
    substitute(sql, literals, |name| format!("give params a value for '{name}'"))
}

/// Replaces each placeholder by its literal; a missing one is an [`Error::Param`] ending in
/// `hint(name)` (if any): a front end says how its users give a value.
fn substitute(sql: &str, literals: &Params, hint: impl Fn(&str) -> String) -> Result<String> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| Error::Sql(datafusion::sql::sqlparser::parser::ParserError::from(e).into()))?;
    let defaults: Params = tokens
        .iter()
        .filter_map(|token| match &token.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                let (name, value) = comment.trim().strip_prefix("default $")?.split_once('=')?;
                Some((name.trim().to_string(), literal(value.trim())))
            }
            _ => None,
        })
        .collect();
    let mut offsets = super::Offsets::new(sql);
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for token in tokens {
        let Token::Placeholder(placeholder) = &token.token else {
            continue;
        };
        let Some(name) = placeholder.strip_prefix('$') else {
            continue;
        };
        let value = literals.get(name).or_else(|| defaults.get(name)).ok_or_else(|| {
            let hint = hint(name);
            let hint = if hint.is_empty() { hint } else { format!(": {hint}") };
            Error::Param {
                name: Some(name.to_string()),
                message: format!("no value for ${name}{hint}"),
            }
        })?;
        let start = offsets.of(token.span.start);
        out.push_str(&sql[copied..start]);
        out.push_str(value);
        copied = start + placeholder.len();
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

/// The SQL literal for a parameter value given as text: a plain number as it is, anything else
/// quoted.
fn literal(value: &str) -> String {
    if is_plain_number(value) {
        value.to_string()
    } else {
        string_literal(value)
    }
}

/// `value` as a quoted SQL string literal.
pub fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `60`, `-1.5`, `0.25`, `1e3`; not `001` (an id), `+5`, `inf` or `NaN`.
fn is_plain_number(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let leading_zero = digits.starts_with('0') && digits.len() > 1 && !digits.starts_with("0.");
    !leading_zero && digits.starts_with(|c: char| c.is_ascii_digit()) && value.parse::<f64>().is_ok_and(f64::is_finite)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_file_s_default_is_used_unless_a_value_is_given() {
        let sql = "-- default $gap = 10\n-- default $who = 001\nSELECT $gap, $who";
        assert_eq!(
            bind(sql, &params(&[])).unwrap(),
            "-- default $gap = 10\n-- default $who = 001\nSELECT 10, '001'"
        );
        assert!(
            bind(sql, &params(&[("gap", "2.5")]))
                .unwrap()
                .ends_with("SELECT 2.5, '001'")
        );
        assert!(bind("SELECT $gap", &params(&[])).is_err());
    }

    #[test]
    fn binds_numbers_and_strings() {
        let p = params(&[("t", "60"), ("id", "001"), ("name", "O'Neil")]);
        assert_eq!(
            bind("SELECT $t, $id, $name, '$t'", &p).unwrap(),
            "SELECT 60, '001', 'O''Neil', '$t'"
        );
    }

    #[test]
    fn binds_on_later_lines_and_after_unicode() {
        let p = params(&[("x", "1.5")]);
        assert_eq!(bind("SELECT 'é'\n  , $x", &p).unwrap(), "SELECT 'é'\n  , 1.5");
    }

    #[test]
    fn missing_value_names_the_parameter_and_no_flag() {
        // The binary adds "pass --param missing=VALUE" when it prints: the library has no flags.
        match bind("SELECT $missing", &Params::new()).unwrap_err() {
            Error::Param { name, message } => {
                assert_eq!(
                    (name.as_deref(), message.as_str()),
                    (Some("missing"), "no value for $missing")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_name_value() {
        assert_eq!(parse_param("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_param("novalue").is_err());
    }
}
