//! What a mask header says, for the `masks` table: one row per mask file, from the NIfTI
//! header alone (the voxels are never read here). The header rules are the imaging room's own
//! ([`read_mask_header`]), so a file `masks` accepts is one the functions can measure; this
//! room adds the comparison with the grid of the series it was drawn on, and how the two pair
//! (the imaging room's one rule, [`pair`]).

use std::path::Path;

use npcql_imaging::dicom::SeriesInfo;
use npcql_imaging::geometry::pair;
use npcql_imaging::mask::{MaskHeader, read_mask_header};

/// Relative tolerance when comparing a mask's spacing with its series' DICOM spacing: NIfTI
/// stores f32 and converters round DICOM's decimal strings.
const SPACING_TOLERANCE: f64 = 1e-2;

/// What a mask header says, for the `masks` table.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MaskInfo {
    pub dims: Option<[u64; 3]>,
    pub spacing: Option<[f64; 3]>,
    pub datatype: Option<String>,
    /// How the mask pairs with its series: 'scanner', 'convention' or 'unpaired'; `None`
    /// without a readable series geometry.
    pub pairing: Option<String>,
    /// How far apart the mask's grid and its series' are, mm (0 when paired in the scanner).
    pub pairing_offset_mm: Option<f64>,
    /// NULL when the header is readable, consistent and matches its series' grid.
    pub error: Option<String>,
}

/// Reads and checks the header of the mask at `path`; `series` is the series it lies on, if any.
pub fn read_mask_info(path: &Path, series: Option<&SeriesInfo>) -> MaskInfo {
    let header: MaskHeader = match read_mask_header(path) {
        Ok(header) => header,
        Err(error) => {
            return MaskInfo {
                error: Some(error.to_string()),
                ..MaskInfo::default()
            };
        }
    };
    let dims = header.dims.map(|d| d as u64);
    let error = series
        .and_then(|series| grid_mismatch(dims, header.spacing_mm, series))
        .map(|fault| format!("{}: {fault}", path.display()));
    let pairing = series
        .and_then(|series| series.geometry.as_ref())
        .map(|geometry| pair(&header.geometry(), geometry));
    MaskInfo {
        dims: Some(dims),
        spacing: Some(header.spacing_mm),
        datatype: Some(header.datatype_name().to_string()),
        pairing: pairing.as_ref().map(|p| p.name().to_string()),
        pairing_offset_mm: pairing.as_ref().and_then(|p| p.offset_mm()),
        error,
    }
}

/// How a mask's grid disagrees with its series (NIfTI axis 0 = DICOM column, 1 = row, 2 = slice).
fn grid_mismatch(dims: [u64; 3], spacing: [f64; 3], series: &SeriesInfo) -> Option<String> {
    let (Some(rows), Some(columns)) = (series.rows, series.columns) else {
        return None;
    };
    let series_dims = [u64::from(columns), u64::from(rows), series.slice_count as u64];
    if dims != series_dims {
        return Some(format!(
            "mask grid {}×{}×{} does not match its series' {}×{}×{} (columns × rows × slices)",
            dims[0], dims[1], dims[2], series_dims[0], series_dims[1], series_dims[2]
        ));
    }
    let series_spacing = [
        series.pixel_spacing_col,
        series.pixel_spacing_row,
        series.spacing_between_slices.or(series.slice_thickness),
    ];
    for ((axis, mask), dicom) in ["x", "y", "z"].iter().zip(spacing).zip(series_spacing) {
        if let Some(dicom) = dicom
            && (mask - dicom).abs() > SPACING_TOLERANCE * dicom.abs()
        {
            return Some(format!(
                "mask spacing along {axis} is {mask} mm but its series' is {dicom} mm"
            ));
        }
    }
    None
}
