//! From a series folder and a mask file to every feature: PyRadiomics' pipeline (normalise,
//! re-segment, check the ROI, discretise, compute each class), reading only the slices the
//! features need.

use std::path::{Path, PathBuf};

use npcql_imaging::dicom::pixels::{self, PixelError, Region};
use npcql_imaging::geometry::{SeriesGeometry, pair};
use npcql_imaging::mask::{MaskError, MaskSelection, read_mask_header, read_mask_selecting};

use crate::discretise;
use crate::settings::{ResegmentMode, Settings};
use crate::{Roi, firstorder, glcm, gldm, gldzm, glrlm, glszm, ivh, local_intensity, ngtdm};

/// Each class with its feature names (PyRadiomics' for its classes, IBSI's in snake_case for
/// the others), in the order of the result's columns.
pub const FEATURES: [(&str, &[&str]); 9] = [
    ("firstorder", &firstorder::NAMES),
    ("glcm", &glcm::NAMES),
    ("glrlm", &glrlm::NAMES),
    ("glszm", &glszm::NAMES),
    ("gldm", &gldm::NAMES),
    ("ngtdm", &ngtdm::NAMES),
    ("gldzm", &gldzm::NAMES),
    ("ivh", &ivh::NAMES),
    ("local_intensity", &local_intensity::NAMES),
];

/// Every feature's column name, in order: `firstorder_10_percentile`, …, `global_intensity_peak`.
/// Made once: planning asks for the result's type once per field referenced.
pub fn column_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        FEATURES
            .iter()
            .flat_map(|(class, names)| {
                names.iter().map(move |name| match *class {
                    // IBSI's names already say what they are.
                    "local_intensity" => name.to_string(),
                    _ => crate::sql_name(class, name),
                })
            })
            .collect()
    })
}

/// The features of one tumour on one series, and how they were obtained.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Extraction {
    /// One value per [`column_names`] entry; `None` for a class not asked for, NaN where the
    /// feature is undefined (PyRadiomics' NaN).
    pub features: Vec<Option<f64>>,
    pub diagnostics: Diagnostics,
}

/// What PyRadiomics' `diagnostics_*` tell a reader.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostics {
    /// The settings used, as [`Settings::describe`] lists them.
    pub settings: String,
    /// Voxels the features see (after re-segmentation) and in the delineation.
    pub voxel_count: usize,
    pub morphological_voxel_count: usize,
    /// The ROI's bounding box in the series' grid: first and last column, row, slice (position order).
    pub bounding_box: [usize; 6],
    /// Grey levels after discretisation (the highest level present, PyRadiomics' Ng).
    pub grey_levels: usize,
    /// Intensity over the ROI (after normalisation, when set).
    pub roi_minimum: f64,
    pub roi_maximum: f64,
    pub roi_mean: f64,
    /// Intensity over the slices read, and how many of the series' slices that is (all of
    /// them when `normalize` is set).
    pub image_minimum: f64,
    pub image_maximum: f64,
    pub image_mean: f64,
    pub slices_read: usize,
    pub slice_count: usize,
    /// How the mask was paired with the series ('scanner' or 'convention') and how far apart
    /// the grids are by the mask's own affine.
    pub pairing: String,
    pub pairing_offset_mm: Option<f64>,
    /// Settings accepted without effect here.
    pub without_effect: Vec<String>,
}

/// Why no features: the file at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    Pixels(#[from] PixelError),
    #[error("{0}")]
    Mask(#[from] MaskError),
    /// The mask's grid and the series' do not meet.
    #[error("{}: cannot be paired with the series {} ({})", mask.display(), series.display(), why)]
    Unpaired {
        mask: PathBuf,
        series: PathBuf,
        why: String,
    },
    /// PyRadiomics' ROI checks (empty, too few dimensions or voxels, re-segmented away).
    #[error("{}: {why}", mask.display())]
    Roi { mask: PathBuf, why: String },
}

