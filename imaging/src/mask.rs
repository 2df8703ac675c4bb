//! Reading a NIfTI-1 or NIfTI-2 mask into a binary volume cropped to the tumour and padded by
//! one background voxel (IBSI 3.1: "pad with background so ROIs touching the edge close").

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use nifti::NiftiType;

use crate::geometry::{Affine, MaskGeometry};
use crate::nifti_header::{Header, HeaderError};
use crate::nifti_write::NiftiSpace;

/// Largest grid we read: 2^30 voxels. A header claiming more is refused before allocating.
pub const MAX_VOXELS: u64 = 1 << 30;

/// Bytes decoded per read while streaming voxels: bounds memory whatever the grid size.
const CHUNK_BYTES: usize = 1 << 20;

/// What is wrong with a mask file.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MaskFault {
    /// The file could not be opened or read (not found, permission, I/O error).
    Io(String),
    /// The file does not begin with a NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header.
    NotNifti(String),
    /// `dim` describes no 3D grid (bad rank, zero, negative or non-singleton 4th+ dimension).
    BadDimensions(String),
    /// The grid has more voxels than [`MAX_VOXELS`].
    TooLarge { dims: [u64; 3], voxels: u64 },
    /// A voxel spacing (pixdim[1..=3]) is NaN, infinite, zero or negative.
    BadSpacing([f64; 3]),
    /// A datatype a binary mask cannot use (complex, RGB, float128, unknown code).
    UnsupportedDatatype(i16),
    /// `vox_offset` points inside the header or is not a finite number.
    BadVoxOffset(f64),
    /// The file ends before the voxel data the header promises.
    Truncated { expected: u64, found: u64 },
    /// The gzip stream is corrupt.
    Corrupt(String),
    /// The file lies outside the dataset and reading outside it is turned off; it was not opened.
    OutsideDataset,
    /// scl_slope/scl_inter leave no voxel at zero: the whole grid, background included, would be tumour.
    BackgroundScaled { slope: f64, inter: f64 },
}

impl fmt::Display for MaskFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaskFault::Io(e) => write!(f, "cannot read file ({e})"),
            MaskFault::NotNifti(e) => write!(f, "not a readable NIfTI header ({e})"),
            MaskFault::BadDimensions(e) => write!(f, "bad dimensions: {e}"),
            MaskFault::TooLarge { dims, voxels } => write!(
                f,
                "dimensions {}×{}×{} exceed the {MAX_VOXELS}-voxel limit ({voxels} voxels)",
                dims[0], dims[1], dims[2]
            ),
            MaskFault::BadSpacing(s) => {
                write!(f, "bad voxel spacing {} × {} × {} mm", s[0], s[1], s[2])
            }
            MaskFault::UnsupportedDatatype(code) => {
                write!(f, "unsupported datatype code {code} for a mask")
            }
            MaskFault::BadVoxOffset(o) => write!(f, "bad vox_offset {o}"),
            MaskFault::Truncated { expected, found } => write!(
                f,
                "truncated: header promises {expected} bytes of header and voxels, file holds {found}"
            ),
            MaskFault::Corrupt(e) => write!(f, "corrupt gzip stream ({e})"),
            MaskFault::BackgroundScaled { slope, inter } => write!(
                f,
                "scl_slope {slope} and scl_inter {inter} leave no voxel at zero: the background would be tumour"
            ),
            MaskFault::OutsideDataset => {
                write!(f, "outside the dataset folder, and reading outside it is turned off")
            }
        }
    }
}

/// A mask that could not be read: the file and its fault. Displays as `<path>: <fault>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskError {
    /// The file that was being read.
    pub path: PathBuf,
    /// What is wrong with it.
    pub fault: MaskFault,
}

impl fmt::Display for MaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.fault)
    }
}

impl std::error::Error for MaskError {}

