//! The interactive shell: multi-line SQL until `;`, completion, highlighting, dot commands,
//! Ctrl-C that cancels the running query, history in the home directory.

mod commands;
mod input;
mod progress;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::Result;
use datafusion::execution::FunctionRegistry;
use npcql::output::{Format, ResultWriter, TableOptions};
use npcql::query::{self, Params};
use npcql::{Engine, EngineOptions, HeaderSummary};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::dataset_flags::describe_with_hint;
use crate::warnings::print_warnings;
use input::{CompletionCatalog, SqlInput};

/// Rows shown by default before a table result is cut (DuckDB and datafusion-cli show 40).
const DEFAULT_MAX_ROWS: usize = 40;

/// Where statements are remembered across sessions.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".npcql_history"))
}

/// Settings the dot commands change.
#[derive(Debug, Clone)]
struct Settings {
    mode: Format,
    timer: bool,
    max_rows: usize,
    /// Results go here instead of stdout (`.output FILE`).
    output: Option<PathBuf>,
    /// The next result only goes here (`.once FILE`).
    once: Option<PathBuf>,
}

/// A running shell.
struct Shell {
    engine: Arc<Engine>,
    runtime: tokio::runtime::Runtime,
    editor: Editor<SqlInput, FileHistory>,
    catalog: Arc<RwLock<CompletionCatalog>>,
    highlight: Arc<AtomicBool>,
    interrupted: Arc<Interrupt>,
    settings: Settings,
    /// Values for `$NAME` placeholders (`--param`).
    params: Params,
    /// Whether a statement failed (piped SQL then exits non-zero, as a script would).
    failed: bool,
    /// The background header check, reported once before a prompt when it is done.
    header_check: Option<std::sync::mpsc::Receiver<npcql::Result<HeaderSummary>>>,
}

/// Ctrl-C during a query: the flag says it happened, `wake` wakes the waiting query loop.
#[derive(Debug, Default)]
struct Interrupt {
    flag: AtomicBool,
    wake: tokio::sync::Notify,
}

/// What the loop does after a command.
enum Flow {
    Continue,
    Quit,
}

/// Runs the shell on the dataset at `data_dir` until `.quit`, Ctrl-D or two Ctrl-C; `$NAME`
/// placeholders in what is typed are bound from `params`.
pub fn run(data_dir: &Path, options: &EngineOptions, params: Params) -> Result<()> {
    let engine = Engine::open_with(data_dir, options)?;
    let interrupted = Arc::new(Interrupt::default());
    let handler = interrupted.clone();
    // While a query runs the terminal is in cooked mode and Ctrl-C arrives as SIGINT: cancel the
    // query instead of ending the process. (At the prompt rustyline reads Ctrl-C as a key.)
    ctrlc::set_handler(move || {
        handler.flag.store(true, Ordering::SeqCst);
        handler.wake.notify_one();
    })?;
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let highlight = Arc::new(AtomicBool::new(color));
    let catalog = Arc::new(RwLock::new(CompletionCatalog::default()));
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.set_helper(Some(SqlInput::new(catalog.clone(), highlight.clone())));
    if let Some(path) = history_path() {
        let _ = editor.load_history(&path);
    }
    let mode = if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Csv
    };
    let mut shell = Shell {
        engine: Arc::new(engine),
        runtime: tokio::runtime::Runtime::new()?,
        editor,
        catalog,
        highlight,
        interrupted,
        settings: Settings {
            mode,
            timer: false,
            max_rows: DEFAULT_MAX_ROWS,
            output: None,
            once: None,
        },
        header_check: None,
        failed: false,
        params,
    };
    shell.refresh_catalog();
    shell.print_banner();
    shell.start_header_check();
    shell.report_header_check(std::time::Duration::from_millis(500));
    shell.run_loop()
}

impl Shell {
    fn print_banner(&self) {
        // SQL piped in (`npcql < script.sql`) gets results and warnings, not a greeting.
        if !std::io::stdin().is_terminal() {
            return print_warnings(&self.engine.take_warnings());
        }
        let dataset = self.engine.dataset();
        let series: usize = dataset.patients.iter().map(|p| p.series.len()).sum();
        let masks: usize = dataset.patients.iter().map(|p| p.masks.len()).sum();
        let problems = dataset.problems.len();
        let problems = match problems {
            0 => String::new(),
            n => format!(", {n} layout problem{} (.problems)", if n == 1 { "" } else { "s" }),
        };
        eprintln!("npcql {} — SQL over the NPC MRI dataset", env!("CARGO_PKG_VERSION"));
        eprintln!(
            "{}: {} patients, {series} series, {masks} masks{problems}",
            dataset.root.display(),
            dataset.patients.len()
        );
        eprintln!("End SQL with ';'. .help for commands, .tables for tables, .quit to leave.");
        print_warnings(&self.engine.take_warnings());
    }

