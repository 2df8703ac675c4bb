//! Segmentation agreement between a reference mask and a test mask: voxel overlap (counts,
//! Dice, Jaccard, volume similarity) and surface distances (Hausdorff, its 95th percentile, the
//! average symmetric surface distance, normalised surface Dice), as MONAI defines them.
//!
//! A mask's surface is its voxels with a face neighbour outside it (MONAI's `get_mask_edges`:
//! the mask minus its erosion by the 6-neighbourhood); the distance from a surface voxel of one
//! mask to the other is to the centre of the nearest surface voxel of the other, in mm through
//! the voxel spacing, by an exact distance transform ([`edt`]). Masks on different grids are
//! compared on the reference's: the test mask is resampled onto it first, by the imaging room's
//! one resampler (`npcql_imaging::resample`).

pub mod edt;

use std::path::Path;

use npcql_imaging::resample;

use crate::morphology::{MaskError, MaskVolume, read_mask};

/// How a test mask agrees with a reference mask.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Agreement {
    /// Voxels in both masks.
    pub true_positive: u64,
    /// Voxels in the test mask only.
    pub false_positive: u64,
    /// Voxels in the reference mask only.
    pub false_negative: u64,
    /// 2·TP / (2·TP + FP + FN); 1 when both masks are empty.
    pub dice: f64,
    /// TP / (TP + FP + FN); 1 when both masks are empty.
    pub jaccard: f64,
    /// 2·(|test| − |reference|) / (|test| + |reference|) (SimpleITK's, with the test mask as its
    /// source): positive when the test mask is larger; 0 when both are empty.
    pub volume_similarity: f64,
    /// Whether the test mask was resampled onto the reference's grid.
    pub resampled: bool,
    /// Distances (mm) from each surface voxel of the test mask to the reference's surface, and
    /// from the reference's to the test's, each sorted; empty when either mask is.
    test_to_reference: Vec<f64>,
    reference_to_test: Vec<f64>,
}

impl Agreement {
    /// Largest surface distance either way (mm); None when a mask is empty.
    pub fn hausdorff_mm(&self) -> Option<f64> {
        Some(self.test_to_reference.last()?.max(*self.reference_to_test.last()?))
    }

    /// The larger of the two directed 95th percentiles of the surface distances (mm), each
    /// interpolated linearly between ranks (MONAI's `HausdorffDistanceMetric(percentile=95)`,
    /// numpy's default percentile); None when a mask is empty.
    pub fn hausdorff95_mm(&self) -> Option<f64> {
        Some(percentile(&self.test_to_reference, 95.0)?.max(percentile(&self.reference_to_test, 95.0)?))
    }

    /// Mean of the surface distances both ways together (mm; MONAI's
    /// `SurfaceDistanceMetric(symmetric=True)`); None when a mask is empty.
    pub fn assd_mm(&self) -> Option<f64> {
        if self.test_to_reference.is_empty() || self.reference_to_test.is_empty() {
            return None;
        }
        let all = self.test_to_reference.iter().chain(&self.reference_to_test);
        let count = self.test_to_reference.len() + self.reference_to_test.len();
        Some(all.sum::<f64>() / count as f64)
    }

    /// The share of both surfaces within `tolerance_mm` of the other (normalised surface Dice,
    /// MONAI's `SurfaceDiceMetric` over surface voxels); 1 when both masks are empty, 0 when one
    /// is; None for a negative or NaN tolerance.
    pub fn surface_dice(&self, tolerance_mm: f64) -> Option<f64> {
        if tolerance_mm.is_nan() || tolerance_mm < 0.0 {
            return None;
        }
        let (a, b) = (&self.test_to_reference, &self.reference_to_test);
        if a.is_empty() && b.is_empty() {
            return Some(if self.false_positive + self.false_negative == 0 {
                1.0
            } else {
                0.0
            });
        }
        let within = |d: &Vec<f64>| d.partition_point(|&v| v <= tolerance_mm);
        Some((within(a) + within(b)) as f64 / (a.len() + b.len()) as f64)
    }
}

/// Why two masks cannot be compared.
#[derive(Debug, Clone, PartialEq)]
pub enum AgreementError {
    /// One of them cannot be read.
    Mask(MaskError),
    /// Their grids do not overlap in space, so nothing can be resampled.
    Apart(String),
}