impl ExtractError {
    /// A fault that may pass (a file that could not be opened or read): not to be cached.
    pub fn is_transient(&self) -> bool {
        use npcql_imaging::dicom::SliceFault;
        use npcql_imaging::dicom::pixels::PixelFault;
        use npcql_imaging::mask::MaskFault;
        match self {
            ExtractError::Mask(e) => matches!(e.fault, MaskFault::Io(_)),
            ExtractError::Pixels(e) => matches!(e.fault, PixelFault::Slice(SliceFault::Unopenable(_))),
            _ => false,
        }
    }
}

/// The radius of IBSI's 1 cm³ sphere, mm (local intensity).
const PEAK_RADIUS_MM: f64 = 6.203_504_908_994; // (3 / 4π)^(1/3) cm

/// Every feature of the tumour in `mask_path` on the series in `series_dir`.
pub fn extract(series_dir: &Path, mask_path: &Path, settings: &Settings) -> Result<Extraction, ExtractError> {
    let Prepared { roi, diagnostics } = prepare(series_dir, mask_path, settings)?;
    Ok(Extraction {
        features: features_of(&roi, settings),
        diagnostics,
    })
}

/// The ROI as the kernels see it (read, paired, normalised, re-segmented, checked and
/// discretised), with the diagnostics of the extraction.
pub struct Prepared {
    pub roi: Roi,
    pub diagnostics: Diagnostics,
}

