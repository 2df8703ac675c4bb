//! Survival-analysis reports: a `.sql` file whose comments give it headings, prose and views
//! (`-- show: km`, …) becomes one self-contained HTML page with inline SVG figures.
//!
//! [`parse`] splits the file into blocks, each statement runs through [`crate::query`], and
//! [`figures`] draws the Kaplan–Meier, forest, box and histogram figures (a public module, so
//! other front ends draw the same figures); [`table1`] builds the cohort table; [`html`] lays
//! out the page.

pub mod figures;
mod html;
mod parse;
mod pictures;
mod rows;
pub mod table1;

use std::path::Path;

use crate::Engine;
pub use crate::error::ReportFault;
use crate::error::{Error, Result};
use crate::query::{self, Params};
use figures::{ForestRow, KmGroup};
pub use parse::{Block, View, parse_report};
pub use rows::{ColumnName, Rows};

/// A rendered report: the page, and each figure on its own for `--figures`.
#[derive(Debug, Clone)]
pub struct Report {
    pub html: String,
    /// (file name, SVG document) of each figure, in page order.
    pub figures: Vec<(String, String)>,
    /// Every warning the run produced (also in the page's footer).
    pub warnings: Vec<String>,
}

/// Runs the report file at `path` on `engine` and renders it; `$NAME` placeholders are bound
/// from `params`. The statements run in the engine's session, so a view the report creates
/// stays: a report meant to render more than once per session says `CREATE OR REPLACE VIEW`.
pub async fn render(engine: &Engine, path: &Path, params: &Params) -> Result<Report> {
    render_bound(engine, path, |text| query::bind(text, params)).await
}

/// As [`render`], with each `$NAME` replaced by the SQL literal `literals[NAME]` (for callers
/// whose values are typed, as Python's are).
pub async fn render_with_literals(engine: &Engine, path: &Path, literals: &Params) -> Result<Report> {
    render_bound(engine, path, |text| query::bind_literals(text, literals)).await
}

async fn render_bound(engine: &Engine, path: &Path, bind: impl Fn(&str) -> Result<String>) -> Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "cannot read the report", e))?;
    render_text(engine, path, &bind(&text)?).await
}

