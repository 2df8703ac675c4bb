//! `npcql export nnunet|monai`: its flags, progress bar and summary around
//! [`npcql::export::export`].

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use npcql::Engine;
use npcql::dataset::Modality;
use npcql::export::{ExportFormat, ExportOptions, ExportSummary};
use npcql::query::bind;

use crate::dataset_flags::DatasetArgs;
use crate::warnings::print_warnings;

/// Which trainer's layout.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Layout {
    /// nnU-Net v2: DatasetNNN_NAME/{imagesTr,labelsTr,imagesTs,labelsTs}, dataset.json,
    /// splits_final.json
    Nnunet,
    /// MONAI: the same files in --out, with datalist.json (load_decathlon_datalist)
    Monai,
}

/// Flags of `npcql export` (and the dataset flags).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Cases are NAME_<patient_id>. Each image lies on its label's grid with the \
label's geometry; other sequences are resampled through scanner coordinates. The split is by \
patient, reproducible from --seed (see the export's README.md). Nothing is written inside the \
dataset; an interrupted export leaves nothing behind."
)]
pub struct ExportArgs {
    /// nnunet or monai.
    #[arg(value_enum)]
    layout: Layout,
    /// nnU-Net: the nnUNet_raw folder (DatasetNNN_NAME is made in it); MONAI: the dataset folder.
    #[arg(short = 'o', long = "out", visible_alias = "output", value_name = "DIR")]
    out: PathBuf,
    /// nnU-Net's dataset id (1-999).
    #[arg(long, default_value_t = 501)]
    dataset_id: u32,
    /// Dataset name; case ids are NAME_<patient_id>.
    #[arg(long, default_value = "NPC")]
    name: String,
    /// The selection: SQL returning patient_id (default: every patient).
    #[arg(short = 'c', long = "command", value_name = "SQL", conflicts_with = "file")]
    command: Option<String>,
    /// The selection from a .sql file (its last query returns patient_id).
    #[arg(short = 'f', long = "file", value_name = "FILE.sql")]
    file: Option<PathBuf>,
    /// Image channels in order: T2, T1, CE-T1, comma-separated.
    #[arg(long, value_name = "SEQ,...", value_delimiter = ',', default_value = "T2")]
    channels: Vec<String>,
    /// The sequence whose mask is the label, and whose grid the images are placed on.
    #[arg(long, value_name = "SEQ", default_value = "T2")]
    label: String,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Spread each value of this column evenly over the folds (a column of the selection,
    /// else of patients; continuous columns are refused: bin them in the SQL).
    #[arg(long, value_name = "COLUMN")]
    stratify: Option<String>,
    /// Seed of the split.
    #[arg(long, default_value_t = 12345)]
    seed: u64,
    /// Test cases: SQL returning patient_id; kept out of training (imagesTs, labelsTs).
    #[arg(long, value_name = "SQL", conflicts_with = "test_file")]
    test: Option<String>,
    /// Test cases from a .sql file.
    #[arg(long, value_name = "FILE.sql")]
    test_file: Option<PathBuf>,
    /// nnU-Net's preprocessed folder, where splits_final.json goes (default:
    /// $nnUNet_preprocessed; without either it goes beside the raw files and the copy step is
    /// printed).
    #[arg(long, value_name = "DIR")]
    preprocessed: Option<PathBuf>,
    /// Replace an existing export (written first, then swapped in).
    #[arg(long)]
    force: bool,
    /// List the cases, their folds and the patients left out, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// gzip level of the .nii.gz files (0-9; 1 is nibabel's default).
    #[arg(long, default_value_t = 1, value_name = "0-9")]
    compression_level: u32,
    /// Cases written at once (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

fn modality(name: &str, flag: &str) -> Result<Modality> {
    Modality::ALL
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| anyhow!("{flag} {name}: the sequences are T1, T2 and CE-T1"))
}

/// Runs the export, with a progress bar on stderr, and prints what it did.
pub fn run(args: &ExportArgs, dataset: &DatasetArgs) -> Result<()> {
    let params = dataset.params()?;
    let sql_of = |inline: &Option<String>, file: &Option<PathBuf>| -> Result<Option<String>> {
        let text = match (inline, file) {
            (Some(sql), _) => sql.clone(),
            (None, Some(path)) => {
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(bind(&text, &params)?))
    };
    let defaults = ExportOptions::default();
    let options = ExportOptions {
        format: match args.layout {
            Layout::Nnunet => ExportFormat::Nnunet,
            Layout::Monai => ExportFormat::Monai,
        },
        out: args.out.clone(),
        dataset_id: args.dataset_id,
        name: args.name.clone(),
        selection: sql_of(&args.command, &args.file)?,
        test: sql_of(&args.test, &args.test_file)?,
        channels: args
            .channels
            .iter()
            .map(|c| modality(c, "--channels"))
            .collect::<Result<_>>()?,
        label: modality(&args.label, "--label")?,
        folds: args.folds,
        stratify: args.stratify.clone(),
        seed: args.seed,
        preprocessed: args.preprocessed.clone(),
        force: args.force,
        dry_run: args.dry_run,
        compression_level: args.compression_level,
        threads: args.threads.unwrap_or(defaults.threads),
        strict: dataset.strict,
    };
    let engine = Engine::open_with(&dataset.data_dir()?, &dataset.engine_options())?;
    // Drawn only when stderr is a terminal (indicatif's default).
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("exporting {wide_bar} {pos}/{len} cases, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let summary = runtime.block_on(npcql::export::export(&engine, &options, &progress));
    bar.finish_and_clear();
    print_warnings(&engine.take_warnings());
    let summary = summary?;
    print_summary(&summary, &options)?;
    Ok(())
}

fn print_summary(summary: &ExportSummary, options: &ExportOptions) -> Result<()> {
    let training = summary.cases.iter().filter(|c| c.fold.is_some()).count();
    let testing = summary.cases.len() - training;
    if summary.dry_run {
        println!("case_id,patient_id,set,fold,stratum,pairing");
        for case in &summary.cases {
            println!(
                "{},{},{},{},{},{}",
                case.case_id,
                case.patient_id,
                if case.fold.is_some() { "train" } else { "test" },
                case.fold.map_or(String::new(), |f| f.to_string()),
                case.stratum.as_deref().unwrap_or(""),
                case.pairing
            );
        }
    }
    for left in &summary.left_out {
        eprintln!("left out: patient {}: {}", left.patient_id, left.reason);
    }
    let verb = if summary.dry_run { "would write" } else { "wrote" };
    eprintln!(
        "{verb} {} cases ({training} training in {} folds, {testing} test) to {}{}; {} left out",
        summary.cases.len(),
        options.folds,
        summary.folder.display(),
        if summary.dry_run {
            String::new()
        } else {
            format!(" ({:.1} MB)", summary.bytes_written as f64 / 1e6)
        },
        summary.left_out.len()
    );
    if let Some(step) = &summary.copy_step {
        eprintln!(
            "splits_final.json is beside the raw files; nnU-Net reads it from its preprocessed folder \
             and otherwise makes its own unstratified split without a word. Copy it there:\n  {step}"
        );
    } else if let Some(splits) = &summary.splits {
        eprintln!("splits_final.json: {}", splits.display());
    }
    if summary.cases.is_empty() {
        bail!("no case to export");
    }
    Ok(())
}
