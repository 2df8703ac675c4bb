//! The command line: flags (SPEC "Command line"), then running `-c`/`-f` in the order given,
//! or the interactive shell.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use npcql::Engine;
use npcql::output::{Format, ResultWriter, TableOptions};
use npcql::query::diagnostics::describe;
use npcql::query::{self, Params, bind};

use crate::dataset_flags::DatasetArgs;
use crate::warnings::print_warnings;

/// SQL over the nasopharyngeal-carcinoma MRI dataset: patients, scans, masks, tumour morphology
/// and survival statistics.
#[derive(Debug, Parser)]
#[command(
    name = "npcql",
    version,
    after_help = "Without -c or -f, npcql opens the interactive shell (.help lists its commands).\n\
                  Tables: patients, scans, masks, morphology, dataset_issues. Examples: queries/*.sql"
)]
pub struct Args {
    /// Run SQL (repeatable; runs in the order given with -f).
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,
    /// Run the statements of a .sql file (repeatable).
    #[arg(short = 'f', long = "file", value_name = "FILE.sql")]
    pub files: Vec<PathBuf>,
    /// Output format (default: table on a terminal, csv otherwise; from -o's extension if given).
    #[arg(long, value_name = "F", value_parser = format_parser())]
    pub format: Option<Format>,
    /// Write results to this file instead of standard output.
    #[arg(short = 'o', long = "out", visible_alias = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub dataset: DatasetArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--format`'s values, listed in `--help` (the library's `Format` knows nothing of clap).
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Format::ALL.map(Format::name))
        .map(|name| name.parse::<Format>().expect("a listed format name"))
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a synthetic cohort in the real dataset's layout.
    Sample(crate::sample::SampleArgs),
    /// Run a .sql file and write its results as one HTML report with tables and figures.
    Report(crate::report::ReportArgs),
    /// Write a cohort selected in SQL as an nnU-Net v2 or MONAI training dataset.
    Export(Box<crate::export::ExportArgs>),
    /// Show or clear the persistent cache of headers and computed features.
    Cache(crate::cache::CacheArgs),
    /// Serve queries from coordinators started with --workers (distributed execution).
    #[cfg(feature = "distributed")]
    Worker(crate::worker::WorkerArgs),
}

impl Command {
    /// The subcommand as the user types it.
    fn name(&self) -> &'static str {
        match self {
            Command::Sample(_) => "sample",
            Command::Report(_) => "report",
            Command::Export(_) => "export",
            Command::Cache(_) => "cache",
            #[cfg(feature = "distributed")]
            Command::Worker(_) => "worker",
        }
    }
}

/// One unit of SQL from the command line, in the order the user gave it.
#[derive(Debug, Clone)]
enum Source {
    Command(String),
    File(PathBuf),
}

/// Parses the process arguments and runs npcql; the caller prints the error.
pub fn main_with_args(argv: Vec<String>) -> Result<()> {
    let matches = command().try_get_matches_from(&argv).unwrap_or_else(|e| e.exit());
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(command) = &args.command {
        refuse_main_flags_with(command, &args);
        return match command {
            Command::Sample(sample) => crate::sample::run(sample, &args.dataset),
            Command::Report(report) => crate::report::run(report, &args.dataset),
            Command::Export(export) => crate::export::run(export, &args.dataset),
            Command::Cache(cache) => crate::cache::run(cache, &args.dataset),
            #[cfg(feature = "distributed")]
            Command::Worker(worker) => crate::worker::run(worker, &args.dataset),
        };
    }
    let params = args.dataset.params()?;
    let data_dir = args.dataset.data_dir()?;
    let sources = sources_in_order(&matches, &args);
    let options = args.dataset.engine_options();
    if sources.is_empty() {
        return crate::shell::run(&data_dir, &options, params);
    }
    let engine = Engine::open_with(&data_dir, &options)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run_sources(&engine, &sources, &params, &args))
}

/// The command line as clap reads it. `sample` writes a dataset rather than reading one, so
/// the dataset flags, global to every subcommand, are left out of its help (and refused).
fn command() -> clap::Command {
    use clap::Args as _;
    let dataset = DatasetArgs::augment_args(clap::Command::new("dataset"));
    let dataset_ids: Vec<_> = dataset.get_arguments().map(|arg| arg.get_id().clone()).collect();
    let mut command = Args::command();
    command.build();
    command.mut_subcommand("sample", |sample| {
        sample.mut_args(|arg| {
            let hidden = dataset_ids.contains(arg.get_id());
            arg.hide(hidden)
        })
    })
}

