//! Extraction settings in PyRadiomics' own names and meanings (`binWidth`, `resegmentRange`,
//! `weightingNorm`, …), from SQL's `named_struct(...)` or a PyRadiomics parameter file (YAML),
//! so a PyRadiomics user types what they know and gets PyRadiomics' numbers.

use std::collections::BTreeSet;

use crate::discretise::Binning;
use crate::{Texture, Weighting};

/// A setting's value as SQL or YAML gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    List(Vec<Value>),
}

/// The feature classes npcql computes, in the order of the result's columns.
pub const CLASSES: [&str; 10] = [
    "firstorder",
    "glcm",
    "glrlm",
    "glszm",
    "gldm",
    "ngtdm",
    "gldzm",
    "ivh",
    "local_intensity",
    // Shape lives in `morphology(path)`; a parameter file may still name it.
    "shape",
];

/// How re-segmentation reads `resegmentRange` (PyRadiomics `resegmentMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResegmentMode {
    /// Grey values as they are.
    Absolute,
    /// Fractions of the ROI's maximum.
    Relative,
    /// Standard deviations from the ROI's mean.
    Sigma,
}

/// Every setting an extraction honours, with PyRadiomics' defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `binWidth` (default 25) or `binCount` (which wins, as in PyRadiomics).
    pub binning: Binning,
    /// `resegmentRange` (one or two thresholds) with `resegmentMode`.
    pub resegment: Option<(Vec<f64>, ResegmentMode)>,
    /// `resegmentShape`: the re-segmented mask is also the morphological one (GLDZM's distances).
    pub resegment_shape: bool,
    /// `normalize`: z-score over every voxel of the image, times `normalizeScale`.
    pub normalize: bool,
    pub normalize_scale: f64,
    /// `removeOutliers`: after normalising, clip at ± this many standard deviations.
    pub remove_outliers: Option<f64>,
    /// `voxelArrayShift`: added before firstorder's energies (default 0).
    pub voxel_array_shift: f64,
    /// `distances`, `symmetricalGLCM`, `weightingNorm`, `gldm_a`, `force2D`/`force2Ddimension`.
    pub texture: Texture,
    /// `label`: only voxels of this value; `None` (the default here) = any non-zero voxel.
    pub label: Option<f64>,
    /// `minimumROIDimensions` (default 2) and `minimumROISize` (default none).
    pub minimum_roi_dimensions: usize,
    pub minimum_roi_size: Option<usize>,
    /// The classes a parameter file's `featureClass` section enables; `None` = all.
    pub classes: Option<BTreeSet<String>>,
    /// Settings accepted without effect here (said in `diagnostics`).
    pub without_effect: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            binning: Binning::Width(25.0),
            resegment: None,
            resegment_shape: false,
            normalize: false,
            normalize_scale: 1.0,
            remove_outliers: None,
            voxel_array_shift: 0.0,
            texture: Texture::default(),
            label: None,
            minimum_roi_dimensions: 2,
            minimum_roi_size: None,
            classes: None,
            without_effect: Vec::new(),
        }
    }
}

/// Settings PyRadiomics accepts that change nothing here (no resampling, no filters, no
/// pre-cropping that could matter, one output format).
const WITHOUT_EFFECT: [&str; 7] = [
    "additionalInfo",
    "preCrop",
    "padDistance",
    "geometryTolerance",
    "correctMask",
    "interpolator",
    "enableCExtensions",
];

/// Settings PyRadiomics has that npcql does not offer yet.
const NOT_SUPPORTED: [&str; 3] = ["resampledPixelSpacing", "voxelSetting", "kernelRadius"];

const HONOURED: [&str; 18] = [
    "binWidth",
    "binCount",
    "resegmentRange",
    "resegmentMode",
    "resegmentShape",
    "removeOutliers",
    "normalize",
    "normalizeScale",
    "voxelArrayShift",
    "distances",
    "symmetricalGLCM",
    "weightingNorm",
    "gldm_a",
    "force2D",
    "force2Ddimension",
    "label",
    "minimumROIDimensions",
    "minimumROISize",
];

