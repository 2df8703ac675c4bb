//! A DICOM series' pixels as a volume in real units: the slices in [`SeriesGeometry`]'s order
//! (position along the normal), each decoded by dicom-rs's `dicom-pixeldata` (uncompressed
//! little and big endian, deflate, the JPEG family; pure Rust) or, for RLE, here; stored values
//! masked to BitsStored and sign-extended when PixelRepresentation says so, then the Modality LUT applied:
//! value = stored · RescaleSlope + RescaleIntercept (PS3.3 C.11.1.1.2; 1 and 0 when absent),
//! per slice, in f64, as SimpleITK (GDCM) and PyRadiomics read them. Philips' private scale
//! (2005,100E)/(2005,100D) is not applied (dcm2niix applies it; SimpleITK does not).
//!
//! Each file passes the header reader's length guard before dicom-rs reads it; a slice larger
//! than [`MAX_SLICE_PIXELS`] is refused before anything is decoded.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::PixelDecoder;

use super::{SliceFault, guard, int, text};
use crate::cache::FileVersion;
use crate::geometry::{PixelHeader, SeriesGeometry};

/// Largest slice read (pixels): 4096 × 4096, four times the largest MR matrix; a corrupt
/// Rows × Columns (up to 65535²) would otherwise ask for 32 GiB.
pub const MAX_SLICE_PIXELS: usize = 4096 * 4096;

/// How a renderer shows the values: MONOCHROME1 draws low values white. The values themselves
/// are never inverted (features need the real ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Photometric {
    Monochrome1,
    Monochrome2,
}

/// The part of a series to read: column, row and slice ranges (slices in position order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub columns: Range<usize>,
    pub rows: Range<usize>,
    pub slices: Range<usize>,
}

impl Region {
    /// The given slices, whole.
    pub fn slices(geometry: &SeriesGeometry, slices: Range<usize>) -> Region {
        Region {
            columns: 0..geometry.columns as usize,
            rows: 0..geometry.rows as usize,
            slices,
        }
    }

    /// Every slice, whole.
    pub fn whole(geometry: &SeriesGeometry) -> Region {
        Region::slices(geometry, 0..geometry.slices.len())
    }
}

/// A region of a series as one volume of real values (or, as `PixelVolume<i16>` from
/// [`read_stored_int16`], of the stored integers behind them).
#[derive(Debug, Clone, PartialEq)]
pub struct PixelVolume<V = f64> {
    /// Columns × rows × slices read: a mask's axes 0, 1, 2 under the dataset's convention.
    pub dims: [usize; 3],
    /// The series voxel (column, row, slice in position order) that is voxel (0, 0, 0) here.
    pub origin: [usize; 3],
    /// The voxels, column fastest, then row, then slice: real values (Modality LUT applied),
    /// or the stored integers in a `PixelVolume<i16>`.
    pub values: Vec<V>,
    /// The series' PhotometricInterpretation.
    pub photometric: Photometric,
    /// Over every pixel of the slices read, the region's or not: what a viewer's window or a
    /// diagnostic of "the image" needs without converting every pixel.
    pub slices_minimum: f64,
    pub slices_maximum: f64,
    pub slices_mean: f64,
    /// The Modality LUT when every slice read shares one, with the stored values' range over
    /// those slices: what an int16 image with scl_slope/scl_inter needs to hold them exactly.
    pub common_rescale: Option<CommonRescale>,
}

/// One RescaleSlope/RescaleIntercept for a whole series: real = stored · slope + intercept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommonRescale {
    pub slope: f64,
    pub intercept: f64,
    pub stored_minimum: i64,
    pub stored_maximum: i64,
}

impl PixelVolume {
    /// The value at column `i`, row `j`, slice `k` of this volume (not of the series).
    pub fn get(&self, i: usize, j: usize, k: usize) -> f64 {
        self.values[(k * self.dims[1] + j) * self.dims[0] + i]
    }
}

/// Why a series' pixels cannot be read: the file (or the series folder) and the fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {fault}", file.display())]
pub struct PixelError {
    pub file: PathBuf,
    pub fault: PixelFault,
}

