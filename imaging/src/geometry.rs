//! Where voxels are in the scanner: a DICOM series' slices and a NIfTI mask's affine, both as
//! voxel index → patient coordinates (LPS, mm), and the one rule that pairs a mask with the
//! series it was drawn on. DICOM PS3.3 C.7.6.2.1.1: P(i, j) = S + X·Δc·i + Y·Δr·j for column i
//! and row j; NIfTI's world is RAS, which differs from LPS in the sign of x and y.

use std::path::PathBuf;

/// A 3×4 affine: voxel index (i, j, k, 1) → mm, one row per world axis.
pub type Affine = [[f64; 4]; 3];

/// Largest distance, in voxels, between a mask's voxel centre and its series' for the two grids
/// to count as one (SPEC "Imaging": a tenth of a voxel).
pub const PAIRING_TOLERANCE_VOXELS: f64 = 0.1;

/// One slice as the scanner placed it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SliceGeometry {
    /// The slice's file.
    pub file: PathBuf,
    /// ImagePositionPatient: the centre of its first (upper-left) pixel, LPS mm.
    pub position: [f64; 3],
    /// What its header says of its pixels, read with its position so that the pixel reader
    /// need not parse the header again (`None`: the pixel reader parses it).
    pub pixel_header: Option<PixelHeader>,
}

/// What a slice's header says of its pixels (PS3.3 C.7.6.3, C.11.1): read once by the header
/// reader (`scans`) and kept in the series' geometry, so that the pixel reader parses no header
/// of an uncompressed slice again (dicom-rs's parse was a fifth of reading a tumour's slices).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PixelHeader {
    /// The transfer syntax UID, trimmed.
    pub transfer_syntax: String,
    pub samples_per_pixel: Option<i64>,
    pub bits_allocated: Option<i64>,
    pub bits_stored: Option<i64>,
    pub pixel_representation: Option<i64>,
    pub photometric_interpretation: Option<String>,
    pub number_of_frames: Option<i64>,
    pub rows: Option<i64>,
    pub columns: Option<i64>,
    /// RescaleSlope and RescaleIntercept (the first value of each): `None` when absent, NaN
    /// when present but not a number.
    pub rescale_slope: Option<f64>,
    pub rescale_intercept: Option<f64>,
    /// The version of the file the header was read from: the pixel reader trusts it for that
    /// version only, and parses a file changed since.
    pub read_from: Option<crate::cache::FileVersion>,
}

/// A series' grid in scanner space: every slice's position, in order along the slice normal.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesGeometry {
    /// Rows and Columns of every slice.
    pub rows: u32,
    pub columns: u32,
    /// PixelSpacing: [row spacing Δr, column spacing Δc], mm.
    pub pixel_spacing_mm: [f64; 2],
    /// ImageOrientationPatient: the row direction X (along a row, column index i grows), then
    /// the column direction Y (row index j grows).
    pub orientation: [f64; 6],
    /// The slices ordered by their position along the normal X × Y (as ITK orders a series).
    pub slices: Vec<SliceGeometry>,
    /// FrameOfReferenceUID: series sharing it share one patient coordinate system.
    pub frame_of_reference_uid: Option<String>,
}

impl SeriesGeometry {
    /// The slice normal X × Y.
    pub fn normal(&self) -> [f64; 3] {
        let o = self.orientation;
        cross([o[0], o[1], o[2]], [o[3], o[4], o[5]])
    }

    /// Grid size as a mask on this series has it: columns × rows × slices.
    pub fn dims(&self) -> [usize; 3] {
        [self.columns as usize, self.rows as usize, self.slices.len()]
    }

    /// Distance between successive slices along the normal: the mean over the series (from the
    /// positions, not SliceThickness); `None` for a single slice.
    pub fn slice_spacing_mm(&self) -> Option<f64> {
        let (first, last) = (self.slices.first()?, self.slices.last()?);
        let n = self.normal();
        let along = |s: &SliceGeometry| dot(s.position, n);
        (self.slices.len() > 1).then(|| (along(last) - along(first)) / (self.slices.len() - 1) as f64)
    }