/// What is known of one patient, as (heading, SQL) pairs: the clinical row, the series and
/// the tumour's morphology per sequence. The shell's `.patient` prints them; [`patient_page`]
/// shows them. `id` as the dataset writes it (`007`).
pub fn patient_queries(id: &str) -> [(&'static str, String); 3] {
    [
        ("Clinical data", format!("SELECT * FROM patients WHERE patient_id = '{id}'")),
        (
            "Series",
            format!(
                "SELECT modality, manufacturer, model, field_strength_t, rows, columns, slice_count,
       pixel_spacing_row, spacing_between_slices, error
FROM scans WHERE patient_id = '{id}' ORDER BY modality"
            ),
        ),
        (
            "Tumour morphology",
            format!(
                "SELECT modality, round(volume_mm3 / 1000, 2) AS volume_cm3, round(surface_area_mm2, 1) AS surface_area_mm2,
       round(max_diameter_mm, 1) AS max_diameter_mm, round(regularity, 3) AS regularity,
       component_count, slice_gaps
FROM morphology WHERE patient_id = '{id}' ORDER BY modality"
            ),
        ),
    ]
}

/// One patient's page: [`patient_queries`] and the tumour on each sequence (the slice of its
/// largest area), as the shell's `.patient` writes it and Python's `Connection.patient` shows
/// it. `patient_id` as the dataset writes it (`007`; `7` is read as `007`).
pub async fn patient_page(engine: &Engine, patient_id: &str) -> Result<Report> {
    let id = crate::dataset::normalise_patient_id(patient_id).ok_or_else(|| Error::Param {
        name: None,
        message: format!("'{patient_id}' is not a patient id such as 001"),
    })?;
    let mut text = format!("-- # Patient {id}\n");
    for (heading, sql) in patient_queries(&id) {
        text.push_str(&format!("-- ## {heading}\n{sql};\n"));
    }
    text.push_str(&format!(
        "-- ## The tumour on each sequence
-- Each sequence's slice of the largest tumour area, its mask outlined along voxel edges.
-- show: slices
SELECT s.series_dir, m.path, m.modality AS caption
FROM masks m JOIN scans s USING (patient_id, modality)
WHERE m.patient_id = '{id}'
ORDER BY CASE m.modality WHEN 'T1' THEN 1 WHEN 'T2' THEN 2 ELSE 3 END;
"
    ));
    render_text(engine, Path::new(&format!("patient {id}")), &text).await
}

/// Renders report `text` (its `$NAME`s bound), `source` naming it on the page and in errors.
async fn render_text(engine: &Engine, path: &Path, text: &str) -> Result<Report> {
    let fault = |section: Option<&str>, fault: ReportFault| Error::Report {
        file: path.to_path_buf(),
        section: section.map(str::to_string),
        fault,
    };
    let blocks = parse_report(text).map_err(|f| fault(None, f))?;
    let mut page = html::Page::new(path, engine.dataset().root.as_path());
    let mut warnings = engine.take_warnings();
    for block in blocks {
        match block {
            Block::Heading { level, text } => page.heading(level, &text),
            Block::Prose(text) => page.prose(&text),
            Block::Statement { sql, view, line } => {
                let section = format!("{} (line {line})", page.section());
                let rows = run_statement(engine, &sql, &mut warnings)
                    .await
                    .map_err(|f| fault(Some(&section), f))?;
                let content = match rows {
                    None => String::new(),
                    Some(rows) if rows.is_empty() => html::note("The statement returned no rows."),
                    Some(rows) => show(&mut page, &view, &rows).map_err(|f| fault(Some(&section), f))?,
                };
                page.statement(&content, &sql);
            }
        }
    }
    page.footer(&warnings);
    Ok(Report {
        figures: page.figures.clone(),
        html: page.finish(),
        warnings,
    })
}

/// A figure drawn from one result, and what it shows in words.
#[derive(Debug, Clone)]
pub struct Figure {
    pub svg: String,
    pub caption: String,
}

/// The Kaplan–Meier figure of a result with columns `time`, `event` and (optional) `group`, as
/// `-- show: km UNIT` draws it.
pub fn km_figure(rows: &Rows, unit: &str) -> Result<Figure, ReportFault> {
    let (groups, skipped) = km_groups(rows)?;
    let figure = figures::km_plot(&groups, unit)?;
    let mut caption = html::km_caption(&groups, &figure, unit);
    if skipped > 0 {
        caption.push_str(&format!(
            " {skipped} rows with a NULL time, event or group are left out."
        ));
    }
    Ok(Figure {
        svg: figure.svg,
        caption,
    })
}

/// The forest plot of a result with columns `label`, `hr`, `hr_lower`, `hr_upper`, `p` (and
/// optionally `n`, `events`), as `-- show: forest` draws it.
pub fn forest_figure(rows: &Rows) -> Result<Figure, ReportFault> {
    Ok(Figure {
        svg: figures::forest_plot(&forest_rows(rows)?),
        caption: "Hazard ratios with 95% confidence intervals (Wald), log scale.".into(),
    })
}

/// The tumour pictures of a result with the columns of `-- show: slices` (`series_dir`, `path`,
/// optional `caption`, `compare_path`, `slice`, `x_lps_mm`/`y_lps_mm`/`z_lps_mm`) as one PNG grid.
pub fn slice_grid(rows: &Rows) -> Result<figures::SliceGrid, ReportFault> {
    pictures::slice_grid(rows)
}

/// A result as the report's HTML table (numbers to four significant digits, p-values as
/// papers print them, the first rows only).
pub fn html_table(rows: &Rows) -> String {
    html::table(rows)
}

/// Runs one block's statement through the statement loop; `None` when it returns no columns
/// (DDL such as CREATE VIEW). Its warnings join `warnings`.
async fn run_statement(engine: &Engine, sql: &str, warnings: &mut Vec<String>) -> Result<Option<Rows>, ReportFault> {
    let mut keep = KeepRows::default();
    let outcome = query::exec_and_print(engine, sql, &mut keep).await;
    warnings.append(&mut keep.warnings);
    outcome.map_err(|e| ReportFault::Statement {
        message: query::diagnostics::describe(&e, sql),
    })?;
    match keep.rows {
        Some(result) => Rows::new(&result.schema, &result.batches).map(Some),
        None => Ok(None),
    }
}

/// Keeps the rows of a block's statement for its view, and the warnings for the footer.
#[derive(Default)]
struct KeepRows {
    rows: Option<query::StatementResult>,
    warnings: Vec<String>,
}

impl query::Printer for KeepRows {
    type Error = Error;

    async fn print(&mut self, result: query::StatementStream) -> Result<()> {
        self.rows = Some(result.collect().await?);
        Ok(())
    }

    fn ran_without_rows(&mut self) {
        self.rows = None;
    }

    fn warnings(&mut self, engine: &Engine) -> Result<()> {
        self.warnings.extend(engine.take_warnings());
        Ok(())
    }
}

/// The HTML of one result shown as `view`; figures are also kept for `--figures`.
fn show(page: &mut html::Page, view: &View, rows: &Rows) -> Result<String, ReportFault> {
    Ok(match view {
        View::Table => html::table(rows),
        View::Km { unit } => {
            let figure = km_figure(rows, unit)?;
            page.figure("km", figure.svg, &figure.caption)
        }
        View::Forest => {
            let figure = forest_figure(rows)?;
            page.figure("forest", figure.svg, &figure.caption)
        }
        View::Table1 { by } => table1::to_html(&table1::table1(rows, by)?),
        View::Box { by } => {
            let by_index = rows.position("box", by)?;
            let labels = Rows::labels(rows.batch().column(by_index));
            let by = &rows.names()[by_index];
            let mut out = String::new();
            for (name, values) in numeric_columns(rows, Some(by_index))? {
                let mut groups: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
                for (label, v) in labels.iter().zip(values) {
                    if let (Some(label), Some(v)) = (label, v) {
                        groups.entry(label.clone()).or_default().push(v);
                    }
                }
                let groups: Vec<(String, Vec<f64>)> = groups.into_iter().collect();
                let caption = format!("{name} by {by}: median, quartiles, whiskers to 1.5 IQR, points beyond.");
                out.push_str(&page.figure("box", figures::box_plot(&name, &groups), &caption));
            }
            out
        }
        View::Slices => pictures::slices(rows)?,
        View::Montage => pictures::montage(rows)?,
        View::Histogram => {
            let mut out = String::new();
            for (name, values) in numeric_columns(rows, None)? {
                let values: Vec<f64> = values.into_iter().flatten().collect();
                let caption = format!("{name}: {} values, Sturges' bins.", values.len());
                out.push_str(&page.figure("histogram", figures::histogram(&name, &values), &caption));
            }
            out
        }
    })
}

/// A column's name and its values (NULL as `None`).
type NumericColumn = (String, Vec<Option<f64>>);

/// The numeric columns other than the one at `except`, for box plots and histograms.
fn numeric_columns(rows: &Rows, except: Option<usize>) -> Result<Vec<NumericColumn>, ReportFault> {
    let mut out = Vec::new();
    for (i, (name, array)) in rows.names().into_iter().zip(rows.batch().columns()).enumerate() {
        if except == Some(i) || !Rows::is_numeric(array) {
            continue;
        }
        let values = Rows::numbers(&name, array)?;
        out.push((name, values));
    }
    if out.is_empty() {
        return Err(ReportFault::BadColumn {
            column: rows.names().join(", "),
            problem: "holds no numeric column to plot".into(),
        });
    }
    Ok(out)
}

/// `time`, `event` and (optional) `group` per subject, grouped and sorted by group; rows with a
/// NULL are left out and counted.
fn km_groups(rows: &Rows) -> Result<(Vec<KmGroup>, usize), ReportFault> {
    let time = Rows::numbers("time", rows.column("km", "time")?)?;
    let event_column = rows.column("km", "event")?;
    let event = Rows::numbers("event", event_column)?;
    let group = rows.find("group")?.map(Rows::labels);
    let mut groups: std::collections::BTreeMap<String, KmGroup> = Default::default();
    let mut skipped = 0;
    for i in 0..rows.len() {
        let label = match &group {
            Some(labels) => labels[i].clone(),
            None => Some("all".to_string()),
        };
        let (Some(t), Some(e), Some(label)) = (time[i], event[i], label) else {
            skipped += 1;
            continue;
        };
        if e != 0.0 && e != 1.0 {
            return Err(ReportFault::BadColumn {
                column: "event".into(),
                problem: format!("holds {e}; an event is 1 (progression or death) or 0 (censored)"),
            });
        }
        let entry = groups.entry(label.clone()).or_insert_with(|| KmGroup {
            label,
            ..Default::default()
        });
        entry.time.push(t);
        entry.event.push(e == 1.0);
    }
    Ok((groups.into_values().collect(), skipped))
}

/// The forest plot's rows: `label`, `hr`, `hr_lower`, `hr_upper`, `p`, optionally `n`, `events`.
fn forest_rows(rows: &Rows) -> Result<Vec<ForestRow>, ReportFault> {
    let labels = Rows::labels(rows.column("forest", "label")?);
    let number =
        |name: &str| -> Result<Vec<Option<f64>>, ReportFault> { Rows::numbers(name, rows.column("forest", name)?) };
    let optional = |name: &str| -> Result<Option<Vec<Option<f64>>>, ReportFault> {
        rows.find(name)?.map(|a| Rows::numbers(name, a)).transpose()
    };
    let (hr, lower, upper, p) = (number("hr")?, number("hr_lower")?, number("hr_upper")?, number("p")?);
    let (n, events) = (optional("n")?, optional("events")?);
    Ok((0..rows.len())
        .map(|i| ForestRow {
            label: labels[i].clone().unwrap_or_default(),
            hr: hr[i],
            hr_lower: lower[i],
            hr_upper: upper[i],
            p: p[i],
            n: n.as_ref().and_then(|n| n[i]).map(|v| v as i64),
            events: events.as_ref().and_then(|e| e[i]).map(|v| v as i64),
        })
        .collect())
}