/// What is wrong with a slice's pixels, or the series as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PixelFault {
    /// The series' headers give no grid (the header reader's fault, or no positions).
    #[error("no series geometry ({0})")]
    NoGeometry(String),
    /// The slice range asked for is not inside the series.
    #[error("slices {start}..{end} asked for, the series has {count}")]
    SliceRange { start: usize, end: usize, count: usize },
    /// The columns or rows asked for are not inside the series' grid.
    #[error("columns {columns:?} × rows {rows:?} asked for, the series has {series_columns} × {series_rows}")]
    Region {
        columns: Range<usize>,
        rows: Range<usize>,
        series_columns: u32,
        series_rows: u32,
    },
    /// The header reader's fault (the length guard, an unreadable file).
    #[error("{0}")]
    Slice(SliceFault),
    /// A transfer syntax with no decoder here.
    #[error("unsupported transfer syntax {name} ({uid})")]
    UnsupportedTransferSyntax { uid: String, name: &'static str },
    #[error("no {0}")]
    Missing(&'static str),
    #[error("BitsAllocated {0}, only 8 and 16 are read")]
    BitsAllocated(i64),
    #[error("BitsStored {stored} with BitsAllocated {allocated}")]
    BitsStored { stored: i64, allocated: i64 },
    #[error("SamplesPerPixel {0}, only 1 (greyscale) is read")]
    SamplesPerPixel(i64),
    #[error("PhotometricInterpretation {0}, only MONOCHROME1 and MONOCHROME2 are read")]
    PhotometricInterpretation(String),
    #[error("PhotometricInterpretation {found} differs from the series' {series}")]
    MixedPhotometric { found: String, series: String },
    #[error("NumberOfFrames {0}, only single-frame slices are read")]
    MultiFrame(i64),
    /// Rows/Columns differ from the series' grid.
    #[error("{rows} rows × {columns} columns where the series has {series_rows} × {series_columns}")]
    Grid {
        rows: i64,
        columns: i64,
        series_rows: u32,
        series_columns: u32,
    },
    #[error("{rows} rows × {columns} columns is more than the {max} pixels a slice may have")]
    TooLarge { rows: i64, columns: i64, max: usize },
    #[error("RescaleSlope {slope} / RescaleIntercept {intercept} is not a finite linear map")]
    Rescale { slope: f64, intercept: f64 },
    /// Fewer decoded bytes than Rows × Columns × BitsAllocated / 8.
    #[error("truncated pixel data: {found} bytes where {needed} are needed")]
    Truncated { needed: usize, found: usize },
    /// dicom-rs could not decode the pixel data.
    #[error("pixel data not decodable ({0})")]
    Decode(String),
}

/// The series' geometry from its headers, or the fault that keeps its pixels unreadable.
pub fn series_geometry(dir: &Path) -> Result<SeriesGeometry, PixelError> {
    let info = super::read_series_remembered(dir, None);
    info.geometry.ok_or_else(|| PixelError {
        file: dir.to_path_buf(),
        fault: PixelFault::NoGeometry(
            info.error
                .unwrap_or_else(|| "a slice lacks its position, orientation or spacing".to_string()),
        ),
    })
}

/// Every slice of the series.
pub fn read_volume(geometry: &SeriesGeometry) -> Result<PixelVolume, PixelError> {
    read_slices(geometry, 0..geometry.slices.len())
}

/// [`read_volume`], handing each slice file's version and bytes to `each_file` as they are
/// read, in slice order (see [`read_stored_int16`]).
pub fn read_volume_with_files(
    geometry: &SeriesGeometry,
    each_file: &mut dyn FnMut(&FileVersion, &[u8]),
) -> Result<PixelVolume, PixelError> {
    read_region_as(geometry, &Region::whole(geometry), each_file)
}

/// Only the slices `slices` (indices in position order): the others are not opened.
pub fn read_slices(geometry: &SeriesGeometry, slices: Range<usize>) -> Result<PixelVolume, PixelError> {
    read_region(geometry, &Region::slices(geometry, slices))
}

/// Every slice of the series as its stored integers, before the Modality LUT, when one
/// rescale covers every slice and every stored value fits int16: what an export writes as
/// int16 with that rescale, copied as it lies, never converted to a real value and back.
/// `Ok(None)` otherwise (slices under different rescales, or unsigned values above 32767):
/// their real values ([`read_volume`]) are what is meaningful then. Each slice file's version
/// (as opened) and bytes go to `each_file` as they are read, in slice order: an export
/// fingerprints its sources from them rather than reading every file again.
pub fn read_stored_int16(
    geometry: &SeriesGeometry,
    each_file: &mut dyn FnMut(&FileVersion, &[u8]),
) -> Result<Option<(PixelVolume<i16>, CommonRescale)>, PixelError> {
    let volume: PixelVolume<i16> = read_region_as(geometry, &Region::whole(geometry), each_file)?;
    let fits = |r: &CommonRescale| r.stored_minimum >= i64::from(i16::MIN) && r.stored_maximum <= i64::from(i16::MAX);
    // The values were narrowed without a check, a slice at a time: kept only when the stored
    // range over every slice shows that nothing was cut.
    Ok(volume.common_rescale.filter(fits).map(|rescale| (volume, rescale)))
}

/// What a volume holds a voxel as: its real value, or the stored integer.
pub trait Voxel: Copy {
    fn of(stored: i32, slope: f64, intercept: f64) -> Self;
}

impl Voxel for f64 {
    #[inline]
    fn of(stored: i32, slope: f64, intercept: f64) -> f64 {
        f64::from(stored) * slope + intercept
    }
}

/// Narrowed as it is: exact only within int16, which [`read_stored_int16`] checks.
impl Voxel for i16 {
    #[inline]
    fn of(stored: i32, _slope: f64, _intercept: f64) -> i16 {
        stored as i16
    }
}

/// Only `region`: the other slices are not opened, and only the region's pixels of the slices
/// read are converted to real values.
pub fn read_region(geometry: &SeriesGeometry, region: &Region) -> Result<PixelVolume, PixelError> {
    read_region_as(geometry, region, &mut |_, _| {})
}

fn read_region_as<V: Voxel>(
    geometry: &SeriesGeometry,
    region: &Region,
    each_file: &mut dyn FnMut(&FileVersion, &[u8]),
) -> Result<PixelVolume<V>, PixelError> {
    let count = geometry.slices.len();
    let (columns, rows) = (geometry.columns as usize, geometry.rows as usize);
    let series_folder = || {
        geometry
            .slices
            .first()
            .and_then(|s| s.file.parent())
            .map_or_else(PathBuf::new, Path::to_path_buf)
    };
    let Region {
        columns: region_columns,
        rows: region_rows,
        slices,
    } = region;
    if slices.start >= slices.end || slices.end > count {
        return Err(PixelError {
            file: series_folder(),
            fault: PixelFault::SliceRange {
                start: slices.start,
                end: slices.end,
                count,
            },
        });
    }
    if region_columns.start >= region_columns.end
        || region_columns.end > columns
        || region_rows.start >= region_rows.end
        || region_rows.end > rows
    {
        return Err(PixelError {
            file: series_folder(),
            fault: PixelFault::Region {
                columns: region_columns.clone(),
                rows: region_rows.clone(),
                series_columns: geometry.columns,
                series_rows: geometry.rows,
            },
        });
    }
    let plane = columns * rows;
    let first_file = &geometry.slices[slices.start].file;
    if plane > MAX_SLICE_PIXELS {
        return Err(PixelError {
            file: first_file.clone(),
            fault: PixelFault::TooLarge {
                rows: rows as i64,
                columns: columns as i64,
                max: MAX_SLICE_PIXELS,
            },
        });
    }
    let dims = [region_columns.len(), region_rows.len(), slices.len()];
    let mut values = Vec::with_capacity(dims.iter().product());
    let mut photometric = None;
    let (mut minimum, mut maximum, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
    let mut common_rescale: Option<Option<CommonRescale>> = None;
    for slice in &geometry.slices[slices.clone()] {
        let fault = |fault| PixelError {
            file: slice.file.clone(),
            fault,
        };
        let decoded = read_slice(
            &slice.file,
            slice.pixel_header.as_ref(),
            geometry,
            region,
            &mut values,
            each_file,
        )
        .map_err(fault)?;
        match photometric {
            None => photometric = Some(decoded.photometric),
            Some(series) if series != decoded.photometric => {
                return Err(fault(PixelFault::MixedPhotometric {
                    found: name(decoded.photometric).to_string(),
                    series: name(series).to_string(),
                }));
            }
            Some(_) => {}
        }
        minimum = minimum.min(decoded.minimum);
        maximum = maximum.max(decoded.maximum);
        sum += decoded.sum;
        let this = decoded.rescale;
        common_rescale = Some(match common_rescale {
            None => Some(this),
            Some(Some(series)) if (series.slope, series.intercept) == (this.slope, this.intercept) => {
                Some(CommonRescale {
                    stored_minimum: series.stored_minimum.min(this.stored_minimum),
                    stored_maximum: series.stored_maximum.max(this.stored_maximum),
                    ..series
                })
            }
            Some(_) => None,
        });
    }
    Ok(PixelVolume {
        dims,
        origin: [region_columns.start, region_rows.start, slices.start],
        values,
        photometric: photometric.unwrap_or(Photometric::Monochrome2),
        slices_minimum: minimum,
        slices_maximum: maximum,
        slices_mean: sum / (plane * slices.len()) as f64,
        common_rescale: common_rescale.flatten(),
    })
}

fn name(p: Photometric) -> &'static str {
    match p {
        Photometric::Monochrome1 => "MONOCHROME1",
        Photometric::Monochrome2 => "MONOCHROME2",
    }
}

/// What a slice adds besides its region's values: its photometric interpretation and the
/// real values' range and sum over all its pixels.
struct DecodedSlice {
    photometric: Photometric,
    minimum: f64,
    maximum: f64,
    sum: f64,
    rescale: CommonRescale,
}

/// A slice's [`PixelHeader`] from its parsed header.
pub(crate) fn pixel_header(obj: &DefaultDicomObject) -> PixelHeader {
    let rescale = |tag| obj.get(tag).map(|e| e.value().to_float64().unwrap_or(f64::NAN));
    PixelHeader {
        transfer_syntax: obj.meta().transfer_syntax().trim_end_matches(['\0', ' ']).to_string(),
        samples_per_pixel: int(obj, tags::SAMPLES_PER_PIXEL),
        bits_allocated: int(obj, tags::BITS_ALLOCATED),
        bits_stored: int(obj, tags::BITS_STORED),
        pixel_representation: int(obj, tags::PIXEL_REPRESENTATION),
        photometric_interpretation: text(obj, tags::PHOTOMETRIC_INTERPRETATION),
        number_of_frames: int(obj, tags::NUMBER_OF_FRAMES),
        rows: int(obj, tags::ROWS),
        columns: int(obj, tags::COLUMNS),
        rescale_slope: rescale(tags::RESCALE_SLOPE),
        rescale_intercept: rescale(tags::RESCALE_INTERCEPT),
        read_from: None,
    }
}

/// One slice, checked against the series' grid: its region's voxels (real values, or stored
/// integers) appended to `values`, row by row; its file's bytes handed to `each_file`. `known`
/// is its header as the header reader read it, if it did.
fn read_slice<V: Voxel>(
    file: &Path,
    known: Option<&PixelHeader>,
    geometry: &SeriesGeometry,
    region: &Region,
    values: &mut Vec<V>,
    each_file: &mut dyn FnMut(&FileVersion, &[u8]),
) -> Result<DecodedSlice, PixelFault> {
    let checked = guard::read_whole_file(file).map_err(PixelFault::Slice)?;
    each_file(&checked.version, &checked.bytes);
    let open = |options: OpenFileOptions| {
        options
            .from_reader(&checked.bytes[..])
            .map_err(|e| PixelFault::Slice(SliceFault::NotDicom(e.to_string())))
    };
    // Uncompressed little endian with its pixels placed by the walk: the samples straight from
    // the file's bytes (dicom-rs's decoder would copy the slice twice and convert every pixel),
    // and the header as the header reader read it, when the file is the version it read.
    let native = matches!(checked.transfer_syntax.as_str(), IMPLICIT_LITTLE | EXPLICIT_LITTLE)
        && checked.native_pixels.is_some();
    let parsed;
    let header = match known {
        Some(known)
            if native
                && known.transfer_syntax == checked.transfer_syntax
                && known.read_from.as_ref() == Some(&checked.version) =>
        {
            known
        }
        // The header only (dicom-rs stops before the pixels).
        _ => {
            parsed = pixel_header(&open(OpenFileOptions::new().read_until(tags::PIXEL_DATA))?);
            &parsed
        }
    };
    let uid = header.transfer_syntax.clone();
    if let Err(name) = decodable(&uid) {
        return Err(PixelFault::UnsupportedTransferSyntax { uid, name });
    }
    let samples = header.samples_per_pixel.unwrap_or(1);
    if samples != 1 {
        return Err(PixelFault::SamplesPerPixel(samples));
    }
    let allocated = header.bits_allocated.ok_or(PixelFault::Missing("BitsAllocated"))?;
    if allocated != 8 && allocated != 16 {
        return Err(PixelFault::BitsAllocated(allocated));
    }
    let stored = header.bits_stored.unwrap_or(allocated);
    if !(1..=allocated).contains(&stored) {
        return Err(PixelFault::BitsStored { stored, allocated });
    }
    let photometric = match header.photometric_interpretation.as_deref() {
        Some("MONOCHROME2") => Photometric::Monochrome2,
        Some("MONOCHROME1") => Photometric::Monochrome1,
        Some(other) => return Err(PixelFault::PhotometricInterpretation(other.to_string())),
        None => return Err(PixelFault::Missing("PhotometricInterpretation")),
    };
    let frames = header.number_of_frames.unwrap_or(1);
    if frames != 1 {
        return Err(PixelFault::MultiFrame(frames));
    }
    let (rows, columns) = (
        header.rows.ok_or(PixelFault::Missing("Rows"))?,
        header.columns.ok_or(PixelFault::Missing("Columns"))?,
    );
    if (rows, columns) != (i64::from(geometry.rows), i64::from(geometry.columns)) {
        return Err(PixelFault::Grid {
            rows,
            columns,
            series_rows: geometry.rows,
            series_columns: geometry.columns,
        });
    }
    let pixels = geometry.rows as usize * geometry.columns as usize;
    if pixels > MAX_SLICE_PIXELS {
        return Err(PixelFault::TooLarge {
            rows,
            columns,
            max: MAX_SLICE_PIXELS,
        });
    }
    let signed = header.pixel_representation.unwrap_or(0) == 1;
    let (slope, intercept) = (
        header.rescale_slope.unwrap_or(1.0),
        header.rescale_intercept.unwrap_or(0.0),
    );
    if !(slope.is_finite() && intercept.is_finite()) {
        return Err(PixelFault::Rescale { slope, intercept });
    }
    let width = allocated as usize / 8;
    let needed = pixels * width;
    let truncated = |found: usize| PixelFault::Truncated { needed, found };
    let stored_value = StoredValue::new(stored as u32, signed);
    let mut convert = |samples: Samples| {
        let (low, high, sum) = samples.stored_range_and_sum(stored_value);
        let row_length = geometry.columns as usize;
        for row in region.rows.clone() {
            let start = row * row_length;
            let columns = start + region.columns.start..start + region.columns.end;
            // One closure per sign, each holding copies (not references the compiler must
            // reload past every store to `values`): a loop without a test, that vectorises.
            let stored = stored_value;
            match stored.signed {
                true => samples.extend_mapped(
                    columns,
                    move |raw| V::of(stored.sign_extended(raw), slope, intercept),
                    values,
                ),
                false => samples.extend_mapped(columns, move |raw| V::of(stored.masked(raw), slope, intercept), values),
            }
        }
        let (a, b) = (f64::of(low, slope, intercept), f64::of(high, slope, intercept));
        DecodedSlice {
            photometric,
            minimum: a.min(b),
            maximum: a.max(b),
            sum: sum as f64 * slope + pixels as f64 * intercept,
            rescale: CommonRescale {
                slope,
                intercept,
                stored_minimum: i64::from(low),
                stored_maximum: i64::from(high),
            },
        }
    };
    // Anything the walk did not place (no pixel data, encapsulated fragments) goes the
    // decoder's way below, which says what is wrong.
    if native
        && uid == checked.transfer_syntax
        && let Some(span) = checked.native_pixels.clone()
    {
        let bytes = &checked.bytes[span];
        if bytes.len() < needed {
            return Err(truncated(bytes.len()));
        }
        return Ok(convert(match width {
            1 => Samples::Bytes(&bytes[..needed]),
            _ => Samples::words16(&bytes[..needed], ByteOrder::Little),
        }));
    }
    let obj = open(OpenFileOptions::new())?;
    if obj.get(tags::PIXEL_DATA).is_none() {
        return Err(PixelFault::Missing("PixelData"));
    }
    if uid == RLE_LOSSLESS {
        return Ok(convert(Samples::Words(decode_rle(&obj, pixels, width)?)));
    }
    if JPEG.contains(&uid.as_str()) {
        check_jpeg_frame(&obj, rows, columns, width)?;
    }
    let decoded = obj.decode_pixel_data().map_err(|e| PixelFault::Decode(e.to_string()))?;
    let bytes = decoded.data();
    if bytes.len() < needed {
        return Err(truncated(bytes.len()));
    }
    Ok(convert(match width {
        1 => Samples::Bytes(&bytes[..needed]),
        // dicom-rs hands 16-bit samples over in the machine's byte order, whatever the file's.
        _ => Samples::words16(&bytes[..needed], ByteOrder::Native),
    }))
}

/// A slice's stored samples as they came: bytes, 16-bit words in the machine's order, or
/// decoded words (RLE). Every sample is below 2¹⁶.
enum Samples<'a> {
    Bytes(&'a [u8]),
    /// Borrowed from the file's bytes when they are aligned and in the machine's order (a
    /// little-endian file on a little-endian machine, an even pixel offset: always, in practice).
    Words16(Cow<'a, [u16]>),
    Words(Vec<u32>),
}

/// The byte order of 16-bit samples handed to [`Samples::words16`].
#[derive(Clone, Copy, PartialEq)]
enum ByteOrder {
    Little,
    Native,
}

impl<'a> Samples<'a> {
    fn words16(bytes: &'a [u8], order: ByteOrder) -> Samples<'a> {
        let native = order == ByteOrder::Native || cfg!(target_endian = "little");
        match bytemuck::try_cast_slice(bytes) {
            Ok(words) if native => Samples::Words16(Cow::Borrowed(words)),
            _ => Samples::Words16(Cow::Owned(
                bytes
                    .chunks_exact(2)
                    .map(|p| match order {
                        ByteOrder::Little => u16::from_le_bytes([p[0], p[1]]),
                        ByteOrder::Native => u16::from_ne_bytes([p[0], p[1]]),
                    })
                    .collect(),
            )),
        }
    }

    /// Appends `f` of each raw sample at `range` to `out`, the layout matched once, not per
    /// sample: an extend of known length from a slice of words, which vectorises.
    fn extend_mapped<V>(&self, range: Range<usize>, f: impl Fn(u32) -> V, out: &mut Vec<V>) {
        match self {
            Samples::Bytes(b) => out.extend(b[range].iter().map(|&v| f(u32::from(v)))),
            Samples::Words16(w) => out.extend(w[range].iter().map(|&v| f(u32::from(v)))),
            Samples::Words(w) => out.extend(w[range].iter().map(|&v| f(v))),
        }
    }

    /// The smallest and largest stored value and their sum over every sample, in integers:
    /// one tight loop per layout and sign, so a whole slice costs little beside reading it.
    fn stored_range_and_sum(&self, stored: StoredValue) -> (i32, i32, i64) {
        /// The range and sum of `to_stored` over `values`, in lanes of `V` (i16, u16 or i32).
        fn blocks<T: Copy, V: Copy + Ord + Into<i32>>(
            values: &[T],
            (mut low, mut high): (V, V),
            to_stored: impl Fn(T) -> V,
        ) -> (i32, i32, i64) {
            let mut sum = 0i64;
            // Summed in 32-bit lanes a block at a time: 2¹⁵ samples below 2¹⁶ in magnitude
            // cannot overflow them.
            for block in values.chunks(1 << 15) {
                let mut block_sum = 0i32;
                for &raw in block {
                    let v = to_stored(raw);
                    low = low.min(v);
                    high = high.max(v);
                    block_sum += v.into();
                }
                sum += i64::from(block_sum);
            }
            (low.into(), high.into(), sum)
        }
        // One loop per sign: no test inside it.
        fn fold<T: Copy + Into<u32>>(values: &[T], stored: StoredValue) -> (i32, i32, i64) {
            let lanes = (i32::MAX, i32::MIN);
            match stored.signed {
                true => blocks(values, lanes, move |raw| stored.sign_extended(raw.into())),
                false => blocks(values, lanes, move |raw| stored.masked(raw.into())),
            }
        }
        // 16-bit samples in 16-bit lanes: SSE2 has their minimum and maximum, where 32-bit lanes
        // need SSE4.1 and are emulated on x86-64's baseline (a twentieth of a radiomics run).
        fn fold16(values: &[u16], stored: StoredValue) -> (i32, i32, i64) {
            // BitsStored ≤ 16: the 32-bit shift less 16 is the 16-bit one.
            let shift = stored.shift - 16;
            let mask = stored.mask as u16;
            match stored.signed {
                true => blocks(values, (i16::MAX, i16::MIN), move |raw| {
                    ((raw << shift) as i16) >> shift
                }),
                false => blocks(values, (u16::MAX, u16::MIN), move |raw| raw & mask),
            }
        }
        match self {
            Samples::Bytes(b) => fold(b, stored),
            Samples::Words16(w) => fold16(w, stored),
            Samples::Words(w) => fold(w, stored),
        }
    }
}

const IMPLICIT_LITTLE: &str = "1.2.840.10008.1.2";
const EXPLICIT_LITTLE: &str = "1.2.840.10008.1.2.1";
const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
const JPEG: [&str; 4] = [
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
];

/// The JPEG stream's frame header (ITU T.81 B.2.2) must agree with Rows, Columns,
/// SamplesPerPixel and BitsAllocated: dicom-rs copies the decoded image into a buffer sized by
/// the DICOM header, and panics when the JPEG is larger (found by the `dicom_pixels` fuzz target)
/// or leaves zeros when it is smaller.
fn check_jpeg_frame(obj: &DefaultDicomObject, rows: i64, columns: i64, width: usize) -> Result<(), PixelFault> {
    let fault = |what: String| PixelFault::Decode(format!("JPEG: {what}"));
    let fragments = encapsulated_fragments(obj, "JPEG")?;
    let stream: Vec<u8> = fragments.iter().flatten().copied().collect();
    let (precision, height, frame_width, components) =
        jpeg_frame_header(&stream).ok_or_else(|| fault("no frame header (SOF) in the stream".to_string()))?;
    let bytes = if precision > 8 { 2 } else { 1 };
    if (i64::from(height), i64::from(frame_width), components, bytes) != (rows, columns, 1, width) {
        return Err(fault(format!(
            "its frame is {height} rows × {frame_width} columns × {components} components of {precision} bits, \
             the DICOM header says {rows} × {columns} × 1 of {} bits",
            8 * width
        )));
    }
    Ok(())
}

/// The fragments of an encapsulated Pixel Data element, which a `codec` stream must have.
fn encapsulated_fragments<'a>(obj: &'a DefaultDicomObject, codec: &str) -> Result<&'a [Vec<u8>], PixelFault> {
    let element = obj
        .element(tags::PIXEL_DATA)
        .map_err(|_| PixelFault::Missing("PixelData"))?;
    element
        .value()
        .fragments()
        .ok_or_else(|| PixelFault::Decode(format!("{codec}: the pixel data is not encapsulated")))
}

/// The first frame header of a JPEG stream: (precision, lines, samples per line, components),
/// walking the marker segments from SOI as a decoder does.
fn jpeg_frame_header(stream: &[u8]) -> Option<(u8, u16, u16, u8)> {
    if stream.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    loop {
        // Fill bytes (0xFF) may precede a marker.
        while *stream.get(at)? == 0xFF && *stream.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *stream.get(at)? != 0xFF {
            return None;
        }
        let marker = *stream.get(at + 1)?;
        at += 2;
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            continue; // no length
        }
        let length = usize::from(u16::from_be_bytes([*stream.get(at)?, *stream.get(at + 1)?]));
        if matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
            let header = stream.get(at + 2..at + 8)?;
            return Some((
                header[0],
                u16::from_be_bytes([header[1], header[2]]),
                u16::from_be_bytes([header[3], header[4]]),
                header[5],
            ));
        }
        if marker == 0xDA || length < 2 {
            return None; // scan data before any frame header
        }
        at += length;
    }
}

