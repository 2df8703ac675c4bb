//! The `masks` table: one row per mask file, from the NIfTI header alone (the voxels are never
//! read here), checked against the grid of the series it was drawn on.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use nifti::{NiftiHeader, NiftiType};

use crate::dicom_series::SeriesInfo;

/// Largest mask we accept: 2^30 voxels (1 GiB as uint8). A header claiming more is refused
/// before anything is allocated.
pub const MAX_VOXELS: u64 = 1 << 30;

/// Relative tolerance when comparing a mask's spacing with its series' DICOM spacing: NIfTI
/// stores f32 and converters round DICOM's decimal strings.
const SPACING_TOLERANCE: f64 = 1e-2;

/// What a mask header says, for the `masks` table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaskInfo {
    pub dims: Option<[u64; 3]>,
    pub spacing: Option<[f64; 3]>,
    pub datatype: Option<String>,
    /// NULL when the header is readable, consistent and matches its series' grid.
    pub error: Option<String>,
}

/// Reads and checks the header of the mask at `path`; `series` is the series it lies on, if any.
pub fn read_mask_header(path: &Path, series: Option<&SeriesInfo>) -> MaskInfo {
    let header = match NiftiHeader::from_file(path) {
        Ok(h) => h,
        Err(e) => return failed(path, &header_fault(&e)),
    };
    let mut info = MaskInfo {
        dims: None,
        spacing: Some([header.pixdim[1], header.pixdim[2], header.pixdim[3]].map(f64::from)),
        datatype: datatype_name(&header).map(str::to_string),
        error: None,
    };
    match check_header(path, &header) {
        Ok(dims) => info.dims = Some(dims),
        Err(fault) => {
            info.dims = Some([1, 2, 3].map(|i| u64::from(header.dim[i])));
            info.error = Some(format!("{}: {fault}", path.display()));
            return info;
        }
    }
    if let (Some(series), Some(dims), Some(spacing)) = (series, info.dims, info.spacing)
        && let Some(fault) = grid_mismatch(dims, spacing, series)
    {
        info.error = Some(format!("{}: {fault}", path.display()));
    }
    info
}

/// What went wrong reading a header, in words (the nifti crate's I/O errors print as Debug).
fn header_fault(error: &nifti::NiftiError) -> String {
    match error {
        nifti::NiftiError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "not a readable NIfTI-1 header (the file ends before its 348-byte header does)".into()
        }
        nifti::NiftiError::Io(io) => format!("not a readable NIfTI-1 header ({io})"),
        nifti::NiftiError::InvalidFormat => "not a readable NIfTI-1 header (bad magic code)".into(),
        other => format!("not a readable NIfTI-1 header ({other})"),
    }
}

fn failed(path: &Path, fault: &str) -> MaskInfo {
    MaskInfo {
        error: Some(format!("{}: {fault}", path.display())),
        ..Default::default()
    }
}

/// The datatype as SQL shows it (`uint8`, `float32`, ...).
fn datatype_name(header: &NiftiHeader) -> Option<&'static str> {
    Some(match header.data_type().ok()? {
        NiftiType::Uint8 => "uint8",
        NiftiType::Int8 => "int8",
        NiftiType::Int16 => "int16",
        NiftiType::Uint16 => "uint16",
        NiftiType::Int32 => "int32",
        NiftiType::Uint32 => "uint32",
        NiftiType::Int64 => "int64",
        NiftiType::Uint64 => "uint64",
        NiftiType::Float32 => "float32",
        NiftiType::Float64 => "float64",
        NiftiType::Float128 => "float128",
        NiftiType::Complex64 => "complex64",
        NiftiType::Complex128 => "complex128",
        NiftiType::Complex256 => "complex256",
        NiftiType::Rgb24 => "rgb24",
        NiftiType::Rgba32 => "rgba32",
    })
}

/// Bytes per voxel of the datatypes a binary mask may use.
fn mask_voxel_bytes(datatype: &str) -> Option<u64> {
    match datatype {
        "uint8" | "int8" => Some(1),
        "int16" | "uint16" => Some(2),
        "int32" | "uint32" | "float32" => Some(4),
        "int64" | "uint64" | "float64" => Some(8),
        _ => None,
    }
}

/// Checks that the header describes a readable 3D mask whose voxel data the file holds.
fn check_header(path: &Path, header: &NiftiHeader) -> Result<[u64; 3], String> {
    let rank = header.dim[0];
    if !(1..=7).contains(&rank) {
        return Err(format!("dim[0] = {rank} is not a valid rank"));
    }
    let dims = [1, 2, 3].map(|i| {
        if i <= rank as usize {
            u64::from(header.dim[i])
        } else {
            1
        }
    });
    if dims.contains(&0) {
        return Err(format!("zero dimension in {}×{}×{}", dims[0], dims[1], dims[2]));
    }
    if (4..=rank as usize).any(|i| header.dim[i] > 1) {
        return Err(format!("{}-dimensional image; a mask must be 3D", rank));
    }
    let voxels = dims.iter().product::<u64>();
    if voxels > MAX_VOXELS {
        return Err(format!(
            "dimensions {}×{}×{} exceed the {MAX_VOXELS}-voxel limit",
            dims[0], dims[1], dims[2]
        ));
    }
    for (axis, s) in ["x", "y", "z"].iter().zip(&header.pixdim[1..4]) {
        if !s.is_finite() || *s <= 0.0 {
            return Err(format!(
                "voxel spacing along {axis} is {s}; it must be a positive number"
            ));
        }
    }
    let datatype = datatype_name(header).ok_or_else(|| format!("unknown datatype code {}", header.datatype))?;
    let bytes = mask_voxel_bytes(datatype).ok_or_else(|| format!("datatype {datatype} is not supported for masks"))?;
    let vox_offset = header.vox_offset.max(352.0) as u64;
    check_length(path, vox_offset + voxels * bytes)?;
    Ok(dims)
}

/// Checks the file holds `expected` bytes of header and voxels (after gunzip for `.gz`,
/// read from the gzip ISIZE trailer so nothing is decompressed).
fn check_length(path: &Path, expected: u64) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open ({e})"))?;
    let on_disk = file.metadata().map_err(|e| format!("cannot stat ({e})"))?.len();
    let is_gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    if !is_gz {
        if on_disk < expected {
            return Err(format!("truncated: {on_disk} bytes, the header needs {expected}"));
        }
        return Ok(());
    }
    // ISIZE is the uncompressed length modulo 2^32 (RFC 1952 §2.3.1).
    let mut trailer = [0u8; 4];
    file.seek(SeekFrom::End(-4))
        .and_then(|_| file.read_exact(&mut trailer))
        .map_err(|e| format!("truncated gzip ({e})"))?;
    let isize = u64::from(u32::from_le_bytes(trailer));
    if isize < expected % (1 << 32) {
        return Err(format!(
            "truncated or corrupt gzip: {isize} bytes uncompressed, the header needs {expected}"
        ));
    }
    Ok(())
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
