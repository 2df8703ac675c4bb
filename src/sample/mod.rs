//! `npcql sample`: a deterministic synthetic cohort in exactly the real dataset's layout, for
//! the bundled `data-sample` and for full-size benchmarks.

mod cohort;
mod files;

use std::path::Path;

use crate::error::{Error, Result};

pub use cohort::{HETEROGENEITY_LINK, SyntheticPatient, TumourTexture, draw_patient};

/// Writes `patients` synthetic patients drawn from `seed` into `out` (a new or empty folder)
/// in the real dataset's layout, with their clinical.csv; `on_patient` is called as each
/// patient's files are written (from several threads).
pub fn write_sample(
    out: &Path,
    patients: usize,
    seed: u64,
    full_size: bool,
    on_patient: impl Fn() + Sync,
) -> Result<()> {
    if patients == 0 || patients > 999 {
        return Err(Error::Config(format!(
            "{patients} patients: a sample holds between 1 and 999"
        )));
    }
    if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Error::Export(format!(
            "{} exists and is not empty; a sample is written only into a new or empty folder",
            out.display()
        )));
    }
    let segments = out.join("MRI-Segments");
    std::fs::create_dir_all(&segments).map_err(|e| Error::io(&segments, "cannot create", e))?;
    let patients: Vec<SyntheticPatient> = (0..patients).map(|i| draw_patient(seed, i, full_size)).collect();
    let predictions = out.join("predictions");
    let written = npcql_udfs::parallel::parallel_map(&patients, |patient| {
        let result = files::write_patient(&segments, &predictions, patient);
        on_patient();
        result
    });
    written.into_iter().collect::<Result<Vec<()>>>()?;
    files::write_clinical(&out.join("clinical.csv"), &patients)
}
