//! `npcql worker`: serves the tasks of coordinators started with `--workers`.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::dataset_flags::DatasetArgs;
use crate::warnings::print_warnings;

/// `npcql worker` flags (and `-d`, from [`DatasetArgs`]).
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Address to listen on, e.g. 0.0.0.0:50051 (port 0: any free port, printed at start).
    #[arg(long, value_name = "HOST:PORT")]
    listen: String,
}

/// Serves until killed, reporting its work on stderr. Of the dataset flags a worker takes `-d`,
/// at the same path the coordinator uses (shared storage), and its own cache's flags; the
/// others are the coordinator's, which sends them with each task.
pub fn run(args: &WorkerArgs, dataset: &DatasetArgs) -> Result<()> {
    let coordinators = dataset.given_except(&["-d", "--cache", "--no-cache", "--cache-size"]);
    if !coordinators.is_empty() {
        bail!(
            "npcql worker takes -d and the cache flags only: {} belong{} to the coordinator (npcql --workers …), which sends them with each task",
            coordinators.join(", "),
            if coordinators.len() == 1 { "s" } else { "" }
        );
    }
    let mut worker = npcql::distributed::Worker::new(&dataset.data_dir()?)?;
    match dataset.cache_settings().map(|c| c.open()) {
        Some(Ok(store)) => worker = worker.with_store(store),
        Some(Err(fault)) => eprintln!("npcql worker: warning: {fault}"),
        None => {}
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        eprintln!(
            "npcql worker listening on {address}, serving {}",
            worker.dataset_root().display()
        );
        tokio::spawn(report_progress(worker.clone()));
        worker.serve(listener).await?;
        Ok(())
    })
}

/// Once a second, what changed: masks meshed so far, and the functions' warnings (the
/// coordinator sees the NULLs; the reasons are here).
async fn report_progress(worker: npcql::distributed::Worker) {
    let mut reported = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        print_warnings(&worker.take_warnings());
        let meshed = worker.masks_meshed();
        if meshed != reported {
            eprintln!("npcql worker: meshed {meshed} masks");
            reported = meshed;
        }
    }
}
