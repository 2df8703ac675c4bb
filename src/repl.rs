//! The interactive shell: multi-line SQL until `;`, history in the home directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::Engine;
use crate::output::{Format, TableOptions, write_result};
use crate::script;

/// Where statements are remembered across sessions.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".npcql_history"))
}

/// Runs the shell on the dataset at `data_dir` until `.quit` or Ctrl-D.
pub fn run(data_dir: &Path, strict: bool) -> Result<()> {
    let engine = Engine::open(data_dir, strict)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut editor = DefaultEditor::new()?;
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let dataset = engine.dataset();
    eprintln!(
        "npcql {} — {} patients in {}. Type SQL ending in ';', .help for help, .quit to leave.",
        env!("CARGO_PKG_VERSION"),
        dataset.patients.len(),
        dataset.root.display()
    );
    crate::cli::print_warnings(&engine.take_warnings());
    let format = if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Csv
    };
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "npcql> " } else { "  ...> " };
        match editor.readline(prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if buffer.is_empty() && trimmed.starts_with(['.', '\\']) {
                    let _ = editor.add_history_entry(trimmed);
                    match trimmed.trim_start_matches(['.', '\\']).split_whitespace().next() {
                        Some("quit" | "exit" | "q") => break,
                        Some("help") => eprintln!(
                            "Enter SQL ending in ';'. Tables: patients, scans, masks, dataset_issues. .quit leaves."
                        ),
                        _ => eprintln!("unknown command {trimmed}; .help lists the commands"),
                    }
                    continue;
                }
                if !buffer.is_empty() {
                    buffer.push('\n');
                }
                buffer.push_str(&line);
                if !trimmed.ends_with(';') {
                    continue;
                }
                let sql = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(sql.as_str());
                let outcome = runtime.block_on(script::run(&engine, &sql));
                crate::cli::print_warnings(&engine.take_warnings());
                match outcome {
                    Ok(results) => {
                        for result in results.iter().filter(|r| r.has_columns()) {
                            let mut stdout = std::io::stdout().lock();
                            if let Err(e) = write_result(
                                &mut stdout,
                                format,
                                &result.schema,
                                &result.batches,
                                TableOptions::default(),
                            ) {
                                eprintln!("error: {e:#}");
                            }
                        }
                    }
                    Err(e) => eprintln!("error: {e:#}"),
                }
            }
            Err(ReadlineError::Interrupted) => {
                if buffer.is_empty() {
                    break;
                }
                buffer.clear();
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}