impl Settings {
    /// Settings from (PyRadiomics name, value) pairs, as `named_struct(...)` gives them.
    pub fn from_pairs(pairs: &[(String, Value)]) -> Result<Settings, String> {
        let mut settings = Settings::default();
        let mut bin_width = None;
        let mut bin_count = None;
        let mut resegment_range = None;
        let mut resegment_mode = ResegmentMode::Absolute;
        let mut force_2d = false;
        let mut force_2d_dimension = 0usize;
        for (key, value) in pairs {
            let number = || value_number(key, value);
            let flag = || value_bool(key, value);
            match key.as_str() {
                "binWidth" => bin_width = Some(positive(key, number()?)?),
                "binCount" => bin_count = Some(whole(key, number()?, 1)?),
                "resegmentRange" => {
                    resegment_range = match value {
                        Value::Null => None,
                        _ => {
                            let range = value_numbers(key, value)?;
                            if range.is_empty() || range.len() > 2 {
                                return Err(format!("resegmentRange: {} values; give one or two", range.len()));
                            }
                            Some(range)
                        }
                    }
                }
                "resegmentMode" => {
                    resegment_mode = match value_text(key, value)?.as_str() {
                        "absolute" => ResegmentMode::Absolute,
                        "relative" => ResegmentMode::Relative,
                        "sigma" => ResegmentMode::Sigma,
                        other => {
                            return Err(format!(
                                "resegmentMode '{other}': one of 'absolute', 'relative', 'sigma'"
                            ));
                        }
                    }
                }
                "resegmentShape" => settings.resegment_shape = flag()?,
                "removeOutliers" => {
                    settings.remove_outliers = match value {
                        Value::Null => None,
                        _ => Some(positive(key, number()?)?),
                    }
                }
                "normalize" => settings.normalize = flag()?,
                "normalizeScale" => settings.normalize_scale = positive(key, number()?)?,
                "voxelArrayShift" => settings.voxel_array_shift = finite(key, number()?)?,
                "distances" => {
                    let distances = match value {
                        Value::List(_) => value_numbers(key, value)?,
                        _ => vec![number()?],
                    };
                    if distances.is_empty() {
                        return Err("distances: an empty list; give at least one distance".into());
                    }
                    settings.texture.distances = distances
                        .into_iter()
                        .map(|d| whole(key, d, 1))
                        .collect::<Result<_, _>>()?;
                    settings.texture.distances.sort_unstable();
                    settings.texture.distances.dedup();
                }
                "symmetricalGLCM" => settings.texture.symmetrical_glcm = flag()?,
                "weightingNorm" => {
                    settings.texture.weighting = match value {
                        Value::Null => Weighting::None,
                        _ => match value_text(key, value)?.as_str() {
                            "manhattan" => Weighting::Manhattan,
                            "euclidean" => Weighting::Euclidean,
                            "infinity" => Weighting::Infinity,
                            "no_weighting" => Weighting::NoWeighting,
                            other => {
                                return Err(format!(
                                    "weightingNorm '{other}': one of 'manhattan', 'euclidean', 'infinity', 'no_weighting' (or NULL: per-angle features averaged)"
                                ));
                            }
                        },
                    }
                }
                "gldm_a" => settings.texture.gldm_a = finite(key, number()?)?.max(0.0),
                "force2D" => force_2d = flag()?,
                "force2Ddimension" => {
                    force_2d_dimension = whole(key, number()?, 0)?;
                    if force_2d_dimension > 2 {
                        return Err(format!(
                            "force2Ddimension {force_2d_dimension}: 0 (axial), 1 (coronal) or 2 (sagittal)"
                        ));
                    }
                }
                "label" => {
                    settings.label = match value {
                        Value::Null => None,
                        _ => Some(finite(key, number()?)?),
                    }
                }
                "minimumROIDimensions" => {
                    settings.minimum_roi_dimensions = whole(key, number()?, 1)?;
                    if settings.minimum_roi_dimensions > 3 {
                        return Err("minimumROIDimensions: 1, 2 or 3".into());
                    }
                }
                "minimumROISize" => {
                    settings.minimum_roi_size = match value {
                        Value::Null => None,
                        _ => Some(whole(key, number()?, 1)?),
                    }
                }
                _ if WITHOUT_EFFECT.contains(&key.as_str()) => settings.without_effect.push(key.clone()),
                _ if NOT_SUPPORTED.contains(&key.as_str()) => {
                    return Err(format!("the setting {key} is not yet supported by npcql"));
                }
                _ => {
                    return Err(unknown(
                        key,
                        "setting",
                        HONOURED.iter().chain(&WITHOUT_EFFECT).chain(&NOT_SUPPORTED),
                    ));
                }
            }
        }
        if let Some(count) = bin_count {
            settings.binning = Binning::Count(count);
        } else if let Some(width) = bin_width {
            settings.binning = Binning::Width(width);
        }
        settings.resegment = resegment_range.map(|range| (range, resegment_mode));
        // PyRadiomics' force2Ddimension counts numpy's (z, y, x) axes; the box's are (x, y, z).
        settings.texture.plane_normal = force_2d.then_some(2 - force_2d_dimension);
        Ok(settings)
    }