    /// Voxel (column i, row j, slice k in position order) → LPS mm:
    /// S₀ + i·Δc·X + j·Δr·Y + k·Δs·n. A single slice steps one pixel spacing along the normal.
    pub fn voxel_to_lps(&self) -> Affine {
        let o = self.orientation;
        let (x, y, n) = ([o[0], o[1], o[2]], [o[3], o[4], o[5]], self.normal());
        let [row_spacing, column_spacing] = self.pixel_spacing_mm;
        let slice_spacing = self.slice_spacing_mm().unwrap_or(row_spacing);
        let origin = self.slices.first().map_or([0.0; 3], |s| s.position);
        std::array::from_fn(|r| {
            [
                x[r] * column_spacing,
                y[r] * row_spacing,
                n[r] * slice_spacing,
                origin[r],
            ]
        })
    }
}

/// A NIfTI affine (RAS) as LPS: x and y negated.
pub fn ras_to_lps(ras: &Affine) -> Affine {
    [ras[0].map(|v| -v), ras[1].map(|v| -v), ras[2]]
}

/// `affine` applied to `point`.
pub fn apply(affine: &Affine, point: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|r| (0..3).map(|c| affine[r][c] * point[c]).sum::<f64>() + affine[r][3])
}

/// The inverse of an affine (world → voxel index); `None` when it is singular.
pub fn inverse(m: &Affine) -> Option<Affine> {
    let a = |r: usize, c: usize| m[r][c];
    let cofactor = |r: usize, c: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (c1, c2) = ((c + 1) % 3, (c + 2) % 3);
        a(r1, c1) * a(r2, c2) - a(r1, c2) * a(r2, c1)
    };
    let det: f64 = (0..3).map(|c| a(0, c) * cofactor(0, c)).sum();
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let mut inv = [[0.0; 4]; 3];
    for (r, row) in inv.iter_mut().enumerate() {
        for (c, value) in row.iter_mut().take(3).enumerate() {
            *value = cofactor(c, r) / det;
        }
    }
    for row in &mut inv {
        row[3] = -(0..3).map(|c| row[c] * m[c][3]).sum::<f64>();
    }
    Some(inv)
}

/// `outer ∘ inner`: first `inner`, then `outer`.
pub fn compose(outer: &Affine, inner: &Affine) -> Affine {
    std::array::from_fn(|r| {
        let mut row = [0.0; 4];
        for (c, value) in row.iter_mut().enumerate() {
            *value = (0..3).map(|k| outer[r][k] * inner[k][c]).sum::<f64>();
        }
        row[3] += outer[r][3];
        row
    })
}

/// What a mask's header says of its place in space.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskGeometry {
    /// Grid size (NIfTI axes 0, 1, 2).
    pub dims: [usize; 3],
    /// Voxel → RAS mm from the sform or qform; `None` when both codes are 0 (no real affine).
    pub affine_ras: Option<Affine>,
}

/// How a mask was paired with its series, by [`pair`].
#[derive(Debug, Clone, PartialEq)]
pub enum Pairing {
    /// Through both geometries: every mask voxel centre lies within a tenth of a voxel of a
    /// series voxel centre. `mask_to_series` maps mask indices to series indices (a signed
    /// permutation and a shift: a reversed slice order or a transposed plane is still paired).
    Scanner { mask_to_series: [[i64; 4]; 3] },
    /// The dataset's convention (NIfTI axis 0 = column, 1 = row, 2 = slice in position order),
    /// used because the mask has no affine or its affine disagrees while the dimensions match.
    /// `offset_mm`: how far the affine puts the mask's voxels from the convention's (the largest
    /// over the grid's corners); `None` without an affine.
    Convention { offset_mm: Option<f64> },
    /// No pairing: the grids differ in size and do not coincide in space. `offset_mm` is the
    /// distance between the two grids' centres; `None` without an affine.
    Unpaired { offset_mm: Option<f64> },
}