/// RLE Lossless (PS3.5 Annex G), decoded here rather than by dicom-rs, whose decoder panics on a
/// segment that decodes short (found by the `dicom_pixels` fuzz target): one fragment for the
/// frame, a 64-byte header (segment count, then up to 15 offsets), one PackBits segment per
/// byte of the sample, most significant first. The stored samples, row by row.
fn decode_rle(obj: &DefaultDicomObject, pixels: usize, width: usize) -> Result<Vec<u32>, PixelFault> {
    let fault = |what: String| PixelFault::Decode(format!("RLE Lossless: {what}"));
    let fragments = encapsulated_fragments(obj, "RLE Lossless")?;
    let [fragment] = fragments else {
        return Err(fault(format!("{} fragments for one frame", fragments.len())));
    };
    let word = |at: usize| {
        fragment
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = word(0).ok_or_else(|| fault(format!("a {}-byte fragment has no header", fragment.len())))?;
    if count != width {
        return Err(fault(format!(
            "{count} segments where {width}-byte samples need {width}"
        )));
    }
    let mut samples = vec![0u32; pixels];
    for segment in 0..width {
        let start = word(4 + 4 * segment).unwrap_or(0);
        let end = if segment + 1 < count {
            word(8 + 4 * segment).unwrap_or(0)
        } else {
            fragment.len()
        };
        if start < 64 || start > end || end > fragment.len() {
            return Err(fault(format!(
                "segment {segment} at bytes {start}..{end} of a {}-byte fragment",
                fragment.len()
            )));
        }
        let bytes = unpack_bits(&fragment[start..end], pixels).map_err(|found| PixelFault::Truncated {
            needed: pixels * width,
            found: segment * pixels + found,
        })?;
        let shift = 8 * (width - 1 - segment);
        for (sample, byte) in samples.iter_mut().zip(bytes) {
            *sample |= u32::from(byte) << shift;
        }
    }
    Ok(samples)
}

/// The first `n` bytes a PackBits segment decodes to (PS3.5 G.3.1: a header byte h ≥ 0 copies
/// h + 1 literal bytes, −127 ≤ h ≤ −1 repeats the next byte 1 − h times, −128 does nothing);
/// `Err` with the count decoded when the segment runs out first.
fn unpack_bits(segment: &[u8], n: usize) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    while out.len() < n && at < segment.len() {
        let header = segment[at] as i8;
        at += 1;
        if header >= 0 {
            let run = header as usize + 1;
            let literal = segment.get(at..at + run).ok_or(out.len())?;
            out.extend_from_slice(literal);
            at += run;
        } else if header != -128 {
            let &byte = segment.get(at).ok_or(out.len())?;
            out.resize(out.len() + (1 - isize::from(header)) as usize, byte);
            at += 1;
        }
    }
    if out.len() < n {
        return Err(out.len());
    }
    out.truncate(n);
    Ok(out)
}