/// A binary tumour mask, cropped to its bounding box plus one background voxel on every side.
///
/// Axes are NIfTI's (x = axis 0 = DICOM column, y = row, z = slice); `voxels` is x-fastest.
/// An empty mask has `dims == [0, 0, 0]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskVolume {
    /// Size of the padded crop (x, y, z).
    pub dims: [usize; 3],
    /// 1 = tumour, 0 = background, x fastest.
    pub voxels: Vec<u8>,
    /// Source-grid index of crop voxel (0, 0, 0); -1 where the tumour touches the low edge.
    pub offset: [i64; 3],
    /// Voxel spacing in mm: NIfTI pixdim[1..=3], read as the stored f32.
    pub spacing_mm: [f64; 3],
    /// Source-grid voxel index (i, j, k, 1) → world mm (rows x, y, z of the 4×4 affine).
    pub affine: [[f64; 4]; 3],
    /// Size of the source grid.
    pub source_dims: [usize; 3],
    /// Number of tumour voxels.
    pub voxel_count: u64,
}

impl MaskVolume {
    /// Builds a mask from a source grid of `dims` where `is_tumour(x, y, z)` says which voxels
    /// belong to the tumour; the affine is diag(spacing) (NIfTI method 1).
    pub fn from_fn(
        dims: [usize; 3],
        spacing_mm: [f64; 3],
        mut is_tumour: impl FnMut(usize, usize, usize) -> bool,
    ) -> MaskVolume {
        let mut runs = Vec::new();
        for z in 0..dims[2] {
            for y in 0..dims[1] {
                push_runs(&mut runs, y, z, (0..dims[0]).map(|x| is_tumour(x, y, z)));
            }
        }
        MaskVolume::from_runs(dims, spacing_mm, diagonal_affine(spacing_mm), &runs)
    }

    /// Builds a mask on a given grid whose tumour lies inside the box of `size` voxels at `lo`
    /// (source-grid indices), where `is_tumour(x, y, z)` says which voxels belong to it.
    pub fn from_box(
        source_dims: [usize; 3],
        spacing_mm: [f64; 3],
        affine: [[f64; 4]; 3],
        lo: [usize; 3],
        size: [usize; 3],
        mut is_tumour: impl FnMut(usize, usize, usize) -> bool,
    ) -> MaskVolume {
        let mut runs = Vec::new();
        for z in lo[2]..lo[2] + size[2] {
            for y in lo[1]..lo[1] + size[1] {
                let first = runs.len();
                push_runs(&mut runs, y, z, (lo[0]..lo[0] + size[0]).map(|x| is_tumour(x, y, z)));
                for run in &mut runs[first..] {
                    run.x0 += lo[0];
                    run.x1 += lo[0];
                }
            }
        }
        MaskVolume::from_runs(source_dims, spacing_mm, affine, &runs)
    }

    /// Builds the padded crop from row runs `[y, z, x_start, x_end)` (sorted by z then y).
    fn from_runs(source_dims: [usize; 3], spacing_mm: [f64; 3], affine: [[f64; 4]; 3], runs: &[Run]) -> MaskVolume {
        let mut volume = MaskVolume {
            dims: [0; 3],
            voxels: Vec::new(),
            offset: [0; 3],
            spacing_mm,
            affine,
            source_dims,
            voxel_count: 0,
        };
        if runs.is_empty() {
            return volume;
        }
        let (mut lo, mut hi) = ([usize::MAX; 3], [0usize; 3]);
        for r in runs {
            lo = [lo[0].min(r.x0), lo[1].min(r.y), lo[2].min(r.z)];
            hi = [hi[0].max(r.x1 - 1), hi[1].max(r.y), hi[2].max(r.z)];
        }
        let dims = [0, 1, 2].map(|a| hi[a] - lo[a] + 3);
        let mut voxels = vec![0u8; dims[0] * dims[1] * dims[2]];
        let mut count = 0u64;
        for r in runs {
            // Every index is taken relative to the crop before it is added: `lo` can exceed the
            // row's start in the crop (a small tumour far from the grid's origin).
            let row = ((r.z - lo[2] + 1) * dims[1] + (r.y - lo[1] + 1)) * dims[0];
            let (x0, x1) = (r.x0 - lo[0] + 1, r.x1 - lo[0] + 1);
            voxels[row + x0..row + x1].fill(1);
            count += (r.x1 - r.x0) as u64;
        }
        volume.dims = dims;
        volume.voxels = voxels;
        volume.offset = [0, 1, 2].map(|a| lo[a] as i64 - 1);
        volume.voxel_count = count;
        volume
    }