impl Pairing {
    /// The name SQL shows: 'scanner', 'convention' or 'unpaired'.
    pub fn name(&self) -> &'static str {
        match self {
            Pairing::Scanner { .. } => "scanner",
            Pairing::Convention { .. } => "convention",
            Pairing::Unpaired { .. } => "unpaired",
        }
    }

    /// Mask index → series index (column, row, slice in position order): the scanner pairing's
    /// map, or under the convention the identity; `None` when unpaired.
    pub fn mask_to_series(&self) -> Option<[[i64; 4]; 3]> {
        match self {
            Pairing::Scanner { mask_to_series } => Some(*mask_to_series),
            Pairing::Convention { .. } => Some([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]),
            Pairing::Unpaired { .. } => None,
        }
    }

    /// How far apart the two grids are, mm (0 for a scanner pairing).
    pub fn offset_mm(&self) -> Option<f64> {
        match self {
            Pairing::Scanner { .. } => Some(0.0),
            Pairing::Convention { offset_mm } | Pairing::Unpaired { offset_mm } => *offset_mm,
        }
    }
}

/// The one pairing rule for a mask and its series (SPEC "Imaging").
pub fn pair(mask: &MaskGeometry, series: &SeriesGeometry) -> Pairing {
    let series_affine = series.voxel_to_lps();
    let series_dims = series.dims();
    let mask_affine = mask.affine_ras.as_ref().map(ras_to_lps);
    if let Some(mask_affine) = &mask_affine
        && let Some(mask_to_series) = coinciding(mask_affine, mask.dims, &series_affine, series_dims)
    {
        return Pairing::Scanner { mask_to_series };
    }
    if mask.dims == series_dims {
        let offset_mm = mask_affine.map(|m| {
            corners(mask.dims)
                .map(|c| distance(apply(&m, c), apply(&series_affine, c)))
                .fold(0.0, f64::max)
        });
        return Pairing::Convention { offset_mm };
    }
    let centre = |dims: [usize; 3]| dims.map(|d| (d as f64 - 1.0) / 2.0);
    let offset_mm =
        mask_affine.map(|m| distance(apply(&m, centre(mask.dims)), apply(&series_affine, centre(series_dims))));
    Pairing::Unpaired { offset_mm }
}

/// The mask → series index map when the mask's grid is the series' grid in space: its
/// 3×3 part a signed permutation, every corner within the tolerance of a series voxel, and the
/// mask's grid covering the series' exactly.
fn coinciding(mask: &Affine, mask_dims: [usize; 3], series: &Affine, series_dims: [usize; 3]) -> Option<[[i64; 4]; 3]> {
    let to_series = compose(&inverse(series)?, mask);
    let rounded = to_series.map(|row| row.map(|v| v.round()));
    let permutation = (0..3).all(|r| (0..3).filter(|&c| rounded[r][c] != 0.0).count() == 1)
        && (0..3).all(|c| (0..3).filter(|&r| rounded[r][c] != 0.0).count() == 1)
        && rounded.iter().all(|row| row[..3].iter().all(|v| v.abs() <= 1.0));
    if !permutation {
        return None;
    }
    for corner in corners(mask_dims) {
        let (exact, whole) = (apply(&to_series, corner), apply(&rounded, corner));
        let inside = (0..3).all(|a| whole[a] >= 0.0 && whole[a] < series_dims[a] as f64);
        if !inside || (0..3).any(|a| (exact[a] - whole[a]).abs() > PAIRING_TOLERANCE_VOXELS) {
            return None;
        }
    }
    // Permuted sizes must match, so the mask covers the whole series.
    let covers = (0..3).all(|r| {
        let c = (0..3).find(|&c| rounded[r][c] != 0.0).expect("a permutation");
        mask_dims[c] == series_dims[r]
    });
    covers.then(|| rounded.map(|row| row.map(|v| v as i64)))
}

