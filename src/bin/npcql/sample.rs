//! `npcql sample`: its flags and progress bar around [`npcql::sample::write_sample`].

use std::path::PathBuf;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::dataset_flags::DatasetArgs;

/// Flags of `npcql sample`.
#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// Folder to write the cohort into (created; must be empty if it exists).
    #[arg(short = 'o', long = "out", visible_alias = "output", value_name = "DIR")]
    pub out: PathBuf,
    /// Number of patients (default: 48, or 277 as in the real dataset with --full-size).
    #[arg(long)]
    pub patients: Option<usize>,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 2025)]
    pub seed: u64,
    /// Real scanner resolution (T2 512×512, 28 slices) instead of the small git-friendly grids.
    #[arg(long)]
    pub full_size: bool,
}

/// Writes the cohort, with a progress bar on stderr.
pub fn run(args: &SampleArgs, dataset: &DatasetArgs) -> Result<()> {
    let given = dataset.given_except(&[]);
    if !given.is_empty() {
        bail!(
            "npcql sample writes a dataset: {} belong{} to the commands that read one",
            given.join(", "),
            if given.len() == 1 { "s" } else { "" }
        );
    }
    let count = args.patients.unwrap_or(if args.full_size { 277 } else { 48 });
    let progress = ProgressBar::new(count as u64).with_style(
        ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} patients, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message("writing");
    let written = npcql::sample::write_sample(&args.out, count, args.seed, args.full_size, || progress.inc(1));
    progress.finish_and_clear();
    written?;
    eprintln!("wrote {count} patients to {}", args.out.display());
    Ok(())
}