    /// Whether crop voxel (x, y, z) is tumour; false outside the crop.
    pub fn get(&self, x: i64, y: i64, z: i64) -> bool {
        let [nx, ny, nz] = self.dims.map(|d| d as i64);
        (0..nx).contains(&x)
            && (0..ny).contains(&y)
            && (0..nz).contains(&z)
            && self.voxels[((z * ny + y) * nx + x) as usize] != 0
    }

    /// Volume of one voxel, mm³.
    pub fn voxel_volume_mm3(&self) -> f64 {
        self.spacing_mm.iter().product()
    }

    /// The tumour voxels as indices (column, row, slice) of a series grid of `dims`, through a
    /// pairing's `mask_to_series` map; voxels the map puts outside the grid are left out.
    pub fn voxels_in_series(&self, mask_to_series: &[[i64; 4]; 3], dims: [usize; 3]) -> Vec<[usize; 3]> {
        let [nx, ny, nz] = self.dims;
        let m = mask_to_series;
        let mut out = Vec::with_capacity(self.voxel_count as usize);
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    if self.voxels[(z * ny + y) * nx + x] == 0 {
                        continue;
                    }
                    let v = [
                        x as i64 + self.offset[0],
                        y as i64 + self.offset[1],
                        z as i64 + self.offset[2],
                    ];
                    let s: [i64; 3] =
                        std::array::from_fn(|r| m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2] + m[r][3]);
                    if (0..3).all(|a| (0..dims[a] as i64).contains(&s[a])) {
                        out.push(s.map(|v| v as usize));
                    }
                }
            }
        }
        out
    }

    /// Mean tumour-voxel centre through the affine: world mm in the NIfTI's RAS+ convention
    /// (negate x and y for DICOM LPS); `None` for an empty mask.
    pub fn centroid_mm(&self) -> Option<[f64; 3]> {
        if self.voxel_count == 0 {
            return None;
        }
        let [nx, ny, _] = self.dims;
        // Integer sums are exact; the mean of crop indices, then the crop's offset.
        let mut sum = [0u64; 3];
        for (row, voxels) in self.voxels.chunks_exact(nx).enumerate() {
            let (y, z) = ((row % ny) as u64, (row / ny) as u64);
            for (x, _) in voxels.iter().enumerate().filter(|(_, v)| **v != 0) {
                sum = [sum[0] + x as u64, sum[1] + y, sum[2] + z];
            }
        }
        let index: [f64; 3] = std::array::from_fn(|a| sum[a] as f64 / self.voxel_count as f64 + self.offset[a] as f64);
        Some(crate::geometry::apply(&self.affine, index))
    }
}

/// One run of tumour voxels `x0..x1` in row (y, z) of the source grid.
#[derive(Debug, Clone, Copy)]
struct Run {
    y: usize,
    z: usize,
    x0: usize,
    x1: usize,
}

/// Appends the runs of `true` in one row.
fn push_runs(runs: &mut Vec<Run>, y: usize, z: usize, row: impl Iterator<Item = bool>) {
    let mut start = None;
    let mut x = 0;
    for inside in row {
        match (inside, start) {
            (true, None) => start = Some(x),
            (false, Some(x0)) => {
                runs.push(Run { y, z, x0, x1: x });
                start = None;
            }
            _ => {}
        }
        x += 1;
    }
    if let Some(x0) = start {
        runs.push(Run { y, z, x0, x1: x });
    }
}

fn diagonal_affine(s: [f64; 3]) -> [[f64; 4]; 3] {
    [[s[0], 0.0, 0.0, 0.0], [0.0, s[1], 0.0, 0.0], [0.0, 0.0, s[2], 0.0]]
}

/// Reads the mask at `path` (NIfTI-1, `.nii` or gzipped): any non-zero voxel (after
/// scl_slope/scl_inter when set) is tumour; NaN counts as background.
///
/// The header is checked before any voxel is read, and voxels are streamed in 1 MiB chunks,
/// so memory is bounded by the tumour's bounding box whatever the header claims.
pub fn read_mask(path: impl AsRef<Path>) -> Result<MaskVolume, MaskError> {
    read_mask_selecting(path, MaskSelection::NonZero)
}

