//! All morphology features of one mask, computed together from one read and one mesh.

use std::path::Path;

use super::components::component_count;
use super::diameter::{max_axial_diameter_mm, max_diameter_mm};
use super::marching_cubes::surface_vertices;
use super::mesh::mesh_measures;
use super::pca::principal_axes;
use npcql_imaging::mask::{MaskError, MaskVolume, read_mask};

/// The morphology features of one tumour mask (IBSI chapter 3.1; PyRadiomics `shape`).
///
/// Lengths in mm, areas in mm², volumes in mm³. `None` where a feature is undefined:
/// ratios and diameters of an empty mask, elongation/flatness of a single voxel.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MorphologyFeatures {
    /// Number of tumour voxels.
    pub voxel_count: u64,
    /// Voxel count × voxel volume (IBSI YEKZ; PyRadiomics VoxelVolume).
    pub voxel_volume_mm3: f64,
    /// Volume of the marching-cubes mesh (IBSI RNU0; PyRadiomics MeshVolume).
    pub mesh_volume_mm3: f64,
    /// Area of the marching-cubes mesh (IBSI C0JK; PyRadiomics SurfaceArea).
    pub surface_area_mm2: f64,
    /// Largest distance between two mesh vertices (IBSI L0JK; PyRadiomics Maximum3DDiameter).
    pub max_diameter_mm: Option<f64>,
    /// Largest distance between two mesh vertices in one axial plane
    /// (PyRadiomics Maximum2DDiameterSlice).
    pub max_axial_diameter_mm: Option<f64>,
    /// (36πV²)^(1/3) / A (IBSI QCFX; 1 for a sphere).
    pub sphericity: Option<f64>,
    /// Surface regularity 6·sqrt(π)·V / A^1.5 = V / (4/3·π·r³) with r = sqrt(A/4π)
    /// (the NPC dataset authors' SR; = sphericity^1.5).
    pub regularity: Option<f64>,
    /// 4·sqrt(λ_major) of the voxel-centre covariance, divided by N (IBSI TDIC).
    pub major_axis_mm: Option<f64>,
    /// 4·sqrt(λ_minor) (IBSI P9VJ).
    pub minor_axis_mm: Option<f64>,
    /// 4·sqrt(λ_least) (IBSI 7J51).
    pub least_axis_mm: Option<f64>,
    /// sqrt(λ_minor/λ_major) (IBSI Q3CK).
    pub elongation: Option<f64>,
    /// sqrt(λ_least/λ_major) (IBSI N17B).
    pub flatness: Option<f64>,
    /// Mean tumour-voxel centre through the NIfTI affine (sform, else qform, else pixdim):
    /// world mm in NIfTI's RAS+ convention (negate x and y for DICOM LPS).
    pub centroid_mm: Option<[f64; 3]>,
    /// Number of 26-connected components.
    pub component_count: u64,
    /// Slices without tumour between the tumour's first and last (mask axis 2, the series'
    /// slices in the dataset's masks): a delineation with a gap, where 0 is contiguous.
    pub slice_gaps: u64,
}

/// Computes every feature of `mask`: one marching-cubes pass, one hull, one PCA.
pub fn compute(mask: &MaskVolume) -> MorphologyFeatures {
    let mesh = mesh_measures(mask);
    let (volume, area) = (mesh.volume_mm3, mesh.surface_area_mm2);
    let vertices = surface_vertices(mask);
    let axes = principal_axes(mask);
    let lengths = axes.map(|a| a.axis_lengths_mm());
    let has_surface = area > 0.0;
    MorphologyFeatures {
        voxel_count: mask.voxel_count,
        voxel_volume_mm3: mask.voxel_count as f64 * mask.voxel_volume_mm3(),
        mesh_volume_mm3: volume,
        surface_area_mm2: area,
        max_diameter_mm: max_diameter_mm(&vertices, mask.spacing_mm),
        max_axial_diameter_mm: max_axial_diameter_mm(&vertices, mask.spacing_mm),
        sphericity: has_surface.then(|| (36.0 * std::f64::consts::PI * volume * volume).cbrt() / area),
        regularity: has_surface.then(|| 6.0 * std::f64::consts::PI.sqrt() * volume / area.powf(1.5)),
        major_axis_mm: lengths.map(|l| l[0]),
        minor_axis_mm: lengths.map(|l| l[1]),
        least_axis_mm: lengths.map(|l| l[2]),
        elongation: axes.and_then(|a| a.elongation()),
        flatness: axes.and_then(|a| a.flatness()),
        centroid_mm: mask.centroid_mm(),
        component_count: component_count(mask),
        slice_gaps: slice_gaps(mask),
    }
}

/// Empty slices between the first and last slice holding tumour voxels.
fn slice_gaps(mask: &MaskVolume) -> u64 {
    let [nx, ny, nz] = mask.dims;
    let held: Vec<bool> = (0..nz)
        .map(|z| mask.voxels[z * nx * ny..(z + 1) * nx * ny].iter().any(|&v| v != 0))
        .collect();
    match (held.iter().position(|&h| h), held.iter().rposition(|&h| h)) {
        (Some(first), Some(last)) => held[first..=last].iter().filter(|&&h| !h).count() as u64,
        _ => 0,
    }
}

/// Reads the mask at `path` and computes its features.
pub fn compute_file(path: impl AsRef<Path>) -> Result<MorphologyFeatures, MaskError> {
    Ok(compute(&read_mask(path)?))
}