/// `-c`, `-f`, `--format` and `-o` before a subcommand are the main command's, which does not
/// run: a usage error (exit 2), as clap's own, rather than flags silently dropped. (The
/// dataset flags are the subcommand's too.)
fn refuse_main_flags_with(subcommand: &Command, args: &Args) {
    let given = [
        ("-c", !args.commands.is_empty()),
        ("-f", !args.files.is_empty()),
        ("--format", args.format.is_some()),
        ("-o", args.output.is_some()),
    ];
    let given: Vec<&str> = given.iter().filter(|(_, set)| *set).map(|(flag, _)| *flag).collect();
    if given.is_empty() {
        return;
    }
    let name = subcommand.name();
    command()
        .error(
            clap::error::ErrorKind::ArgumentConflict,
            format!(
                "{} before '{name}' belong{} to npcql without a subcommand; 'npcql {name} --help' lists what {name} takes",
                given.join(", "),
                if given.len() == 1 { "s" } else { "" }
            ),
        )
        .exit()
}

fn sources_in_order(matches: &ArgMatches, args: &Args) -> Vec<Source> {
    let indexed = |id: &str| {
        matches
            .indices_of(id)
            .map(|i| i.collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let mut sources: Vec<(usize, Source)> = indexed("commands")
        .into_iter()
        .zip(args.commands.iter().cloned().map(Source::Command))
        .collect();
    sources.extend(
        indexed("files")
            .into_iter()
            .zip(args.files.iter().cloned().map(Source::File)),
    );
    sources.sort_by_key(|(i, _)| *i);
    sources.into_iter().map(|(_, s)| s).collect()
}

async fn run_sources(engine: &Engine, sources: &[Source], params: &Params, args: &Args) -> Result<()> {
    let format = args
        .format
        .or_else(|| args.output.as_deref().and_then(Format::from_extension))
        .unwrap_or(if args.output.is_none() && std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Csv
        });
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create output file {}", path.display()))?,
        )),
        None => {
            if format.is_binary() && std::io::stdout().is_terminal() {
                bail!("{format:?} output is binary: write it to a file with -o FILE");
            }
            Box::new(BufWriter::new(std::io::stdout()))
        }
    };
    let mut printer = Printer {
        out,
        format,
        results_written: 0,
        strict: args.dataset.strict,
    };
    for source in sources {
        let (label, text) = match source {
            Source::Command(sql) => (String::new(), sql.clone()),
            Source::File(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                (path.display().to_string(), text)
            }
        };
        // Errors in a file name the file; errors in -c speak for themselves.
        let in_source = |e: anyhow::Error| if label.is_empty() { e } else { e.context(label.clone()) };
        let sql = bind(&text, params).map_err(|e| in_source(user_error(e.into(), &text)))?;
        query::exec_and_print(engine, &sql, &mut printer)
            .await
            .map_err(|e| in_source(user_error(e, &sql)))?;
    }
    printer.out.flush()?;
    Ok(())
}

/// `-c` and `-f`'s results, one after the other into standard output or `-o FILE`.
struct Printer {
    out: Box<dyn Write + Send>,
    format: Format,
    results_written: usize,
    /// `--strict`: a warning fails the run.
    strict: bool,
}

impl query::Printer for Printer {
    type Error = anyhow::Error;

    async fn print(&mut self, result: query::StatementStream) -> Result<()> {
        let format = self.format;
        if format.is_binary() && self.results_written > 0 {
            bail!("{format:?} output holds one result, but the SQL has several statements that return rows");
        }
        // Markdown tables written back to back would render as one table.
        if self.results_written > 0 && matches!(format, Format::Markdown | Format::Table | Format::Line) {
            writeln!(self.out)?;
        }
        let writer = ResultWriter::new(&mut *self.out, format, result.schema.clone(), TableOptions::default())?;
        result.write_to(writer).await?;
        self.results_written += 1;
        Ok(())
    }

    /// Prints the statement's warnings to stderr (or fails under --strict; the cache's stay
    /// warnings).
    fn warnings(&mut self, engine: &Engine) -> Result<()> {
        let (warnings, about_cache) = engine.take_warnings_by_kind();
        print_warnings(&about_cache);
        if self.strict
            && let Some(first) = warnings.first()
        {
            bail!("{first}");
        }
        print_warnings(&warnings);
        Ok(())
    }
}

/// An error for the user: npcql's SQL errors as one line with their position in `sql`; the
/// rest (a closed pipe among them) kept as they are.
fn user_error(error: anyhow::Error, sql: &str) -> anyhow::Error {
    match error.downcast::<npcql::Error>() {
        Ok(error @ npcql::Error::Sql(_)) => anyhow!(describe(&error, sql)),
        Ok(other) => other.into(),
        Err(other) => other,
    }
}