impl std::fmt::Display for AgreementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgreementError::Mask(e) => e.fmt(f),
            AgreementError::Apart(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for AgreementError {}

/// Reads both masks and compares them.
pub fn agreement_of_files(reference: &Path, test: &Path) -> Result<Agreement, AgreementError> {
    let r = read_mask(reference).map_err(AgreementError::Mask)?;
    let t = read_mask(test).map_err(AgreementError::Mask)?;
    agreement(&r, &t).map_err(|why| {
        AgreementError::Apart(format!(
            "{} and {} do not overlap in space ({why})",
            reference.display(),
            test.display()
        ))
    })
}

/// Compares `test` with `reference`, on the reference's grid; Err(why) when the two grids do
/// not overlap in space.
pub fn agreement(reference: &MaskVolume, test: &MaskVolume) -> Result<Agreement, String> {
    let resampled = !resample::same_grid(reference, test);
    let resampled_test;
    let test = if resampled {
        resampled_test = resample::onto(reference, test)?;
        &resampled_test
    } else {
        test
    };
    let pair = Pair::new(reference, test);
    let (mut true_positive, mut false_positive, mut false_negative) = (0u64, 0u64, 0u64);
    for &cell in &pair.cells {
        match cell {
            BOTH => true_positive += 1,
            TEST => false_positive += 1,
            REFERENCE => false_negative += 1,
            _ => {}
        }
    }
    let overlap = |both: f64, union: f64| if union == 0.0 { 1.0 } else { both / union };
    let (tp, fp, fn_) = (true_positive as f64, false_positive as f64, false_negative as f64);
    let (test_size, reference_size) = (tp + fp, tp + fn_);
    let volume_similarity = if test_size + reference_size == 0.0 {
        0.0
    } else {
        2.0 * (test_size - reference_size) / (test_size + reference_size)
    };
    let (test_to_reference, reference_to_test) = if reference_size == 0.0 || test_size == 0.0 {
        (Vec::new(), Vec::new())
    } else {
        pair.surface_distances(reference.spacing_mm)
    };
    Ok(Agreement {
        true_positive,
        false_positive,
        false_negative,
        dice: overlap(2.0 * tp, 2.0 * tp + fp + fn_),
        jaccard: overlap(tp, tp + fp + fn_),
        volume_similarity,
        resampled,
        test_to_reference,
        reference_to_test,
    })
}

const REFERENCE: u8 = 1;
const TEST: u8 = 2;
const BOTH: u8 = REFERENCE | TEST;

/// Both masks in one box of the shared grid that holds both crops (and their one-voxel margin
/// of background): each cell says which masks hold it.
struct Pair {
    dims: [usize; 3],
    cells: Vec<u8>,
}

impl Pair {
    fn new(reference: &MaskVolume, test: &MaskVolume) -> Pair {
        let masks: Vec<(&MaskVolume, u8)> = [(reference, REFERENCE), (test, TEST)]
            .into_iter()
            .filter(|(m, _)| m.voxel_count > 0)
            .collect();
        if masks.is_empty() {
            return Pair {
                dims: [0; 3],
                cells: Vec::new(),
            };
        }
        let lo: [i64; 3] = std::array::from_fn(|a| masks.iter().map(|(m, _)| m.offset[a]).min().unwrap_or(0));
        let hi: [i64; 3] = std::array::from_fn(|a| {
            masks
                .iter()
                .map(|(m, _)| m.offset[a] + m.dims[a] as i64)
                .max()
                .unwrap_or(0)
        });
        let dims = [0, 1, 2].map(|a| (hi[a] - lo[a]) as usize);
        let mut cells = vec![0u8; dims[0] * dims[1] * dims[2]];
        for (mask, bit) in masks {
            let [mx, my, mz] = mask.dims;
            let shift = [0, 1, 2].map(|a| (mask.offset[a] - lo[a]) as usize);
            for z in 0..mz {
                for y in 0..my {
                    let from = (z * my + y) * mx;
                    let to = ((z + shift[2]) * dims[1] + y + shift[1]) * dims[0] + shift[0];
                    for (cell, &voxel) in cells[to..to + mx].iter_mut().zip(&mask.voxels[from..from + mx]) {
                        if voxel != 0 {
                            *cell |= bit;
                        }
                    }
                }
            }
        }
        Pair { dims, cells }
    }

    /// Whether cell `i` is on the surface of the mask `bit`: in it, with a face neighbour
    /// outside it (outside the box counts as outside).
    fn on_surface(&self, i: usize, bit: u8) -> bool {
        if self.cells[i] & bit == 0 {
            return false;
        }
        let [nx, ny, nz] = self.dims;
        let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny));
        let outside = |j: usize| self.cells[j] & bit == 0;
        x == 0
            || x + 1 == nx
            || y == 0
            || y + 1 == ny
            || z == 0
            || z + 1 == nz
            || outside(i - 1)
            || outside(i + 1)
            || outside(i - nx)
            || outside(i + nx)
            || outside(i - nx * ny)
            || outside(i + nx * ny)
    }

    /// Sorted distances (mm) from the test surface to the reference surface, and back.
    fn surface_distances(&self, spacing_mm: [f64; 3]) -> (Vec<f64>, Vec<f64>) {
        let reference_surface: Vec<bool> = (0..self.cells.len()).map(|i| self.on_surface(i, REFERENCE)).collect();
        let test_surface: Vec<bool> = (0..self.cells.len()).map(|i| self.on_surface(i, TEST)).collect();
        let to_reference = edt::squared_distances(self.dims, spacing_mm, &reference_surface);
        let to_test = edt::squared_distances(self.dims, spacing_mm, &test_surface);
        let distances = |from: &[bool], to: &[f64]| {
            let mut d: Vec<f64> = from
                .iter()
                .zip(to)
                .filter(|(on, _)| **on)
                .map(|(_, squared)| squared.sqrt())
                .collect();
            d.sort_by(f64::total_cmp);
            d
        };
        (
            distances(&test_surface, &to_reference),
            distances(&reference_surface, &to_test),
        )
    }
}

/// The `q`th percentile of sorted `values`, interpolated linearly between the two nearest ranks
/// (numpy's and torch's default); None when there are none.
fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let last = values.len().checked_sub(1)?;
    let rank = q / 100.0 * last as f64;
    let below = rank.floor() as usize;
    let above = (below + 1).min(last);
    let fraction = rank - below as f64;
    Some(values[below] + fraction * (values[above] - values[below]))
}

#[cfg(test)]
mod tests;
