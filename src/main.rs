//! The `npcql` command: a thin shell over the library (see `npcql::cli`).

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug: say so in one line instead of a trace (RUST_BACKTRACE=1 still shows it).
    if std::env::var_os("RUST_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let _ = writeln!(std::io::stderr(), "npcql: internal error: {info} (please report this)");
        }));
    }
    match npcql::cli::main_with_args(std::env::args().collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let message = format!("{error:#}").split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(std::io::stderr(), "npcql: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `npcql ... | head` closes the pipe early: exit quietly, as ripgrep does.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    // Arrow's writers wrap the io::Error in their own, so look at the text as well.
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) || format!("{error:#}").contains("Broken pipe (os error 32)")
}
