//! Dot commands (DuckDB style), with backslash aliases for datafusion-cli and psql users.

use std::path::Path;
use std::sync::atomic::Ordering;

use datafusion::prelude::SessionContext;

use npcql::Engine;
use npcql::output::{Format, type_name};

use super::{Flow, Shell};

/// A dot command: the one place its name, other names, arguments, help and action are said.
pub struct CommandSpec {
    pub name: &'static str,
    /// Other dot names for the same command.
    pub aliases: &'static [&'static str],
    /// What follows the name: `FILE` is required, `[FILE]` optional.
    pub arguments: &'static str,
    pub help: &'static str,
    /// Runs the command with its argument (trimmed; empty when none was given).
    run: fn(&mut Shell, &str) -> Flow,
}

impl CommandSpec {
    fn requires_argument(&self) -> bool {
        !self.arguments.is_empty() && !self.arguments.starts_with('[')
    }

    /// Every name the command answers to.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

/// The shell's commands: help, completion, "did you mean" and running them all read this table.
pub const COMMANDS: &[CommandSpec] = &[
    command("help", &[], "", "this list (also \\?)", |_, _| {
        eprintln!("{}", help_text());
        Flow::Continue
    }),
    command("tables", &[], "", "the tables and views (also \\d)", |shell, _| {
        for table in table_names(shell.engine.ctx()) {
            println!("{table}");
        }
        Flow::Continue
    }),
    command(
        "schema",
        &[],
        "[TABLE]",
        "columns and types (also \\d TABLE)",
        |shell, table| {
            shell.print_schema(table);
            Flow::Continue
        },
    ),
    command(
        "functions",
        &[],
        "[PATTERN]",
        "npcql's functions with their definitions (also \\df)",
        |_, pattern| {
            print_functions(pattern);
            Flow::Continue
        },
    ),
    command(
        "mode",
        &[],
        "MODE",
        "table | csv | tsv | json | ndjson | markdown | line (also \\pset format MODE)",
        |shell, arg| {
            let mode = arg.strip_prefix("format").map_or(arg, str::trim);
            match mode.parse::<Format>() {
                Ok(format) if !format.is_binary() => shell.settings.mode = format,
                _ => eprintln!("error: .mode takes table, csv, tsv, json, ndjson, markdown or line"),
            }
            Flow::Continue
        },
    ),
    command(
        "timer",
        &[],
        "on|off",
        "print each statement's run time",
        |shell, arg| {
            match on_off(arg) {
                Some(on) => shell.settings.timer = on,
                None => eprintln!("error: .timer takes on or off"),
            }
            Flow::Continue
        },
    ),
    command(
        "maxrows",
        &[],
        "N",
        "rows shown before a table is cut (0 = all)",
        |shell, arg| {
            match arg.parse() {
                Ok(n) => shell.settings.max_rows = n,
                Err(_) => eprintln!("error: .maxrows takes a number of rows (0 = all)"),
            }
            Flow::Continue
        },
    ),
    command(
        "read",
        &[],
        "FILE",
        "run the statements of a .sql file (also \\i FILE)",
        |shell, file| {
            match std::fs::read_to_string(file) {
                Ok(sql) => shell.run_sql(&sql),
                Err(e) => eprintln!("error: cannot read {file}: {e}"),
            }
            Flow::Continue
        },
    ),
    command(
        "output",
        &[],
        "[FILE]",
        "send results to FILE (append); no FILE: back to the screen (also \\o)",
        |shell, file| {
            shell.settings.output = (!file.is_empty()).then(|| file.into());
            Flow::Continue
        },
    ),
    command("once", &[], "FILE", "send the next result to FILE", |shell, file| {
        shell.settings.once = Some(file.into());
        Flow::Continue
    }),
    command("open", &[], "DIR", "switch to the dataset at DIR", |shell, dir| {
        match Engine::open_with(Path::new(dir), &shell.engine.options().clone()) {
            Ok(engine) => {
                shell.engine = std::sync::Arc::new(engine);
                shell.refresh_catalog();
                shell.print_banner();
                shell.start_header_check();
                shell.report_header_check(std::time::Duration::from_millis(500));
            }
            Err(e) => eprintln!("error: {e:#}"),
        }
        Flow::Continue
    }),
    command("highlight", &[], "on|off", "syntax colours", |shell, arg| {
        match on_off(arg) {
            Some(on) => shell.highlight.store(on, Ordering::Relaxed),
            None => eprintln!("error: .highlight takes on or off"),
        }
        Flow::Continue
    }),
    command(
        "patient",
        &[],
        "ID [--open]",
        "one patient: clinical data, series and tumour morphology; writes a page with the tumour on each sequence (--open: shows it)",
        |shell, id| {
            shell.print_patient(id);
            Flow::Continue
        },
    ),
    command(
        "problems",
        &[],
        "",
        "what dataset discovery found missing or odd",
        |shell, _| {
            let problems = &shell.engine.dataset().problems;
            if problems.is_empty() {
                eprintln!("no problems found in the dataset layout");
            }
            for p in problems {
                println!("{}: {}", p.path, p.problem);
            }
            Flow::Continue
        },
    ),
    command("quit", &["exit"], "", "leave (also .exit, \\q, Ctrl-D)", |_, _| {
        Flow::Quit
    }),
];

const fn command(
    name: &'static str,
    aliases: &'static [&'static str],
    arguments: &'static str,
    help: &'static str,
    run: fn(&mut Shell, &str) -> Flow,
) -> CommandSpec {
    CommandSpec {
        name,
        aliases,
        arguments,
        help,
        run,
    }
}