/// Everything of [`extract`] before the kernels run.
pub fn prepare(series_dir: &Path, mask_path: &Path, settings: &Settings) -> Result<Prepared, ExtractError> {
    let series = pixels::series_geometry(series_dir)?;
    let header = read_mask_header(mask_path)?;
    let pairing = pair(&header.geometry(), &series);
    let Some(to_series) = pairing.mask_to_series() else {
        return Err(ExtractError::Unpaired {
            mask: mask_path.to_path_buf(),
            series: series_dir.to_path_buf(),
            why: format!(
                "mask grid {:?}, series grid {:?}{}",
                header.dims,
                series.dims(),
                pairing
                    .offset_mm()
                    .map_or(String::new(), |d| format!(", centres {d:.1} mm apart"))
            ),
        });
    };
    let selection = match settings.label {
        Some(label) => MaskSelection::Label(label),
        None => MaskSelection::NonZero,
    };
    let mask = read_mask_selecting(mask_path, selection)?;
    let roi_error = |why: String| ExtractError::Roi {
        mask: mask_path.to_path_buf(),
        why,
    };
    let tumour = mask.voxels_in_series(&to_series, series.dims());
    if tumour.is_empty() {
        return Err(roi_error(match settings.label {
            Some(label) => format!("no voxel of label {label}"),
            None => "the mask is empty".into(),
        }));
    }
    let dims = series.dims();
    let (low, high) = bounds(&tumour);
    check_dimensions(low, high, settings, &roi_error)?;
    let spacing = spacing_of(&series);
    // Local intensity looks a sphere's radius beyond the ROI; nothing else leaves the ROI.
    let reach: [usize; 3] = match settings.computes("local_intensity") {
        true => spacing.map(|s| (PEAK_RADIUS_MM / s).ceil() as usize),
        false => [0; 3],
    };
    let box_low: [usize; 3] = std::array::from_fn(|a| low[a].saturating_sub(reach[a]));
    let box_high: [usize; 3] = std::array::from_fn(|a| (high[a] + reach[a]).min(dims[a] - 1));
    // `normalize` uses every voxel of the image, as PyRadiomics does: the whole series.
    let volume = match settings.normalize {
        true => pixels::read_volume(&series)?,
        false => pixels::read_region(
            &series,
            &Region {
                columns: box_low[0]..box_high[0] + 1,
                rows: box_low[1]..box_high[1] + 1,
                slices: box_low[2]..box_high[2] + 1,
            },
        )?,
    };
    let normalise = settings.normalize.then(|| z_score(&volume.values));
    let value_at = |x: usize, y: usize, z: usize| {
        let [i, j, k] = volume.origin;
        let v = volume.get(x - i, y - j, z - k);
        match normalise {
            Some((mean, sd)) => {
                let mut z = (v - mean) / sd;
                if let Some(k) = settings.remove_outliers {
                    z = z.clamp(-k, k);
                }
                z * settings.normalize_scale
            }
            None => v,
        }
    };
    let box_dims: [usize; 3] = std::array::from_fn(|a| box_high[a] - box_low[a] + 1);
    let count = box_dims.iter().product();
    let mut intensity = Vec::with_capacity(count);
    for z in box_low[2]..=box_high[2] {
        for y in box_low[1]..=box_high[1] {
            for x in box_low[0]..=box_high[0] {
                intensity.push(value_at(x, y, z));
            }
        }
    }
    let mut morphological = vec![false; count];
    for v in &tumour {
        morphological[((v[2] - box_low[2]) * box_dims[1] + (v[1] - box_low[1])) * box_dims[0] + (v[0] - box_low[0])] =
            true;
    }
    let mut in_roi = morphological.clone();
    if let Some((range, mode)) = &settings.resegment {
        resegment(&intensity, &mut in_roi, range, *mode);
        let kept: Vec<[usize; 3]> = (0..count)
            .filter(|&i| in_roi[i])
            .map(|i| {
                let (x, y, z) = (
                    i % box_dims[0],
                    i / box_dims[0] % box_dims[1],
                    i / (box_dims[0] * box_dims[1]),
                );
                [x + box_low[0], y + box_low[1], z + box_low[2]]
            })
            .collect();
        if kept.len() <= 1 {
            return Err(roi_error(format!(
                "re-segmentation ({}) kept {} voxel(s); features need at least 2",
                settings.describe(),
                kept.len()
            )));
        }
        let (low, high) = bounds(&kept);
        check_dimensions(low, high, settings, &roi_error)?;
    }
    let voxel_count = in_roi.iter().filter(|&&m| m).count();
    if let Some(least) = settings.minimum_roi_size
        && voxel_count <= least
    {
        return Err(roi_error(format!(
            "{voxel_count} voxels, minimumROISize asks for more than {least}"
        )));
    }
    let roi_values: Vec<f64> = (0..count).filter(|&i| in_roi[i]).map(|i| intensity[i]).collect();
    let edges = discretise::edges(&roi_values, settings.binning);
    let roi_levels = discretise::levels(&roi_values, &edges);
    let mut levels = vec![0u32; count];
    for (i, level) in (0..count).filter(|&i| in_roi[i]).zip(&roi_levels) {
        levels[i] = *level;
    }
    let roi = Roi {
        dims: box_dims,
        spacing_mm: spacing,
        intensity,
        morphological: if settings.resegment_shape {
            in_roi.clone()
        } else {
            morphological
        },
        mask: in_roi,
        levels,
    };
    let bbox_low = low;
    let bbox_high = high;
    let (roi_minimum, roi_maximum, roi_mean) = min_max_mean(&roi_values);
    let diagnostics = Diagnostics {
        settings: settings.describe(),
        voxel_count,
        morphological_voxel_count: tumour.len(),
        bounding_box: [
            bbox_low[0],
            bbox_low[1],
            bbox_low[2],
            bbox_high[0],
            bbox_high[1],
            bbox_high[2],
        ],
        grey_levels: roi_levels.iter().copied().max().unwrap_or(0) as usize,
        roi_minimum,
        roi_maximum,
        roi_mean,
        image_minimum: volume.slices_minimum,
        image_maximum: volume.slices_maximum,
        image_mean: volume.slices_mean,
        slices_read: volume.dims[2],
        slice_count: dims[2],
        pairing: pairing.name().to_string(),
        pairing_offset_mm: pairing.offset_mm(),
        without_effect: settings.without_effect.clone(),
    };
    Ok(Prepared { roi, diagnostics })
}