    /// Reads every header on a background thread, so start-up stays instant and the first query
    /// of scans or masks finds them read.
    fn start_header_check(&mut self) {
        // On a cluster the workers read the headers, query by query; reading them all here too
        // would cost the coordinator what the cluster is for.
        if !std::io::stdin().is_terminal() || !self.engine.options().workers.is_empty() {
            return;
        }
        let (sender, receiver) = std::sync::mpsc::channel();
        let task = self.engine.header_summary_task();
        std::thread::spawn(move || {
            let _ = sender.send(task());
        });
        self.header_check = Some(receiver);
    }

    /// Says once, before a prompt, what the background header check found; waits up to `wait`
    /// for it (a small dataset is read by the time the banner is done).
    fn report_header_check(&mut self, wait: std::time::Duration) {
        let Some(receiver) = &self.header_check else { return };
        let Ok(summary) = receiver.recv_timeout(wait) else {
            return;
        };
        self.header_check = None;
        match summary {
            Ok(s) if s.series_with_errors + s.masks_with_errors == 0 => {
                eprintln!("(all {} series and {} mask headers read cleanly)", s.series, s.masks)
            }
            Ok(s) => eprintln!(
                "(headers: {} of {} series and {} of {} masks have errors; queries/data_quality.sql lists them)",
                s.series_with_errors, s.series, s.masks_with_errors, s.masks
            ),
            Err(e) => eprintln!("(header check failed: {e})"),
        }
    }

    fn run_loop(&mut self) -> Result<()> {
        let mut interrupted_once = false;
        loop {
            self.report_header_check(std::time::Duration::ZERO);
            match self.editor.readline("npcql> ") {
                Ok(text) => {
                    interrupted_once = false;
                    let text = text.trim();
                    if text.is_empty() {
                        continue;
                    }
                    let _ = self.editor.add_history_entry(text);
                    let flow = if text.starts_with(['.', '\\']) {
                        self.run_command(text)
                    } else {
                        self.run_sql(text);
                        Flow::Continue
                    };
                    if let Flow::Quit = flow {
                        break;
                    }
                }
                Err(ReadlineError::Interrupted) => {
                    if interrupted_once {
                        break;
                    }
                    interrupted_once = true;
                    eprintln!("(Ctrl-C again or Ctrl-D to leave)");
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(path) = history_path() {
            let _ = self.editor.save_history(&path);
        }
        if self.failed && !std::io::stdin().is_terminal() {
            anyhow::bail!("a statement of the SQL read from standard input failed");
        }
        Ok(())
    }

    /// Runs every statement of `sql` through the statement loop, printing results, warnings
    /// and errors; never fails.
    fn run_sql(&mut self, sql: &str) {
        let bound = match query::bind(sql, &self.params) {
            Ok(bound) => bound,
            Err(e) => {
                self.failed = true;
                return eprintln!("error: {}", describe_with_hint(&e, sql));
            }
        };
        match self.execute_cancellable(&bound) {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                self.failed = true;
                eprintln!("error: {e}");
            }
            None => {
                print_warnings(&self.engine.take_warnings());
                eprintln!("query cancelled");
            }
        }
        self.refresh_catalog();
    }

    /// Runs the statements of `sql` and prints their rows as they arrive; `None` when Ctrl-C
    /// cancelled one (those after it do not run), else the error as the user reads it. A panic
    /// inside a function is caught and reported as an error, and the session goes on.
    fn execute_cancellable(&mut self, sql: &str) -> Option<Result<(), String>> {
        self.interrupted.flag.store(false, Ordering::SeqCst);
        let interrupted = self.interrupted.clone();
        let engine = self.engine.clone();
        let mut printer = ShellPrinter {
            mode: self.settings.mode,
            max_rows: self.settings.max_rows,
            once: self.settings.once.take(),
            output: self.settings.output.clone(),
            timer: self.settings.timer,
            cache_counts: None,
        };
        let functions = self.engine.functions().clone();
        let _progress = progress::MaskProgress::start(functions.clone());
        let owned_sql = sql.to_string();
        // The statements run as their own task so the prompt comes back at Ctrl-C even while an
        // operator is busy; aborting drops the task at its next yield point (between batches).
        let run = std::panic::AssertUnwindSafe(|| {
            self.runtime.block_on(async move {
                let mut task =
                    tokio::spawn(async move { query::exec_and_print(&engine, &owned_sql, &mut printer).await });
                // Woken by the signal handler, not a timer: timers stall while every
                // worker thread is busy with the query.
                let cancel = async {
                    while !interrupted.flag.swap(false, Ordering::SeqCst) {
                        interrupted.wake.notified().await;
                    }
                };
                tokio::select! {
                    joined = &mut task => Some(joined),
                    () = cancel => {
                        // Dropping the task stops it between batches; the flag stops the meshing
                        // of the batch in hand.
                        functions.cancel();
                        task.abort();
                        None
                    }
                }
            })
        });
        let outcome = match std::panic::catch_unwind(run) {
            Ok(Some(Ok(result))) => Ok(Some(result.map_err(|e| describe_with_hint(&e, sql)))),
            Ok(Some(Err(join_error))) if join_error.is_panic() => Err(join_error.into_panic()),
            Ok(Some(Err(join_error))) => Ok(Some(Err(format!("query task failed: {join_error}")))),
            Ok(None) => {
                // An operator that never yields keeps its worker threads until it finishes; give
                // the next query fresh ones and let the old runtime wind down on its own.
                if let Ok(fresh) = tokio::runtime::Runtime::new() {
                    std::mem::replace(&mut self.runtime, fresh).shutdown_background();
                }
                Ok(None)
            }
            Err(panic) => Err(panic),
        };
        match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                Some(Err(format!("internal error: {message} (please report this)")))
            }
        }
    }