/// The 8 corner voxel centres of a grid.
fn corners(dims: [usize; 3]) -> impl Iterator<Item = [f64; 3]> {
    (0..8).map(move |corner| {
        std::array::from_fn(|a| {
            if corner >> a & 1 == 0 {
                0.0
            } else {
                dims[a].saturating_sub(1) as f64
            }
        })
    })
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An axial series of `slices` slices 4 mm apart, 0.5 mm pixels, 10 × 8 (columns × rows).
    fn axial(slices: usize) -> SeriesGeometry {
        SeriesGeometry {
            rows: 8,
            columns: 10,
            pixel_spacing_mm: [0.5, 0.5],
            orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            slices: (0..slices)
                .map(|k| SliceGeometry {
                    file: PathBuf::from(format!("IM{k}.dcm")),
                    position: [-100.0, -80.0, 20.0 + 4.0 * k as f64],
                    pixel_header: None,
                })
                .collect(),
            frame_of_reference_uid: None,
        }
    }

    /// The NIfTI affine ITK writes for a series: LPS → RAS, same slice order.
    fn itk_affine(series: &SeriesGeometry) -> Affine {
        ras_to_lps(&series.voxel_to_lps())
    }

    #[test]
    fn voxels_land_where_the_standard_puts_them() {
        let series = axial(5);
        let a = series.voxel_to_lps();
        assert_eq!(apply(&a, [0.0; 3]), [-100.0, -80.0, 20.0]);
        assert_eq!(apply(&a, [2.0, 3.0, 4.0]), [-99.0, -78.5, 36.0]);
        assert_eq!(series.slice_spacing_mm(), Some(4.0));
        let back = apply(&inverse(&a).unwrap(), [-99.0, -78.5, 36.0]);
        assert!(back.iter().zip([2.0, 3.0, 4.0]).all(|(x, y)| (x - y).abs() < 1e-12));
    }

    #[test]
    fn an_itk_mask_pairs_through_the_scanner() {
        let series = axial(5);
        let mask = MaskGeometry {
            dims: [10, 8, 5],
            affine_ras: Some(itk_affine(&series)),
        };
        let Pairing::Scanner { mask_to_series } = pair(&mask, &series) else {
            panic!("{:?}", pair(&mask, &series))
        };
        assert_eq!(mask_to_series, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]);
    }

    #[test]
    fn a_reversed_slice_order_still_pairs_through_the_scanner() {
        let series = axial(5);
        let mut affine = itk_affine(&series);
        // Slice 0 of the mask is the series' last slice.
        affine[2][3] += 4.0 * 4.0;
        affine[2][2] = -4.0;
        let mask = MaskGeometry {
            dims: [10, 8, 5],
            affine_ras: Some(affine),
        };
        let Pairing::Scanner { mask_to_series } = pair(&mask, &series) else {
            panic!()
        };
        assert_eq!(mask_to_series[2], [0, 0, -1, 4]);
    }

    #[test]
    fn a_mask_without_an_affine_falls_back_to_the_convention() {
        let series = axial(5);
        let mask = MaskGeometry {
            dims: [10, 8, 5],
            affine_ras: None,
        };
        assert_eq!(pair(&mask, &series), Pairing::Convention { offset_mm: None });
    }

    #[test]
    fn a_shifted_affine_is_flagged_with_its_offset() {
        let series = axial(5);
        let mut affine = itk_affine(&series);
        affine[2][3] += 2.0; // half a slice
        let mask = MaskGeometry {
            dims: [10, 8, 5],
            affine_ras: Some(affine),
        };
        assert_eq!(pair(&mask, &series), Pairing::Convention { offset_mm: Some(2.0) });
        // Within a tenth of a voxel (0.05 mm in-plane) is still the same grid.
        let mut affine = itk_affine(&series);
        affine[0][3] += 0.04;
        let mask = MaskGeometry {
            dims: [10, 8, 5],
            affine_ras: Some(affine),
        };
        assert!(matches!(pair(&mask, &series), Pairing::Scanner { .. }));
    }

    #[test]
    fn another_grid_is_unpaired_with_the_distance_between_centres() {
        let series = axial(5);
        let mut affine = itk_affine(&series);
        affine[2][3] += 100.0;
        let mask = MaskGeometry {
            dims: [10, 8, 6],
            affine_ras: Some(affine),
        };
        let Pairing::Unpaired {
            offset_mm: Some(offset),
        } = pair(&mask, &series)
        else {
            panic!()
        };
        // Centres: slice 2.5 of the mask is 100 + 2 mm further along z than slice 2 of the series.
        assert!((offset - 102.0).abs() < 1e-9, "{offset}");
    }
}
