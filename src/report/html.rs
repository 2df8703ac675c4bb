//! The report page: one self-contained HTML file (inline CSS and SVG, no script, no network),
//! readable offline and printable.

use std::path::Path;

use datafusion::arrow::datatypes::DataType;

use super::figures::format::{compact, number, p_digits};
use super::figures::km::{KmFigure, KmGroup};
pub(crate) use super::figures::svg::escape;
use super::rows::Rows;

/// Rows a table view shows before it is cut.
const MAX_TABLE_ROWS: usize = 500;

const STYLE: &str = "
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 0; }
main { max-width: 860px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 8px 0 16px; }
h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
p { line-height: 1.45; }
figure { margin: 12px 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption, .footnote, .note { font-size: 13px; color: #555; }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #999; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.null { color: #999; }
tr.level td:first-child { padding-left: 24px; }
details { margin: 6px 0 18px; font-size: 13px; }
summary { cursor: pointer; color: #555; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
footer { max-width: 860px; margin: 24px auto; padding: 12px 24px; border-top: 1px solid #ddd; font-size: 12px; color: #555; }
.slices { margin: 12px 0; }
.slice-group { margin: 8px 0; }
.slice-group-label { font-size: 13px; font-weight: bold; margin: 4px 0; }
.slice-row { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
figure.slice { margin: 0; width: 256px; }
figure.slice img { display: block; image-rendering: pixelated; max-width: 100%; }
figure.slice .placeholder { width: 240px; min-height: 120px; padding: 8px; background: #fbeaea; color: #922; font-size: 12px; overflow-wrap: anywhere; }
@media print { details { display: none; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
";

/// The page under construction.
pub struct Page {
    title: Option<String>,
    body: String,
    source: String,
    dataset: String,
    /// The current section's heading (error messages name it).
    section: String,
    /// (file name, SVG) of every figure so far.
    pub figures: Vec<(String, String)>,
}

impl Page {
    pub fn new(source: &Path, dataset: &Path) -> Self {
        Page {
            title: None,
            body: String::new(),
            source: source.display().to_string(),
            dataset: dataset.display().to_string(),
            section: "at the top".into(),
            figures: Vec::new(),
        }
    }

    /// The heading the current section sits under.
    pub fn section(&self) -> &str {
        &self.section
    }

    pub fn heading(&mut self, level: usize, text: &str) {
        if level == 1 && self.title.is_none() {
            self.title = Some(text.to_string());
        }
        self.section = text.to_string();
        self.body.push_str(&format!("<h{level}>{}</h{level}>\n", inline(text)));
    }

    pub fn prose(&mut self, text: &str) {
        self.body.push_str(&format!("<p>{}</p>\n", inline(text)));
    }

    /// A statement's shown result, with its SQL to unfold.
    pub fn statement(&mut self, content: &str, sql: &str) {
        self.body.push_str(content);
        self.body.push_str(&format!(
            "<details><summary>SQL</summary><pre><code>{}</code></pre></details>\n",
            escape(sql.trim())
        ));
    }

    /// A figure with its caption; kept for `--figures` under a numbered name.
    pub fn figure(&mut self, kind: &str, svg: String, caption: &str) -> String {
        let slug: String = self
            .section
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let name = format!("{:02}-{kind}-{slug}.svg", self.figures.len() + 1);
        let html = format!("<figure>{svg}<figcaption>{}</figcaption></figure>\n", escape(caption));
        self.figures.push((name, svg));
        html
    }

    pub fn footer(&mut self, warnings: &[String]) {
        let date = crate::output::now_utc();
        self.body.push_str("</main>\n<footer>");
        self.body.push_str(&format!(
            "Report {} on dataset {} · npcql {} · {date}",
            escape(&self.source),
            escape(&self.dataset),
            env!("CARGO_PKG_VERSION")
        ));
        if warnings.is_empty() {
            self.body.push_str("<br>No warnings.");
        } else {
            self.body
                .push_str(&format!("<br>{} warnings:<ul class=\"warnings\">", warnings.len()));
            for w in warnings {
                self.body.push_str(&format!("<li>{}</li>", escape(w)));
            }
            self.body.push_str("</ul>");
        }
        self.body.push_str("</footer>\n");
    }

    pub fn finish(self) -> String {
        let title = self.title.unwrap_or_else(|| "npcql report".into());
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{}</title><style>{STYLE}</style></head>\n<body><main>\n{}</body></html>\n",
            escape(&title),
            self.body
        )
    }
}

/// Prose with `code` spans.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// A note in place of a result.
pub fn note(text: &str) -> String {
    format!("<p class=\"note\">{}</p>\n", escape(text))
}

/// A result as a table: numbers right-aligned with four significant digits, p-values as papers
/// print them (columns named `p`, `p_value` or ending in `_p`).
pub fn table(rows: &Rows) -> String {
    let batch = rows.batch();
    let names = rows.names();
    let mut html = String::from("<table class=\"result\"><thead><tr>");
    let columns: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let array = batch.column(i);
            let numeric = array.data_type().is_numeric();
            let is_p = {
                let n = name.to_ascii_lowercase();
                n == "p" || n == "p_value" || n.ends_with("_p")
            };
            let float = matches!(
                array.data_type(),
                DataType::Float16 | DataType::Float32 | DataType::Float64
            );
            let text = Rows::labels(array);
            let numbers = if float { Rows::numbers(name, array).ok() } else { None };
            (numeric, is_p, text, numbers)
        })
        .collect();
    for (name, (numeric, ..)) in names.iter().zip(&columns) {
        let class = if *numeric { " class=\"num\"" } else { "" };
        html.push_str(&format!("<th{class}>{}</th>", escape(name)));
    }
    html.push_str("</tr></thead><tbody>");
    for i in 0..rows.len().min(MAX_TABLE_ROWS) {
        html.push_str("<tr>");
        for (numeric, is_p, text, numbers) in &columns {
            let cell = match (numbers.as_ref().and_then(|n| n[i]), &text[i]) {
                (Some(v), _) if *is_p => p_digits(v),
                (Some(v), _) => number(v),
                (None, Some(t)) => t.clone(),
                (None, None) => {
                    html.push_str("<td class=\"null\">NULL</td>");
                    continue;
                }
            };
            let class = if *numeric { " class=\"num\"" } else { "" };
            html.push_str(&format!("<td{class}>{}</td>", escape(&cell)));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>\n");
    if rows.len() > MAX_TABLE_ROWS {
        html.push_str(&note(&format!(
            "{} rows; the first {MAX_TABLE_ROWS} are shown.",
            rows.len()
        )));
    }
    html
}

/// What the Kaplan–Meier figure shows, in words, with each group's n, events and median.
pub fn km_caption(groups: &[KmGroup], figure: &KmFigure, unit: &str) -> String {
    let medians: Vec<String> = groups
        .iter()
        .zip(&figure.medians)
        .map(|(g, m)| {
            let events = g.event.iter().filter(|e| **e).count();
            let median = m.map_or("not reached".into(), |m| format!("{} {unit}", compact(m)));
            format!("{}: n = {}, {events} events, median {median}", g.label, g.time.len())
        })
        .collect();
    format!(
        "Kaplan–Meier estimate with 95% confidence band (log-log); tick marks are censored \
         observations, dashed lines the medians. {}. Number at risk: subjects still followed at \
         each time (time ≥ t, as R's summary(survfit, times = t)).",
        medians.join("; ")
    )
}