    /// Table, column and function names for completion.
    fn refresh_catalog(&self) {
        let ctx = self.engine.ctx();
        let mut tables = Vec::new();
        for name in commands::table_names(ctx) {
            let columns = self
                .runtime
                .block_on(ctx.table_provider(name.as_str()))
                .map(|t| t.schema().fields().iter().map(|f| f.name().clone()).collect())
                .unwrap_or_default();
            tables.push((name, columns));
        }
        let state = ctx.state();
        let mut functions: Vec<String> = state.udfs().into_iter().chain(state.udafs()).collect();
        functions.sort();
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = CompletionCatalog { tables, functions };
    }
}

/// How the shell shows each result: the dot commands' settings when the statements started.
struct ShellPrinter {
    mode: Format,
    max_rows: usize,
    /// The next result only goes here (`.once`), then `output`.
    once: Option<PathBuf>,
    /// Results go here instead of the screen (`.output`).
    output: Option<PathBuf>,
    timer: bool,
    /// The persistent cache's hits and misses of the statement that just ran.
    cache_counts: Option<(u64, u64)>,
}

impl query::Printer for ShellPrinter {
    type Error = npcql::Error;

    /// Writes the rows to the screen (cut at `.maxrows`) or appends every row to a file.
    async fn print(&mut self, result: query::StatementStream) -> npcql::Result<()> {
        let (mut out, table): (Box<dyn Write + Send>, _) = match self.once.take().or_else(|| self.output.clone()) {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|source| npcql::Error::File {
                        path: path.clone(),
                        fault: npcql::FileFault::Io {
                            action: "cannot write",
                            source,
                        },
                    })?;
                (Box::new(file), TableOptions::default())
            }
            None => (
                Box::new(std::io::stdout()),
                TableOptions {
                    max_rows: self.max_rows,
                },
            ),
        };
        let writer = ResultWriter::new(&mut *out, self.mode, result.schema.clone(), table)?;
        result.write_to(writer).await?;
        out.flush()?;
        Ok(())
    }

    fn warnings(&mut self, engine: &Engine) -> npcql::Result<()> {
        print_warnings(&engine.take_warnings());
        self.cache_counts = engine.take_cache_counts();
        Ok(())
    }

    fn finished(&mut self, elapsed: std::time::Duration) {
        if self.timer {
            let cache = match self.cache_counts {
                Some((hits, misses)) if hits + misses > 0 => format!(" (cache: {hits} hits, {misses} misses)"),
                _ => String::new(),
            };
            eprintln!("Run Time: {:.3} s{cache}", elapsed.as_secs_f64());
        }
    }
}