/// `.help`: one line per command from [`COMMANDS`].
fn help_text() -> String {
    let mut text = String::new();
    for spec in COMMANDS {
        let usage = if spec.arguments.is_empty() {
            format!(".{}", spec.name)
        } else {
            format!(".{} {}", spec.name, spec.arguments)
        };
        text.push_str(&format!("{usage:<24}{}\n", spec.help));
    }
    text.push_str("SQL runs when a line ends with ';'. Tab completes; Ctrl-C cancels a running query.");
    text
}

/// The command a dot name (or alias) names.
fn find_command(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|spec| spec.names().any(|n| n == name))
}

/// Names of the tables and views users query (not information_schema).
pub fn table_names(ctx: &SessionContext) -> Vec<String> {
    let mut names = Vec::new();
    for catalog in ctx.catalog_names() {
        let Some(catalog) = ctx.catalog(&catalog) else { continue };
        for schema in catalog.schema_names() {
            if schema == "information_schema" {
                continue;
            }
            if let Some(schema) = catalog.schema(&schema) {
                names.extend(schema.table_names());
            }
        }
    }
    names.sort();
    names
}

impl Shell {
    /// Runs one dot or backslash command.
    pub(super) fn run_command(&mut self, text: &str) -> Flow {
        let text = text.trim().trim_end_matches(';');
        let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let arg = rest.trim();
        let name = normalise(name, arg);
        let Some(spec) = find_command(&name) else {
            let suggestion = COMMANDS
                .iter()
                .flat_map(CommandSpec::names)
                .min_by_key(|c| strsim::levenshtein(&name, c))
                .filter(|c| strsim::levenshtein(&name, c) <= 2);
            match suggestion {
                Some(s) => eprintln!("unknown command .{name}; did you mean .{s}? (.help lists them)"),
                None => eprintln!("unknown command .{name} (.help lists the commands)"),
            }
            return Flow::Continue;
        };
        if spec.requires_argument() && arg.is_empty() {
            eprintln!("error: .{name} needs an argument (.help)");
            return Flow::Continue;
        }
        (spec.run)(self, arg)
    }

