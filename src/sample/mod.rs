//! `npcql sample`: a deterministic synthetic cohort in exactly the real dataset's layout, for
//! the bundled `data-sample` and for full-size benchmarks.

mod cohort;
mod files;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

pub use cohort::{SyntheticPatient, draw_patient};

/// Flags of `npcql sample`.
#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// Folder to write the cohort into (created; must be empty if it exists).
    #[arg(long, value_name = "DIR")]
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

/// Writes the cohort.
pub fn run(args: &SampleArgs) -> Result<()> {
    let count = args.patients.unwrap_or(if args.full_size { 277 } else { 48 });
    if count == 0 || count > 999 {
        bail!("--patients must be between 1 and 999");
    }
    if args.out.exists()
        && std::fs::read_dir(&args.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} exists and is not empty; npcql sample writes only into a new or empty folder",
            args.out.display()
        );
    }
    let segments = args.out.join("MRI-Segments");
    std::fs::create_dir_all(&segments).with_context(|| format!("cannot create {}", segments.display()))?;
    let patients: Vec<SyntheticPatient> = (0..count).map(|i| draw_patient(args.seed, i, args.full_size)).collect();
    let progress = ProgressBar::new(patients.len() as u64).with_style(
        ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} patients, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message("writing");
    let written = npcql_udfs::parallel::parallel_map(&patients, |patient| {
        let result = files::write_patient(&segments, patient);
        progress.inc(1);
        result
    });
    progress.finish_and_clear();
    written.into_iter().collect::<Result<Vec<()>>>()?;
    files::write_clinical(&args.out.join("clinical.csv"), &patients)?;
    eprintln!("wrote {} patients to {}", patients.len(), args.out.display());
    Ok(())
}
