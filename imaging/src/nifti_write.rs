//! NIfTI-1 images written for a training export: one header whose geometry is copied field by
//! field from the label's (`dim`, `pixdim`, `xyzt_units`, `qform_code`, `sform_code`,
//! `quatern_*`, `qoffset_*`, `srow_*`), so ITK/SimpleITK, nibabel and nnU-Net read identical
//! geometry for an image and its label.
//!
//! Written here rather than through nifti-rs's writer, which resets `scl_slope`/`scl_inter` (it
//! scales nothing itself): an int16 image in real units needs them.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::nifti_header::Header;

/// The fields of a NIfTI header that place its voxels in space, as the label stores them.
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiSpace {
    /// Grid size (x, y, z); written as a 3-D image.
    pub dims: [usize; 3],
    /// pixdim[0] is qfac (the qform's handedness), pixdim[1..=3] the spacing.
    pub pixdim: [f64; 8],
    pub xyzt_units: u8,
    pub qform_code: i32,
    pub sform_code: i32,
    /// quatern_b, quatern_c, quatern_d.
    pub quatern: [f64; 3],
    /// qoffset_x, qoffset_y, qoffset_z.
    pub qoffset: [f64; 3],
    /// srow_x, srow_y, srow_z.
    pub srow: [[f64; 4]; 3],
}

impl NiftiSpace {
    pub(crate) fn of(header: &Header, dims: [usize; 3]) -> NiftiSpace {
        NiftiSpace {
            dims,
            pixdim: header.pixdim,
            xyzt_units: header.xyzt_units,
            qform_code: header.qform_code,
            sform_code: header.sform_code,
            quatern: header.quatern,
            qoffset: header.qoffset,
            srow: header.srow,
        }
    }

    fn voxel_count(&self) -> usize {
        self.dims.iter().product()
    }
}

/// An image's voxels, x fastest, in the type written.
#[derive(Debug, Clone, Copy)]
pub enum Voxels<'a> {
    /// A label: 0 and 1.
    Uint8(&'a [u8]),
    /// Stored integers; real value = stored · slope + intercept (scl_slope, scl_inter).
    Int16 {
        values: &'a [i16],
        slope: f64,
        intercept: f64,
    },
    /// Real values.
    Float32(&'a [f32]),
}

impl Voxels<'_> {
    fn len(&self) -> usize {
        match self {
            Voxels::Uint8(v) => v.len(),
            Voxels::Int16 { values, .. } => values.len(),
            Voxels::Float32(v) => v.len(),
        }
    }

    /// NIfTI's datatype code and bits per voxel.
    fn datatype(&self) -> (i16, i16) {
        match self {
            Voxels::Uint8(_) => (2, 8),
            Voxels::Int16 { .. } => (4, 16),
            Voxels::Float32(_) => (16, 32),
        }
    }
}

/// The 348-byte NIfTI-1 header and the 4-byte extension flag (none) of an image of `voxels`
/// placed by `space`, little endian, data at byte 352.
pub fn nifti1_header(space: &NiftiSpace, voxels: &Voxels, description: &str) -> io::Result<[u8; 352]> {
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
    if voxels.len() != space.voxel_count() {
        return Err(invalid(format!("{} voxels for a {:?} grid", voxels.len(), space.dims)));
    }
    let dims: Vec<i16> = space
        .dims
        .iter()
        .map(|&d| i16::try_from(d).map_err(|_| invalid(format!("a dimension of {d} does not fit NIfTI-1"))))
        .collect::<io::Result<_>>()?;
    let mut h = [0u8; 352];
    let mut put = |at: usize, bytes: &[u8]| h[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, &348i32.to_le_bytes());
    put(38, b"r");
    let dim = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1];
    for (i, d) in dim.iter().enumerate() {
        put(40 + 2 * i, &d.to_le_bytes());
    }
    let (datatype, bitpix) = voxels.datatype();
    put(70, &datatype.to_le_bytes());
    put(72, &bitpix.to_le_bytes());
    for (i, p) in space.pixdim.iter().enumerate() {
        put(76 + 4 * i, &(*p as f32).to_le_bytes());
    }
    put(108, &352f32.to_le_bytes());
    let (slope, intercept) = match voxels {
        Voxels::Int16 { slope, intercept, .. } => (*slope, *intercept),
        _ => (1.0, 0.0),
    };
    put(112, &(slope as f32).to_le_bytes());
    put(116, &(intercept as f32).to_le_bytes());
    put(123, &[space.xyzt_units]);
    let description = description.as_bytes();
    put(148, &description[..description.len().min(79)]);
    let code = |c: i32| i16::try_from(c).unwrap_or(0).to_le_bytes();
    put(252, &code(space.qform_code));
    put(254, &code(space.sform_code));
    for (i, v) in space.quatern.iter().chain(&space.qoffset).enumerate() {
        put(256 + 4 * i, &(*v as f32).to_le_bytes());
    }
    for (r, row) in space.srow.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put(280 + 16 * r + 4 * c, &(*v as f32).to_le_bytes());
        }
    }
    put(344, b"n+1\0");
    Ok(h)
}