    /// Everything known about one patient, as three small results, and a page with the tumour
    /// on each sequence written to a temporary file (opened in a browser with `--open`).
    fn print_patient(&mut self, arg: &str) {
        let mut words: Vec<&str> = arg.split_whitespace().collect();
        let open = words.contains(&"--open");
        words.retain(|w| *w != "--open");
        let Some(id) = words.first().and_then(|w| npcql::dataset::normalise_patient_id(w)) else {
            return eprintln!("error: .patient takes a patient id such as 001 (and --open)");
        };
        let queries = npcql::report::patient_queries(&id);
        let sql: Vec<String> = queries.into_iter().map(|(_, sql)| sql).collect();
        self.run_sql(&(sql.join(";\n") + ";"));
        let page = match self.runtime.block_on(npcql::report::patient_page(&self.engine, &id)) {
            Ok(page) => page,
            Err(e) => return eprintln!("error: the patient's page: {e}"),
        };
        let path = std::env::temp_dir().join(format!("npcql-patient-{id}.html"));
        if let Err(e) = std::fs::write(&path, &page.html) {
            return eprintln!("error: cannot write {}: {e}", path.display());
        }
        println!("wrote {}", path.display());
        if open && let Err(e) = open_in_browser(&path) {
            eprintln!("error: cannot open {}: {e}", path.display());
        }
    }

    fn print_schema(&self, table: &str) {
        let ctx = self.engine.ctx();
        let tables = if table.is_empty() {
            table_names(ctx)
        } else {
            vec![table.to_string()]
        };
        for name in tables {
            match self.runtime.block_on(ctx.table_provider(name.as_str())) {
                Ok(provider) => {
                    println!("CREATE TABLE {name} (");
                    let fields = provider.schema();
                    let count = fields.fields().len();
                    for (i, field) in fields.fields().iter().enumerate() {
                        let comma = if i + 1 < count { "," } else { "" };
                        println!(
                            "    {} {}{comma}",
                            field.name(),
                            type_name(field.data_type()).to_uppercase()
                        );
                    }
                    println!(");");
                }
                Err(_) => eprintln!("error: no table named {name} (.tables lists them)"),
            }
        }
    }
}

/// Opens `path` with `$BROWSER` if set, else the system's opener (`xdg-open`, macOS `open`),
/// without waiting for it.
fn open_in_browser(path: &std::path::Path) -> std::io::Result<()> {
    let opener = std::env::var("BROWSER")
        .unwrap_or_else(|_| if cfg!(target_os = "macos") { "open" } else { "xdg-open" }.to_string());
    std::process::Command::new(opener)
        .arg(path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
}

/// Backslash aliases onto dot-command names.
fn normalise(name: &str, arg: &str) -> String {
    let bare = name.trim_start_matches(['.', '\\']);
    let backslash = name.starts_with('\\');
    match bare {
        "d" if backslash && arg.is_empty() => "tables".into(),
        "d" if backslash => "schema".into(),
        "df" if backslash => "functions".into(),
        "pset" if backslash => "mode".into(),
        "i" if backslash => "read".into(),
        "o" if backslash => "output".into(),
        "q" => "quit".into(),
        "?" | "h" => "help".into(),
        other => other.to_lowercase(),
    }
}

fn on_off(arg: &str) -> Option<bool> {
    match arg.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Some(true),
        "off" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// `.functions [PATTERN]`: npcql's functions whose syntax or description mentions PATTERN.
fn print_functions(pattern: &str) {
    let pattern = pattern.to_lowercase();
    let matching: Vec<_> = npcql_udfs::sql::documentation()
        .into_iter()
        .filter(|doc| {
            doc.syntax_example.to_lowercase().contains(&pattern) || doc.description.to_lowercase().contains(&pattern)
        })
        .collect();
    if matching.is_empty() {
        eprintln!("no npcql function matches '{pattern}' (DataFusion's built-ins are listed by SHOW FUNCTIONS)");
    }
    for doc in matching {
        println!("{}\n    {}", doc.syntax_example, doc.description);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_help_and_found_by_its_names() {
        let help = help_text();
        for spec in COMMANDS {
            assert!(
                help.contains(&format!(".{} ", spec.name)),
                ".{} missing from help",
                spec.name
            );
            for name in spec.names() {
                assert_eq!(find_command(name).map(|s| s.name), Some(spec.name));
            }
        }
        assert!(find_command("patient").is_some_and(CommandSpec::requires_argument));
        assert!(!find_command("output").unwrap().requires_argument());
    }

    #[test]
    fn backslash_aliases() {
        assert_eq!(normalise("\\d", ""), "tables");
        assert_eq!(normalise("\\d", "masks"), "schema");
        assert_eq!(normalise("\\q", ""), "quit");
        assert_eq!(normalise(".Mode", "csv"), "mode");
    }
}