/// A stored sample as a number: its low BitsStored bits, two's complement when signed
/// (PS3.5 8.1.1; the bits above are overlay or padding).
#[derive(Clone, Copy)]
struct StoredValue {
    mask: u32,
    /// 32 − BitsStored: shifting the value's top bit to bit 31 and back sign-extends it.
    shift: u32,
    signed: bool,
}

impl StoredValue {
    fn new(bits_stored: u32, signed: bool) -> Self {
        StoredValue {
            mask: (1u32 << bits_stored) - 1,
            shift: 32 - bits_stored,
            signed,
        }
    }

    /// A raw sample's stored value, of either sign. The loops call one of the two below, chosen
    /// once a slice: each is 32-bit (BitsStored ≤ 16 here) and branch-free, so that they
    /// vectorise (x86-64's baseline has no 64-bit vector minimum).
    #[cfg(test)]
    fn stored(self, raw: u32) -> i32 {
        match self.signed {
            true => self.sign_extended(raw),
            false => self.masked(raw),
        }
    }

    #[inline]
    fn sign_extended(self, raw: u32) -> i32 {
        ((raw << self.shift) as i32) >> self.shift
    }

    #[inline]
    fn masked(self, raw: u32) -> i32 {
        (raw & self.mask) as i32
    }
}