/// Which stored values are tumour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaskSelection {
    /// Any non-zero value (the dataset's masks hold 1, 255 or 1.0).
    NonZero,
    /// Only voxels of this value (after scl_slope/scl_inter): one label of a multi-label mask.
    Label(f64),
}

/// [`read_mask`] with the tumour chosen by `selection`.
pub fn read_mask_selecting(path: impl AsRef<Path>, selection: MaskSelection) -> Result<MaskVolume, MaskError> {
    let path = path.as_ref();
    read_mask_inner(path, selection).map_err(|fault| MaskError {
        path: path.to_path_buf(),
        fault,
    })
}

/// The checked facts of a mask header.
struct Layout {
    dims: [usize; 3],
    spacing_mm: [f64; 3],
    datatype: NiftiType,
    big_endian: bool,
    /// (slope, intercept) when the stored values are scaled.
    scaling: Option<(f64, f64)>,
    vox_offset: u64,
    affine: [[f64; 4]; 3],
}

/// A mask file opened and its header parsed, gzip recognised by content, not by name.
struct OpenMask {
    reader: Box<dyn Read>,
    header: Header,
    gzipped: bool,
    file_len: u64,
}

fn open_mask(path: &Path) -> Result<OpenMask, MaskFault> {
    let io_fault = |e: io::Error| MaskFault::Io(e.to_string());
    let file = File::open(path).map_err(io_fault)?;
    let file_len = file.metadata().map_err(io_fault)?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    // Detect gzip by its magic bytes, not the name: `.nii` files are sometimes gzipped.
    let gzipped = reader_starts_with(&mut reader, &[0x1f, 0x8b]).map_err(io_fault)?;
    let mut reader: Box<dyn Read> = if gzipped {
        Box::new(MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let header = Header::read(&mut reader).map_err(|e| match e {
        HeaderError::Truncated { expected, found } => MaskFault::Truncated {
            expected,
            found: if gzipped { found } else { file_len },
        },
        HeaderError::Io(e) if gzipped => MaskFault::Corrupt(e.to_string()),
        HeaderError::Io(e) => MaskFault::Io(e.to_string()),
        HeaderError::NotNifti(why) => MaskFault::NotNifti(why),
    })?;
    Ok(OpenMask {
        reader,
        header,
        gzipped,
        file_len,
    })
}

/// What a mask header says, checked as [`read_mask`] checks it, without reading a voxel.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskHeader {
    /// Grid size (x, y, z).
    pub dims: [usize; 3],
    /// Voxel spacing in mm (pixdim[1..=3]).
    pub spacing_mm: [f64; 3],
    /// The stored voxel type.
    pub datatype: NiftiType,
    /// 1 or 2.
    pub nifti_version: u8,
    /// Voxel → RAS mm from the sform (else the qform); `None` when both codes are 0.
    pub affine: Option<Affine>,
    /// The header's geometry fields as stored, for an image written on this mask's grid.
    pub space: NiftiSpace,
}

impl MaskHeader {
    /// The datatype as SQL shows it (`uint8`, `float32`, ...).
    pub fn datatype_name(&self) -> &'static str {
        match self.datatype {
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
        }
    }

    /// What the header says of the mask's place in space, for [`crate::geometry::pair`].
    pub fn geometry(&self) -> MaskGeometry {
        MaskGeometry {
            dims: self.dims,
            affine_ras: self.affine,
        }
    }
}