    /// Settings from the text of a PyRadiomics parameter file: its `setting` section, its
    /// `featureClass` section (the classes to compute; `shape` is `morphology(path)`), and its
    /// `imageType` section, which may enable `Original` only.
    pub fn from_yaml(text: &str) -> Result<Settings, String> {
        use yaml_rust2::{Yaml, YamlLoader};
        let documents = YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
        let root = match documents.as_slice() {
            [] => return Ok(Settings::default()),
            [root] => root,
            _ => return Err("more than one YAML document".into()),
        };
        let Yaml::Hash(sections) = root else {
            return Err("a parameter file is a mapping of sections (setting, featureClass, imageType)".into());
        };
        let mut pairs = Vec::new();
        let mut classes = None;
        for (name, section) in sections {
            let name = name.as_str().unwrap_or_default();
            match name {
                "setting" => {
                    if let Yaml::Hash(entries) = section {
                        for (key, value) in entries {
                            pairs.push((key.as_str().unwrap_or_default().to_string(), yaml_value(value)));
                        }
                    }
                }
                "featureClass" => {
                    let mut enabled = BTreeSet::new();
                    if let Yaml::Hash(entries) = section {
                        for (class, features) in entries {
                            let class = class.as_str().unwrap_or_default();
                            if !CLASSES.contains(&class) {
                                return Err(unknown(class, "feature class", CLASSES.iter()));
                            }
                            if !matches!(features, Yaml::Null | Yaml::Array(_)) {
                                return Err(format!("featureClass {class}: a list of features or nothing"));
                            }
                            enabled.insert(class.to_string());
                        }
                    }
                    classes = Some(enabled);
                }
                "imageType" => {
                    if let Yaml::Hash(entries) = section {
                        for (image_type, _) in entries {
                            let image_type = image_type.as_str().unwrap_or_default();
                            if image_type != "Original" {
                                return Err(format!(
                                    "the image type {image_type} is not yet supported by npcql (only Original)"
                                ));
                            }
                        }
                    }
                }
                "voxelSetting" => return Err("the section voxelSetting is not yet supported by npcql".into()),
                other => {
                    return Err(unknown(
                        other,
                        "section",
                        ["setting", "featureClass", "imageType"].iter(),
                    ));
                }
            }
        }
        let mut settings = Settings::from_pairs(&pairs)?;
        settings.classes = classes;
        Ok(settings)
    }

    /// Whether `class` is to be computed.
    pub fn computes(&self, class: &str) -> bool {
        self.classes.as_ref().is_none_or(|c| c.contains(class))
    }