/// Whether the pixel data of `uid` can be decoded here; `Err` gives its name when not.
fn decodable(uid: &str) -> Result<(), &'static str> {
    match uid {
        "1.2.840.10008.1.2"           // Implicit VR Little Endian
        | "1.2.840.10008.1.2.1"       // Explicit VR Little Endian
        | "1.2.840.10008.1.2.2"       // Explicit VR Big Endian (retired)
        | "1.2.840.10008.1.2.1.99"    // Deflated Explicit VR Little Endian
        | "1.2.840.10008.1.2.5"       // RLE Lossless
        | "1.2.840.10008.1.2.4.50"    // JPEG Baseline (Process 1)
        | "1.2.840.10008.1.2.4.51"    // JPEG Extended (Process 2 & 4)
        | "1.2.840.10008.1.2.4.57"    // JPEG Lossless (Process 14)
        | "1.2.840.10008.1.2.4.70" => Ok(()), // JPEG Lossless SV1
        "1.2.840.10008.1.2.4.80" => Err("JPEG-LS Lossless"),
        "1.2.840.10008.1.2.4.81" => Err("JPEG-LS Near-Lossless"),
        "1.2.840.10008.1.2.4.90" => Err("JPEG 2000 Lossless"),
        "1.2.840.10008.1.2.4.91" => Err("JPEG 2000"),
        "1.2.840.10008.1.2.4.92" => Err("JPEG 2000 Part 2 Multi-component Lossless"),
        "1.2.840.10008.1.2.4.93" => Err("JPEG 2000 Part 2 Multi-component"),
        "1.2.840.10008.1.2.4.201" => Err("HTJ2K Lossless"),
        "1.2.840.10008.1.2.4.202" => Err("HTJ2K Lossless RPCL"),
        "1.2.840.10008.1.2.4.203" => Err("HTJ2K"),
        "1.2.840.10008.1.2.4.110" => Err("JPEG XL Lossless"),
        "1.2.840.10008.1.2.4.111" => Err("JPEG XL JPEG Recompression"),
        "1.2.840.10008.1.2.4.112" => Err("JPEG XL"),
        "1.2.840.10008.1.2.4.100" | "1.2.840.10008.1.2.4.101" => Err("MPEG2"),
        "1.2.840.10008.1.2.4.102" | "1.2.840.10008.1.2.4.103" => Err("MPEG-4 AVC/H.264"),
        _ => Err("(not known here)"),
    }
}

#[cfg(test)]
#[path = "pixels_tests.rs"]
mod tests;