/// Reads and checks the header of the mask at `path`: the same rules as [`read_mask`], and the
/// file must hold the voxels the header promises (for gzip, by the ISIZE trailer, so nothing
/// is decompressed past the header).
pub fn read_mask_header(path: impl AsRef<Path>) -> Result<MaskHeader, MaskError> {
    let path = path.as_ref();
    let with_path = |fault| MaskError {
        path: path.to_path_buf(),
        fault,
    };
    let mask = open_mask(path).map_err(with_path)?;
    let layout = check_header(&mask.header).map_err(with_path)?;
    let expected = layout.expected_file_bytes();
    let found = if mask.gzipped {
        gzip_uncompressed_len(path).map_err(|e| with_path(MaskFault::Corrupt(e.to_string())))?
    } else {
        mask.file_len
    };
    // ISIZE is the uncompressed length modulo 2^32 (RFC 1952 §2.3.1).
    let short = if mask.gzipped {
        found < expected % (1 << 32)
    } else {
        found < expected
    };
    if short {
        return Err(with_path(MaskFault::Truncated { expected, found }));
    }
    Ok(MaskHeader {
        dims: layout.dims,
        spacing_mm: layout.spacing_mm,
        datatype: layout.datatype,
        nifti_version: mask.header.version,
        affine: (mask.header.sform_code > 0 || mask.header.qform_code > 0).then_some(layout.affine),
        space: NiftiSpace::of(&mask.header, layout.dims),
    })
}

/// The gzip ISIZE trailer: the uncompressed length modulo 2^32.
fn gzip_uncompressed_len(path: &Path) -> io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path)?;
    let mut trailer = [0u8; 4];
    file.seek(SeekFrom::End(-4))?;
    file.read_exact(&mut trailer)?;
    Ok(u64::from(u32::from_le_bytes(trailer)))
}

fn read_mask_inner(path: &Path, selection: MaskSelection) -> Result<MaskVolume, MaskFault> {
    let OpenMask {
        mut reader,
        header,
        gzipped,
        file_len,
    } = open_mask(path)?;
    let layout = check_header(&header)?;
    let expected = layout.expected_file_bytes();
    // An uncompressed file must hold every promised byte: refuse before reading anything.
    if !gzipped && file_len < expected {
        return Err(MaskFault::Truncated {
            expected,
            found: file_len,
        });
    }
    let stream_fault = |e: io::Error, consumed: u64| match e.kind() {
        io::ErrorKind::UnexpectedEof => MaskFault::Truncated {
            expected,
            found: consumed,
        },
        _ if gzipped => MaskFault::Corrupt(e.to_string()),
        _ => MaskFault::Io(e.to_string()),
    };
    let skip = layout.vox_offset - header.size;
    let skipped = io::copy(&mut (&mut reader).take(skip), &mut io::sink()).map_err(|e| stream_fault(e, header.size))?;
    if skipped < skip {
        return Err(MaskFault::Truncated {
            expected,
            found: header.size + skipped,
        });
    }
    let runs = read_runs(&mut reader, &layout, selection)
        .map_err(|(e, consumed)| stream_fault(e, layout.vox_offset + consumed))?;
    // Scaling that leaves no voxel at zero (scl_inter 1 on a 0/1 mask, say) would measure the
    // whole grid as tumour without a word: refuse it.
    if layout.scaling.is_some() {
        let tumour: usize = runs.iter().map(|r| r.x1 - r.x0).sum();
        if tumour == layout.dims.iter().product::<usize>() {
            return Err(MaskFault::BackgroundScaled {
                slope: header.scl_slope,
                inter: header.scl_inter,
            });
        }
    }
    Ok(MaskVolume::from_runs(
        layout.dims,
        layout.spacing_mm,
        layout.affine,
        &runs,
    ))
}

impl Layout {
    /// Header, extension bytes and voxels: what the file (after gunzip) must hold.
    fn expected_file_bytes(&self) -> u64 {
        // Cannot overflow: vox_offset ≤ 1e9 and voxels ≤ 2^30 of ≤ 8 bytes (checked).
        self.vox_offset + self.dims.iter().map(|&d| d as u64).product::<u64>() * voxel_bytes(self.datatype) as u64
    }
}

fn reader_starts_with(reader: &mut BufReader<File>, magic: &[u8]) -> io::Result<bool> {
    use std::io::BufRead;
    Ok(reader.fill_buf()?.starts_with(magic))
}