/// Writes `voxels` placed by `space` into `out` as a gzipped NIfTI-1 file at gzip `level`
/// (0–9), and hands `out` back after the gzip stream's end, unflushed: the caller chooses the
/// writer (the export's fingerprints what passes through it). No fsync: the export writes into
/// a temporary folder and renames it into place.
pub fn write_nifti_gz<W: Write>(
    out: W,
    space: &NiftiSpace,
    voxels: &Voxels,
    level: u32,
    description: &str,
) -> io::Result<W> {
    let header = nifti1_header(space, voxels, description)?;
    let mut out = GzEncoder::new(out, Compression::new(level));
    out.write_all(&header)?;
    match voxels {
        Voxels::Uint8(v) => out.write_all(v)?,
        Voxels::Int16 { values, .. } => write_little_endian(&mut out, values, |v| v.to_le_bytes())?,
        Voxels::Float32(values) => write_little_endian(&mut out, values, |v| v.to_le_bytes())?,
    }
    out.finish()
}

/// Writes `values` as their little-endian bytes: as they lie in memory on a little-endian
/// machine; elsewhere converted a chunk at a time (the whole image is never held twice).
fn write_little_endian<T: bytemuck::Pod, const N: usize>(
    out: &mut impl Write,
    values: &[T],
    to_le_bytes: impl Fn(T) -> [u8; N],
) -> io::Result<()> {
    if cfg!(target_endian = "little") {
        return out.write_all(bytemuck::cast_slice(values));
    }
    const CHUNK: usize = 1 << 16;
    let mut chunk = vec![0u8; CHUNK * N];
    for part in values.chunks(CHUNK) {
        let bytes = &mut chunk[..part.len() * N];
        for (slot, &value) in bytes.chunks_exact_mut(N).zip(part) {
            slot.copy_from_slice(&to_le_bytes(value));
        }
        out.write_all(bytes)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn space() -> NiftiSpace {
        NiftiSpace {
            dims: [4, 3, 2],
            pixdim: [-1.0, 0.5, 0.75, 3.0, 0.0, 0.0, 0.0, 0.0],
            xyzt_units: 2,
            qform_code: 1,
            sform_code: 1,
            quatern: [0.0, 0.0, 1.0],
            qoffset: [10.0, -20.0, 30.0],
            srow: [[-0.5, 0.0, 0.0, 10.0], [0.0, 0.75, 0.0, -20.0], [0.0, 0.0, 3.0, 30.0]],
        }
    }

    #[test]
    fn int16_carries_its_rescale_and_a_wrong_length_is_refused() {
        let values: Vec<i16> = (0..24).collect();
        let voxels = Voxels::Int16 {
            values: &values,
            slope: 2.0,
            intercept: -1024.0,
        };
        let header = nifti1_header(&space(), &voxels, "x").unwrap();
        assert_eq!(i16::from_le_bytes([header[70], header[71]]), 4);
        assert_eq!(f32::from_le_bytes(header[112..116].try_into().unwrap()), 2.0);
        assert_eq!(f32::from_le_bytes(header[116..120].try_into().unwrap()), -1024.0);
        assert!(nifti1_header(&space(), &Voxels::Uint8(&[0; 5]), "x").is_err());
    }
}
