//! `npcql cache info` and `npcql cache clear`: the persistent cache the dataset flags choose
//! (`--cache DIR`, else `$NPCQL_CACHE_DIR`, else the platform's cache folder).

use anyhow::{Context, Result, bail};
use npcql::cache::DiskCache;

use crate::dataset_flags::DatasetArgs;

#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    action: CacheAction,
}

#[derive(Debug, clap::Subcommand)]
enum CacheAction {
    /// Where the cache is, its size by kind of entry, and the hits and misses runs logged.
    Info,
    /// Remove every entry (running processes finish reading theirs).
    Clear,
}

pub fn run(args: &CacheArgs, dataset: &DatasetArgs) -> Result<()> {
    let given = dataset.given_except(&["--cache", "--cache-size"]);
    if !given.is_empty() {
        bail!(
            "npcql cache takes --cache and --cache-size only: {} belong{} to the commands that query a dataset",
            given.join(", "),
            if given.len() == 1 { "s" } else { "" }
        );
    }
    let Some(settings) = dataset.cache_settings() else {
        bail!("no cache folder: pass --cache DIR or set NPCQL_CACHE_DIR (no home folder to default to)")
    };
    let dir = &settings.dir;
    match args.action {
        CacheAction::Info => {
            let info =
                DiskCache::info(dir).with_context(|| format!("cannot read the cache folder {}", dir.display()))?;
            println!(
                "cache: {} ({} of at most {})",
                dir.display(),
                megabytes(info.bytes),
                megabytes(settings.max_bytes)
            );
            println!(
                "{:<16} {:>8} {:>10} {:>10} {:>10}",
                "kind", "entries", "size", "hits", "misses"
            );
            for kind in &info.kinds {
                println!(
                    "{:<16} {:>8} {:>10} {:>10} {:>10}",
                    kind.kind,
                    kind.entries,
                    megabytes(kind.bytes),
                    kind.hits,
                    kind.misses
                );
            }
        }
        CacheAction::Clear => {
            let before = DiskCache::info(dir).map(|i| i.bytes).unwrap_or(0);
            DiskCache::clear(dir).with_context(|| format!("cannot clear the cache folder {}", dir.display()))?;
            println!("cleared {} ({} freed)", dir.display(), megabytes(before));
        }
    }
    Ok(())
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
