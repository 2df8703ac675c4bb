//! Radiomics kernels: the intensity and texture features of a tumour on one image.
//!
//! The kernels know nothing of files or SQL. They take a [`Roi`] (an image box, its ROI and
//! its discretised grey levels) and the [`Texture`] settings, and return their features in
//! PyRadiomics' order under PyRadiomics' names (`NAMES` in each module); the SQL name of a
//! feature is `<class>_<snake_case(name)>` ([`sql_name`]).
//!
//! Every definition follows PyRadiomics 3.0.1 where PyRadiomics has the feature (its
//! deviations from IBSI included: bins anchored at 0, kurtosis not excess, `Ng` = the highest
//! level present) and IBSI where it has not (GLDZM, IVH, local intensity).

pub mod discretise;
pub mod extract;
pub mod firstorder;
pub mod glcm;
pub mod gldm;
pub mod gldzm;
pub mod glrlm;
pub mod glszm;
pub mod ivh;
pub mod local_intensity;
mod neighbours;
pub mod ngtdm;
pub mod settings;

#[cfg(test)]
mod phantom;

/// An image box around the ROI, x fastest (x = DICOM column, y = row, z = slice).
#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    /// Size of the box (x, y, z).
    pub dims: [usize; 3],
    /// Voxel spacing in mm (x, y, z).
    pub spacing_mm: [f64; 3],
    /// Real image values of every box voxel (inside the ROI or not).
    pub intensity: Vec<f64>,
    /// The morphological mask: the delineation before re-segmentation (GLDZM's distances).
    pub morphological: Vec<bool>,
    /// The intensity mask: the voxels the features see (after re-segmentation).
    pub mask: Vec<bool>,
    /// Discretised grey level of each ROI voxel (1, 2, …), 0 outside the intensity mask.
    pub levels: Vec<u32>,
}

impl Roi {
    /// The linear index of voxel (x, y, z).
    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        (z * self.dims[1] + y) * self.dims[0] + x
    }

    /// The number of voxels in the intensity mask.
    pub fn voxel_count(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }
}

/// How texture matrices are aggregated (PyRadiomics `weightingNorm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Weighting {
    /// One matrix per direction, features averaged over directions (IBSI "3D averaged").
    #[default]
    None,
    /// Directional matrices summed unweighted (IBSI "3D merged").
    NoWeighting,
    /// Matrices summed with weights e^(−‖d‖²), d the direction in mm under that norm.
    Manhattan,
    Euclidean,
    Infinity,
}

/// The texture settings every family reads (PyRadiomics' names in the comments).
#[derive(Debug, Clone, PartialEq)]
pub struct Texture {
    /// `distances`: neighbours at these Chebyshev distances (GLCM, NGTDM, GLDM).
    pub distances: Vec<usize>,
    /// `symmetricalGLCM`.
    pub symmetrical_glcm: bool,
    /// `weightingNorm`.
    pub weighting: Weighting,
    /// `gldm_a`: the coarseness α of GLDM's dependence.
    pub gldm_a: f64,
    /// `force2D` with `force2Ddimension`: `Some(axis)` keeps neighbours within planes normal
    /// to this box axis (0 = x, 1 = y, 2 = z; PyRadiomics' dimension 0 is the slice axis, z).
    pub plane_normal: Option<usize>,
}

impl Default for Texture {
    fn default() -> Self {
        Texture {
            distances: vec![1],
            symmetrical_glcm: true,
            weighting: Weighting::None,
            gldm_a: 0.0,
            plane_normal: None,
        }
    }
}

/// The SQL name of feature `name` of `class`: PyRadiomics' name in snake_case after the class
/// (`firstorder` + `10Percentile` → `firstorder_10_percentile`, `glcm` + `Idmn` → `glcm_idmn`,
/// `glrlm` + `RunLengthNonUniformityNormalized` → `glrlm_run_length_non_uniformity_normalized`).
pub fn sql_name(class: &str, name: &str) -> String {
    let mut out = format!("{class}_");
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        // A word starts at an upper-case letter after a lower-case letter or a digit, or at
        // the last capital of an acronym followed by lower case ("MCC" stays one word).
        let starts_word = c.is_uppercase()
            && previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit() || (p.is_uppercase() && next_is_lower));
        if starts_word {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sql_name;

    #[test]
    fn sql_names_are_pyradiomics_names_in_snake_case() {
        assert_eq!(sql_name("firstorder", "10Percentile"), "firstorder_10_percentile");
        assert_eq!(
            sql_name("firstorder", "InterquartileRange"),
            "firstorder_interquartile_range"
        );
        assert_eq!(sql_name("glcm", "Idmn"), "glcm_idmn");
        assert_eq!(sql_name("glcm", "MCC"), "glcm_mcc");
        assert_eq!(sql_name("glcm", "Imc1"), "glcm_imc1");
        assert_eq!(
            sql_name("glrlm", "RunLengthNonUniformityNormalized"),
            "glrlm_run_length_non_uniformity_normalized"
        );
        assert_eq!(
            sql_name("gldm", "SmallDependenceEmphasis"),
            "gldm_small_dependence_emphasis"
        );
        assert_eq!(sql_name("ngtdm", "Busyness"), "ngtdm_busyness");
        assert_eq!(
            sql_name("gldzm", "small_distance_emphasis"),
            "gldzm_small_distance_emphasis"
        );
    }
}