    /// The settings as PyRadiomics would list them, one line, for `diagnostics` and cache keys.
    pub fn describe(&self) -> String {
        let mut parts = vec![match self.binning {
            Binning::Width(w) => format!("binWidth: {w}"),
            Binning::Count(c) => format!("binCount: {c}"),
        }];
        if let Some((range, mode)) = &self.resegment {
            parts.push(format!(
                "resegmentRange: {range:?}, resegmentMode: {}",
                format!("{mode:?}").to_lowercase()
            ));
            parts.push(format!("resegmentShape: {}", self.resegment_shape));
        }
        if self.normalize {
            parts.push(format!("normalize: true, normalizeScale: {}", self.normalize_scale));
            if let Some(k) = self.remove_outliers {
                parts.push(format!("removeOutliers: {k}"));
            }
        }
        parts.push(format!("voxelArrayShift: {}", self.voxel_array_shift));
        let t = &self.texture;
        parts.push(format!("distances: {:?}", t.distances));
        parts.push(format!("symmetricalGLCM: {}", t.symmetrical_glcm));
        let weighting = match t.weighting {
            Weighting::None => "null",
            Weighting::NoWeighting => "no_weighting",
            Weighting::Manhattan => "manhattan",
            Weighting::Euclidean => "euclidean",
            Weighting::Infinity => "infinity",
        };
        parts.push(format!("weightingNorm: {weighting}"));
        parts.push(format!("gldm_a: {}", t.gldm_a));
        if let Some(axis) = t.plane_normal {
            parts.push(format!("force2D: true, force2Ddimension: {}", 2 - axis));
        }
        match self.label {
            Some(label) => parts.push(format!("label: {label}")),
            None => parts.push("label: any non-zero".into()),
        }
        parts.push(format!("minimumROIDimensions: {}", self.minimum_roi_dimensions));
        if let Some(size) = self.minimum_roi_size {
            parts.push(format!("minimumROISize: {size}"));
        }
        if let Some(classes) = &self.classes {
            parts.push(format!(
                "featureClass: [{}]",
                classes.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        // Said too, so that diagnostics (and a cached extraction's) list them.
        if !self.without_effect.is_empty() {
            parts.push(format!("without effect here: [{}]", self.without_effect.join(", ")));
        }
        parts.join(", ")
    }
}

fn yaml_value(yaml: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Number(*i as f64),
        Yaml::Real(_) => yaml.as_f64().map_or(Value::Null, Value::Number),
        Yaml::String(s) => Value::Text(s.clone()),
        Yaml::Array(items) => Value::List(items.iter().map(yaml_value).collect()),
        _ => Value::Null,
    }
}

/// "unknown setting 'binwidth' (did you mean 'binWidth'?)".
fn unknown<'a>(key: &str, what: &str, known: impl Iterator<Item = &'a &'a str>) -> String {
    let closest = known
        .map(|k| (strsim::jaro_winkler(&key.to_lowercase(), &k.to_lowercase()), *k))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.8);
    match closest {
        Some((_, k)) => format!("unknown {what} '{key}' (did you mean '{k}'?)"),
        None => format!("unknown {what} '{key}'"),
    }
}

fn value_number(key: &str, value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => Ok(*n),
        other => Err(format!("{key}: a number, not {other:?}")),
    }
}

fn value_bool(key: &str, value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(format!("{key}: true or false, not {other:?}")),
    }
}

fn value_text(key: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::Text(t) => Ok(t.clone()),
        other => Err(format!("{key}: a string, not {other:?}")),
    }
}

fn value_numbers(key: &str, value: &Value) -> Result<Vec<f64>, String> {
    match value {
        Value::List(items) => items.iter().map(|v| value_number(key, v)).collect(),
        other => Err(format!("{key}: a list of numbers, not {other:?}")),
    }
}

fn finite(key: &str, n: f64) -> Result<f64, String> {
    n.is_finite()
        .then_some(n)
        .ok_or_else(|| format!("{key}: {n} is not a finite number"))
}

