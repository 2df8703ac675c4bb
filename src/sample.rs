//! Synthetic cohort generator (placeholder module, filled below).
#[derive(Debug, clap::Args)]
pub struct SampleArgs {}
pub fn run(_args: &SampleArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
