//! The `npcql` command: flags parsed here, the work done by the `npcql` library. This binary is
//! the only place that uses `anyhow`: library errors arrive typed and leave as one line.

mod cache;
mod cli;
mod dataset_flags;
mod export;
mod report;
mod sample;
mod shell;
mod warnings;
#[cfg(feature = "distributed")]
mod worker;

use std::io::Write;
use std::process::ExitCode;

/// mimalloc, as datafusion-cli uses: it keeps freed memory for the next block instead of
/// returning it to the kernel and faulting it in again (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A panic is a bug: say so in one line instead of a trace (RUST_BACKTRACE=1 still shows it).
    if std::env::var_os("RUST_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let _ = writeln!(std::io::stderr(), "npcql: internal error: {info} (please report this)");
        }));
    }
    match cli::main_with_args(std::env::args().collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let message = format!("{error:#}").split_whitespace().collect::<Vec<_>>().join(" ");
            let hint = error
                .chain()
                .find_map(|e| e.downcast_ref::<npcql::Error>())
                .and_then(dataset_flags::flag_hint)
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            let _ = writeln!(std::io::stderr(), "npcql: error: {message}{hint}");
            ExitCode::FAILURE
        }
    }
}

/// `npcql ... | head` closes the pipe early: exit quietly, as ripgrep does.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    let broken = |e: &std::io::Error| e.kind() == std::io::ErrorKind::BrokenPipe;
    // Arrow's csv writer keeps only the text of the I/O error, so look at the text as well.
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(broken)
            || matches!(e.downcast_ref::<npcql::Error>(), Some(npcql::Error::Write(io)) if broken(io))
    }) || format!("{error:#}").contains("Broken pipe (os error 32)")
}