fn positive(key: &str, n: f64) -> Result<f64, String> {
    (n.is_finite() && n > 0.0)
        .then_some(n)
        .ok_or_else(|| format!("{key}: {n} is not a positive number"))
}

fn whole(key: &str, n: f64, least: usize) -> Result<usize, String> {
    if n.fract() == 0.0 && n >= least as f64 && n <= 1e6 {
        Ok(n as usize)
    } else {
        Err(format!("{key}: {n} is not a whole number of at least {least}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, Value)]) -> Vec<(String, Value)> {
        items.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn defaults_are_pyradiomics_defaults() {
        let s = Settings::from_pairs(&[]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.binning, Binning::Width(25.0));
        assert_eq!(s.texture.distances, [1]);
    }

    #[test]
    fn bin_count_wins_over_bin_width() {
        let s = Settings::from_pairs(&pairs(&[
            ("binCount", Value::Number(32.0)),
            ("binWidth", Value::Number(5.0)),
        ]))
        .unwrap();
        assert_eq!(s.binning, Binning::Count(32));
    }

    #[test]
    fn force_2d_dimension_counts_numpy_axes() {
        let s = Settings::from_pairs(&pairs(&[("force2D", Value::Bool(true))])).unwrap();
        assert_eq!(s.texture.plane_normal, Some(2));
        let s = Settings::from_pairs(&pairs(&[
            ("force2D", Value::Bool(true)),
            ("force2Ddimension", Value::Number(2.0)),
        ]))
        .unwrap();
        assert_eq!(s.texture.plane_normal, Some(0));
        let s = Settings::from_pairs(&pairs(&[("force2Ddimension", Value::Number(1.0))])).unwrap();
        assert_eq!(
            s.texture.plane_normal, None,
            "without force2D the dimension changes nothing"
        );
    }

    #[test]
    fn refusals_name_the_key() {
        let e = Settings::from_pairs(&pairs(&[("resampledPixelSpacing", Value::List(vec![]))])).unwrap_err();
        assert_eq!(e, "the setting resampledPixelSpacing is not yet supported by npcql");
        let e = Settings::from_pairs(&pairs(&[("binwidth", Value::Number(5.0))])).unwrap_err();
        assert_eq!(e, "unknown setting 'binwidth' (did you mean 'binWidth'?)");
        let e = Settings::from_pairs(&pairs(&[("weightingNorm", Value::Text("l2".into()))])).unwrap_err();
        assert!(e.starts_with("weightingNorm 'l2'"), "{e}");
        let e = Settings::from_pairs(&pairs(&[("binWidth", Value::Number(0.0))])).unwrap_err();
        assert!(e.contains("not a positive number"), "{e}");
        let s = Settings::from_pairs(&pairs(&[("preCrop", Value::Bool(true))])).unwrap();
        assert_eq!(s.without_effect, ["preCrop"]);
    }

    #[test]
    fn a_parameter_file_selects_classes_and_settings() {
        let yaml = "imageType:\n  Original: {}\nfeatureClass:\n  firstorder:\n  glcm: [Contrast, Idmn]\nsetting:\n  binCount: 32\n  distances: [1, 2]\n  weightingNorm: no_weighting\n";
        let s = Settings::from_yaml(yaml).unwrap();
        assert_eq!(s.binning, Binning::Count(32));
        assert_eq!(s.texture.distances, [1, 2]);
        assert_eq!(s.texture.weighting, Weighting::NoWeighting);
        assert!(s.computes("glcm") && s.computes("firstorder") && !s.computes("glrlm"));
        let e = Settings::from_yaml("imageType:\n  Wavelet: {}\n").unwrap_err();
        assert!(e.contains("Wavelet is not yet supported"), "{e}");
        let e = Settings::from_yaml("featureClass:\n  glmc:\n").unwrap_err();
        assert_eq!(e, "unknown feature class 'glmc' (did you mean 'glcm'?)");
    }
}
