//! `npcql report FILE.sql -o report.html`: the library's report, written to files.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use npcql::Engine;

use crate::dataset_flags::DatasetArgs;
use crate::warnings::print_warnings;

/// How comment lines shape the report (shown by `npcql report --help`).
const SYNTAX: &str = "\
A report is an ordinary .sql file (it runs with npcql -f too). Comment lines between
statements give it shape:
  -- # Title                  the report's title
  -- ## Section               a section heading (### for a subsection)
  -- any other text           prose; a bare -- ends a paragraph
  -- show: VIEW               how to show the next statement's result:
       table                  the rows as a table (the default)
       km [UNIT]              Kaplan-Meier curves of columns time, event and optional group,
                              with 95% band, censor marks, medians, log-rank p and the
                              number-at-risk table; UNIT labels the time axis (default months)
       forest                 hazard ratios: columns label, hr, hr_lower, hr_upper, p
                              (optional n, events), as cox_ph returns them (c.hr, ... too)
       table1 BY column       patient characteristics per value of column and overall:
                              median (IQR) or n (%), missing counts, p-values
       box BY column          box plots of every numeric column per value of column
                              (column is an SQL name: BY \"horTh\" keeps its case)
       histogram              a histogram of every numeric column
The page is one self-contained HTML file (inline SVG and CSS, no script); every section
unfolds its SQL; the footer names the dataset, the npcql version, the date and every warning.";

/// `npcql report` flags (and the dataset flags, [`DatasetArgs`]).
#[derive(Debug, Args)]
#[command(after_help = SYNTAX)]
pub struct ReportArgs {
    /// The report's .sql file.
    #[arg(value_name = "FILE.sql")]
    file: PathBuf,
    /// Where to write the HTML page.
    #[arg(short = 'o', long = "out", visible_alias = "output", value_name = "OUT.html")]
    output: PathBuf,
    /// Also write each figure as its own .svg file into DIR (for a journal submission).
    #[arg(long, value_name = "DIR")]
    figures: Option<PathBuf>,
}

/// Renders the report and writes the page (and the figures).
pub fn run(args: &ReportArgs, dataset: &DatasetArgs) -> Result<()> {
    let params = dataset.params()?;
    let engine = Engine::open_with(&dataset.data_dir()?, &dataset.engine_options())?;
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(npcql::report::render(&engine, &args.file, &params))?;
    std::fs::write(&args.output, &report.html).with_context(|| format!("cannot write {}", args.output.display()))?;
    if let Some(dir) = &args.figures {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, svg) in &report.figures {
            let path = dir.join(name);
            std::fs::write(&path, svg).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    print_warnings(&report.warnings);
    eprintln!(
        "wrote {} ({} figures{})",
        args.output.display(),
        report.figures.len(),
        args.figures
            .as_ref()
            .map_or(String::new(), |d| format!(", also as .svg files in {}", d.display()))
    );
    Ok(())
}