/// Every class's features in column order; `None` for the classes the settings leave out.
pub fn features_of(roi: &Roi, settings: &Settings) -> Vec<Option<f64>> {
    let texture = &settings.texture;
    // GLSZM and GLDZM count the same zones: labelled once, with GLDZM's distances if asked for.
    let zones = match (settings.computes("glszm"), settings.computes("gldzm")) {
        (_, true) => gldzm::zones(roi, texture),
        (true, false) => glszm::zones(roi, texture, None),
        (false, false) => None,
    };
    let mut out = Vec::new();
    for (class, names) in FEATURES {
        if !settings.computes(class) {
            out.extend(std::iter::repeat_n(None, names.len()));
            continue;
        }
        let values: Vec<f64> = match class {
            "firstorder" => firstorder::features(roi, settings.voxel_array_shift).to_vec(),
            "glcm" => glcm::features(roi, texture).to_vec(),
            "glrlm" => glrlm::features(roi, texture).to_vec(),
            "glszm" => glszm::features_of_zones(zones.as_deref()).to_vec(),
            "gldm" => gldm::features(roi, texture).to_vec(),
            "ngtdm" => ngtdm::features(roi, texture).to_vec(),
            "gldzm" => gldzm::features_of_zones(zones.as_deref()).to_vec(),
            "ivh" => ivh::features(roi, texture).to_vec(),
            _ => local_intensity::features(roi, texture).to_vec(),
        };
        out.extend(values.into_iter().map(Some));
    }
    out
}

fn bounds(voxels: &[[usize; 3]]) -> ([usize; 3], [usize; 3]) {
    let mut low = [usize::MAX; 3];
    let mut high = [0; 3];
    for v in voxels {
        for a in 0..3 {
            low[a] = low[a].min(v[a]);
            high[a] = high[a].max(v[a]);
        }
    }
    (low, high)
}

/// PyRadiomics' `checkMask`: a single voxel, or fewer dimensions than `minimumROIDimensions`.
fn check_dimensions(
    low: [usize; 3],
    high: [usize; 3],
    settings: &Settings,
    roi_error: &dyn Fn(String) -> ExtractError,
) -> Result<(), ExtractError> {
    let dimensions = (0..3).filter(|&a| high[a] > low[a]).count();
    if dimensions == 0 {
        return Err(roi_error("one voxel; features need more".into()));
    }
    if dimensions < settings.minimum_roi_dimensions {
        return Err(roi_error(format!(
            "the ROI spans {dimensions} dimension(s), minimumROIDimensions asks for {}",
            settings.minimum_roi_dimensions
        )));
    }
    Ok(())
}

/// Voxel spacing (column, row, slice), as SimpleITK gives a DICOM series.
fn spacing_of(series: &SeriesGeometry) -> [f64; 3] {
    let [row, column] = series.pixel_spacing_mm;
    [column, row, series.slice_spacing_mm().unwrap_or(row)]
}

/// Mean and sample standard deviation (n − 1), as SimpleITK's Normalize filter takes them.
fn z_score(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, variance.sqrt())
}

/// PyRadiomics' `resegmentMask`: keep ROI voxels within the thresholds (one: at least it).
fn resegment(intensity: &[f64], roi: &mut [bool], range: &[f64], mode: ResegmentMode) {
    let values: Vec<f64> = intensity
        .iter()
        .zip(roi.iter())
        .filter(|(_, m)| **m)
        .map(|(v, _)| *v)
        .collect();
    let mut thresholds = range.to_vec();
    thresholds.sort_by(f64::total_cmp);
    let thresholds: Vec<f64> = match mode {
        ResegmentMode::Absolute => thresholds,
        ResegmentMode::Relative => {
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            thresholds.iter().map(|t| max * t).collect()
        }
        ResegmentMode::Sigma => {
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            // numpy.std: the population standard deviation.
            let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            thresholds.iter().map(|t| mean + sd * t).collect()
        }
    };
    for (m, v) in roi.iter_mut().zip(intensity) {
        if *m {
            *m = *v >= thresholds[0] && thresholds.get(1).is_none_or(|upper| *v <= *upper);
        }
    }
}

fn min_max_mean(values: &[f64]) -> (f64, f64, f64) {
    let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
    for &v in values {
        min = min.min(v);
        max = max.max(v);
        sum += v;
    }
    (min, max, sum / values.len() as f64)
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