/// Validates everything the reader relies on, before any voxel is read.
fn check_header(h: &Header) -> Result<Layout, MaskFault> {
    if !h.single_file_magic() {
        return Err(MaskFault::NotNifti(format!(
            "magic is not \"n+{}\" (a detached .hdr/.img pair is not supported)",
            h.version
        )));
    }
    let rank = h.dim[0];
    if !(1..=7).contains(&rank) {
        return Err(MaskFault::BadDimensions(format!("dim[0] = {rank} is not a rank")));
    }
    let rank = rank as usize;
    let dim = |i: usize| if i <= rank { h.dim[i] } else { 1 };
    let signed = [dim(1), dim(2), dim(3)];
    if signed.iter().any(|&d| d <= 0) {
        return Err(MaskFault::BadDimensions(format!(
            "{} × {} × {}",
            signed[0], signed[1], signed[2]
        )));
    }
    if (4..=rank).any(|i| h.dim[i] != 1) {
        return Err(MaskFault::BadDimensions(format!(
            "{rank}-dimensional image with {} volumes; a mask is 3D",
            (4..=rank)
                .map(|i| h.dim[i].max(0) as u64)
                .fold(1u64, u64::saturating_mul)
        )));
    }
    let unsigned = signed.map(|d| d as u64);
    let voxels = unsigned.iter().fold(1u64, |n, &d| n.saturating_mul(d));
    if voxels > MAX_VOXELS {
        return Err(MaskFault::TooLarge { dims: unsigned, voxels });
    }
    let dims = unsigned.map(|d| d as usize);
    let spacing_mm = [h.pixdim[1], h.pixdim[2], h.pixdim[3]];
    if spacing_mm.iter().any(|s| !s.is_finite() || *s <= 0.0) {
        return Err(MaskFault::BadSpacing(spacing_mm));
    }
    let datatype = h
        .data_type()
        .filter(|t| supported(*t))
        .ok_or(MaskFault::UnsupportedDatatype(h.datatype))?;
    if !h.vox_offset.is_finite() || h.vox_offset < h.size as f64 || h.vox_offset > 1e9 {
        return Err(MaskFault::BadVoxOffset(h.vox_offset));
    }
    let (slope, inter) = (h.scl_slope, h.scl_inter);
    // NIfTI: slope 0 means "no scaling"; slope 1, intercept 0 is the identity.
    let scaling = (slope != 0.0 && slope.is_finite() && (slope != 1.0 || inter != 0.0)).then_some((slope, inter));
    Ok(Layout {
        dims,
        spacing_mm,
        datatype,
        big_endian: h.big_endian,
        scaling,
        vox_offset: h.vox_offset as u64,
        affine: header_affine(h, spacing_mm),
    })
}

fn supported(t: NiftiType) -> bool {
    use NiftiType::*;
    matches!(
        t,
        Uint8 | Int8 | Int16 | Uint16 | Int32 | Uint32 | Int64 | Uint64 | Float32 | Float64
    )
}

fn voxel_bytes(t: NiftiType) -> usize {
    use NiftiType::*;
    match t {
        Uint8 | Int8 => 1,
        Int16 | Uint16 => 2,
        Int32 | Uint32 | Float32 => 4,
        _ => 8,
    }
}

/// Voxel index → world mm: sform when sform_code > 0, else qform when qform_code > 0
/// (NIfTI-1 method 2), else diag(pixdim) (method 1).
fn header_affine(h: &Header, s: [f64; 3]) -> Affine {
    if h.sform_code > 0 {
        return h.srow;
    }
    if h.qform_code <= 0 {
        return diagonal_affine(s);
    }
    let [b, c, d] = h.quatern;
    let a = (1.0 - (b * b + c * c + d * d)).max(0.0).sqrt();
    let qfac = if h.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
    // Rotation matrix of the unit quaternion (a, b, c, d), as in nifti1.h.
    let r = [
        [
            a * a + b * b - c * c - d * d,
            2.0 * (b * c - a * d),
            2.0 * (b * d + a * c),
        ],
        [
            2.0 * (b * c + a * d),
            a * a + c * c - b * b - d * d,
            2.0 * (c * d - a * b),
        ],
        [
            2.0 * (b * d - a * c),
            2.0 * (c * d + a * b),
            a * a + d * d - c * c - b * b,
        ],
    ];
    let scale = [s[0], s[1], s[2] * qfac];
    let offset = h.qoffset;
    [0, 1, 2].map(|row| {
        [
            r[row][0] * scale[0],
            r[row][1] * scale[1],
            r[row][2] * scale[2],
            offset[row],
        ]
    })
}

