//! `npcql.toml`: optional per-dataset settings at the dataset root.
//!
//! ```toml
//! [clinical]
//! file = "clinical/NPC_clinical.xlsx"   # default: the one csv/xlsx beside MRI-Segments
//! sheet = "Sheet1"                      # xlsx only; default: the first sheet
//! header_row = 2                        # the row with the column names; default: the first
//! ebv_positive_above = 0                # copies/mL; derives ebv_status when the file lacks it
//!
//! [clinical.columns]                    # canonical name = column name in the file
//! patient_id = "Patient No."
//! ebv_dna = "EBV DNA (copies/mL)"
//! pfs_months = "PFS (months)"
//! pfs_event = "Progression"
//!
//! [predictions]                         # model outputs for the `predictions` table
//! dir = "predictions"                   # one subfolder per model (the default)
//! pattern = "NPC_{patient}.nii.gz"      # nnU-Net-style files (the default)
//! modality = "T2"                       # what those were predicted on (the default)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::canonical::CANONICAL_COLUMNS;
use super::modality::Modality;
use crate::error::{Error, Result};

/// The name of the settings file at the dataset root.
pub const CONFIG_FILE: &str = "npcql.toml";

/// Settings read from `npcql.toml`; all optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    #[serde(default)]
    pub clinical: ClinicalConfig,
    #[serde(default)]
    pub predictions: PredictionsConfig,
}

/// The `[clinical]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicalConfig {
    /// The clinical file, relative to the dataset root.
    pub file: Option<PathBuf>,
    /// The worksheet to read from an xlsx file.
    pub sheet: Option<String>,
    /// The 1-based row holding the column names, when title rows come first.
    pub header_row: Option<usize>,
    /// EBV DNA load (copies/mL) above which `ebv_status` is 'positive', used only when the
    /// file has no EBV status column.
    pub ebv_positive_above: Option<f64>,
    /// Canonical column name → the file's column name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

impl DatasetConfig {
    /// Reads `root/npcql.toml` when it exists; a malformed file is an error naming it.
    pub fn load(root: &Path) -> Result<DatasetConfig> {
        let path = root.join(CONFIG_FILE);
        if !path.is_file() {
            return Ok(DatasetConfig::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, "cannot read", e))?;
        let invalid = |message: String| Error::Config(format!("{}: {message}", path.display()));
        let config: DatasetConfig = toml::from_str(&text).map_err(|e| invalid(e.message().to_string()))?;
        let known = |name: &str| CANONICAL_COLUMNS.iter().any(|(canonical, _)| *canonical == name);
        if let Some(unknown) = config.clinical.columns.keys().find(|name| !known(name)) {
            let names: Vec<&str> = CANONICAL_COLUMNS.iter().map(|(name, _)| *name).collect();
            return Err(invalid(format!(
                "[clinical.columns] maps unknown canonical column '{unknown}'; known: {}",
                names.join(", ")
            )));
        }
        config.predictions.check().map_err(invalid)?;
        Ok(config)
    }
}

/// The `[predictions]` section of `npcql.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionsConfig {
    /// The folder of model subfolders, relative to the dataset root; `None`: `predictions`,
    /// if there is one (a folder named here must exist).
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// File names of nnU-Net-style outputs; `{patient}` stands for the case id.
    #[serde(default = "default_pattern")]
    pub pattern: String,
    /// The sequence nnU-Net-style outputs were predicted on.
    #[serde(default = "default_modality")]
    pub modality: String,
}

impl Default for PredictionsConfig {
    fn default() -> Self {
        PredictionsConfig {
            dir: None,
            pattern: default_pattern(),
            modality: default_modality(),
        }
    }
}

fn default_pattern() -> String {
    "NPC_{patient}.nii.gz".into()
}

fn default_modality() -> String {
    "T2".into()
}

impl PredictionsConfig {
    /// Whether the pattern and the modality can be used (checked when npcql.toml is read).
    pub fn check(&self) -> std::result::Result<(), String> {
        self.affixes()?;
        self.predicted_modality()?;
        Ok(())
    }

    /// The pattern's text before and after `{patient}`.
    pub(crate) fn affixes(&self) -> std::result::Result<(&str, &str), String> {
        (self.pattern.split_once("{patient}"))
            .ok_or_else(|| format!("[predictions] pattern '{}' has no {{patient}}", self.pattern))
    }

    /// The sequence nnU-Net-style outputs were predicted on.
    pub(crate) fn predicted_modality(&self) -> std::result::Result<Modality, String> {
        (Modality::ALL.into_iter())
            .find(|m| m.name().eq_ignore_ascii_case(&self.modality))
            .ok_or_else(|| format!("[predictions] modality '{}' is not T1, T2 or CE-T1", self.modality))
    }

    /// The folder of model subfolders for the dataset at `root`.
    pub fn folder(&self, root: &Path) -> PathBuf {
        root.join(self.dir.as_deref().unwrap_or(Path::new("predictions")))
    }
}