/// Streams the voxel data in whole rows and returns the runs of tumour voxels.
/// On failure, returns the error and how many voxel bytes were consumed.
fn read_runs(reader: &mut dyn Read, layout: &Layout, selection: MaskSelection) -> Result<Vec<Run>, (io::Error, u64)> {
    let [nx, ny, nz] = layout.dims;
    let bpv = voxel_bytes(layout.datatype);
    let row_bytes = nx * bpv;
    let rows_per_chunk = (CHUNK_BYTES / row_bytes).max(1);
    let mut chunk = vec![0u8; rows_per_chunk * row_bytes];
    let mut runs = Vec::new();
    let total_rows = ny * nz;
    let mut row_index = 0;
    let mut consumed = 0u64;
    while row_index < total_rows {
        let rows = rows_per_chunk.min(total_rows - row_index);
        let buf = &mut chunk[..rows * row_bytes];
        reader.read_exact(buf).map_err(|e| (e, consumed))?;
        consumed += buf.len() as u64;
        for (r, row) in buf.chunks_exact(row_bytes).enumerate() {
            let (y, z) = ((row_index + r) % ny, (row_index + r) / ny);
            scan_row(&mut runs, y, z, row, layout, selection);
        }
        row_index += rows;
    }
    Ok(runs)
}

/// Appends the tumour runs of one raw row.
fn scan_row(runs: &mut Vec<Run>, y: usize, z: usize, row: &[u8], layout: &Layout, selection: MaskSelection) {
    use NiftiType::*;
    let is_float = matches!(layout.datatype, Float32 | Float64);
    if layout.scaling.is_none() && !is_float && selection == MaskSelection::NonZero {
        // An unscaled integer is non-zero iff one of its bytes is: skip empty rows fast.
        if all_zero(row) {
            return;
        }
        let bpv = voxel_bytes(layout.datatype);
        push_runs(runs, y, z, row.chunks_exact(bpv).map(|v| v.iter().any(|&b| b != 0)));
        return;
    }
    let tumour = |v: f64| {
        let v = match layout.scaling {
            Some((slope, inter)) => v * slope + inter,
            None => v,
        };
        match selection {
            MaskSelection::NonZero => v != 0.0 && !v.is_nan(),
            MaskSelection::Label(label) => v == label,
        }
    };
    let bpv = voxel_bytes(layout.datatype);
    let be = layout.big_endian;
    push_runs(
        runs,
        y,
        z,
        row.chunks_exact(bpv).map(|b| tumour(decode(layout.datatype, b, be))),
    );
}

/// Whether every byte is 0; OR-folds 64-byte blocks so the compiler vectorises the scan.
fn all_zero(bytes: &[u8]) -> bool {
    let mut blocks = bytes.chunks_exact(64);
    for block in blocks.by_ref() {
        if block.iter().fold(0u8, |acc, &b| acc | b) != 0 {
            return false;
        }
    }
    blocks.remainder().iter().all(|&b| b == 0)
}

/// One stored voxel value as f64.
fn decode(t: NiftiType, b: &[u8], big_endian: bool) -> f64 {
    use NiftiType::*;
    macro_rules! num {
        ($ty:ty) => {{
            let bytes = b.try_into().expect("chunk has the voxel's size");
            if big_endian {
                <$ty>::from_be_bytes(bytes) as f64
            } else {
                <$ty>::from_le_bytes(bytes) as f64
            }
        }};
    }
    match t {
        Uint8 => b[0] as f64,
        Int8 => b[0] as i8 as f64,
        Int16 => num!(i16),
        Uint16 => num!(u16),
        Int32 => num!(i32),
        Uint32 => num!(u32),
        Int64 => num!(i64),
        Uint64 => num!(u64),
        Float32 => num!(f32),
        _ => num!(f64),
    }
}
