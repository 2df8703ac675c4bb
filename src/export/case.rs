//! One case of an export: its label and its channels' images on the label's grid, through the
//! imaging room's pairing rule, pixel reader, resampler and misalignment measure.

use std::path::PathBuf;

use npcql_imaging::dicom::pixels::{self, PixelVolume};
use npcql_imaging::geometry::{Affine, Pairing, SeriesGeometry, compose, pair};
use npcql_imaging::mask::{MaskHeader, MaskVolume, read_mask, read_mask_header};
use npcql_imaging::nifti_write::{NiftiSpace, Voxels};
use npcql_imaging::resample::{ImageGrid, Misalignment, misalignment, trilinear_onto};

use super::digest::{SeriesDigest, SourceDigests};
use crate::dataset::Modality;

/// Where one case's files are: the label's mask and series, and each channel's series (and the
/// channel sequence's own mask, for the misalignment columns).
#[derive(Debug, Clone)]
pub struct CaseSources {
    pub patient_id: String,
    pub label_modality: Modality,
    pub label_mask: PathBuf,
    pub label_series: PathBuf,
    pub channels: Vec<ChannelSource>,
}

/// One channel of a case.
#[derive(Debug, Clone)]
pub struct ChannelSource {
    pub modality: Modality,
    pub series: PathBuf,
    /// The sequence's own mask, when the patient has one.
    pub own_mask: Option<PathBuf>,
}

/// What the headers say of a case, read without a pixel: the label's grid and how it pairs.
#[derive(Debug, Clone)]
pub struct CheckedCase {
    pub header: MaskHeader,
    pub label_series: SeriesGeometry,
    pub pairing: Pairing,
    /// Label voxel index → label-series voxel index.
    pub mask_to_series: [[i64; 4]; 3],
    /// Each channel's series geometry, in channel order.
    pub channel_series: Vec<SeriesGeometry>,
}

/// A channel's voxels on the label's grid, in the type written.
#[derive(Debug, Clone)]
pub enum ChannelVoxels {
    /// The label's own sequence under one rescale whose stored values fit int16.
    Int16 {
        values: Vec<i16>,
        slope: f64,
        intercept: f64,
    },
    Float32(Vec<f32>),
}

impl ChannelVoxels {
    pub fn as_voxels(&self) -> Voxels<'_> {
        match self {
            ChannelVoxels::Int16 {
                values,
                slope,
                intercept,
            } => Voxels::Int16 {
                values,
                slope: *slope,
                intercept: *intercept,
            },
            ChannelVoxels::Float32(values) => Voxels::Float32(values),
        }
    }
}

/// One channel, built.
#[derive(Debug, Clone)]
pub struct BuiltChannel {
    pub voxels: ChannelVoxels,
    /// Resampled through scanner coordinates (another sequence) rather than copied.
    pub resampled: bool,
    /// Label voxels outside this series' field of view, filled with 0.
    pub outside_voxels: usize,
    /// The channel sequence's own mask against the label (`None` for the label's sequence, or
    /// when it has no readable mask: `misalignment_note` says why).
    pub misalignment: Option<Misalignment>,
    pub misalignment_note: Option<String>,
    /// The series' sha256 (of its files' sha256 digests in slice order), of the bytes the
    /// pixels were read from.
    pub series_sha256: [u8; 32],
}

/// A case ready to write.
#[derive(Debug, Clone)]
pub struct BuiltCase {
    pub space: NiftiSpace,
    pub label: Vec<u8>,
    /// The label's mask file's sha256.
    pub mask_sha256: [u8; 32],
    pub channels: Vec<BuiltChannel>,
}

/// The headers of a case: the label's, each series' geometry, the pairing. Err names the file
/// and the fault.
pub fn check(sources: &CaseSources) -> Result<CheckedCase, String> {
    let header = read_mask_header(&sources.label_mask).map_err(|e| e.to_string())?;
    let label_series = pixels::series_geometry(&sources.label_series).map_err(|e| e.to_string())?;
    let pairing = pair(&header.geometry(), &label_series);
    let mask_to_series = pairing.mask_to_series().ok_or_else(|| {
        format!(
            "{}: cannot be paired with {} (its grid is {:?}, the series' {:?}{})",
            sources.label_mask.display(),
            sources.label_series.display(),
            header.dims,
            label_series.dims(),
            pairing
                .offset_mm()
                .map_or(String::new(), |mm| format!(", centres {mm:.1} mm apart"))
        )
    })?;
    let channel_series = sources
        .channels
        .iter()
        .map(|channel| {
            if channel.modality == sources.label_modality {
                Ok(label_series.clone())
            } else {
                pixels::series_geometry(&channel.series).map_err(|e| e.to_string())
            }
        })
        .collect::<Result<_, String>>()?;
    Ok(CheckedCase {
        header,
        label_series,
        pairing,
        mask_to_series,
        channel_series,
    })
}

/// Reads the pixels and builds the label and every channel on the label's grid, each series
/// fingerprinted from the bytes read.
pub fn build(sources: &CaseSources, checked: &CheckedCase, digests: SourceDigests) -> Result<BuiltCase, String> {
    let mask = read_mask(&sources.label_mask).map_err(|e| e.to_string())?;
    let mask_sha256 = digests
        .of_file(&sources.label_mask)
        .map_err(|e| format!("{}: {e}", sources.label_mask.display()))?;
    let label = full_grid(&mask);
    let map: Affine = checked.mask_to_series.map(|row| row.map(|v| v as f64));
    // Every label voxel's place in the scanner, through its series (the pairing rule).
    let label_to_lps = compose(&checked.label_series.voxel_to_lps(), &map);
    let mut channels = Vec::with_capacity(sources.channels.len());
    for (channel, series) in sources.channels.iter().zip(&checked.channel_series) {
        let built = if channel.modality == sources.label_modality {
            let (voxels, series_sha256) =
                copied_onto_label(series, mask.source_dims, &checked.mask_to_series, digests)?;
            BuiltChannel {
                voxels,
                resampled: false,
                outside_voxels: 0,
                misalignment: None,
                misalignment_note: None,
                series_sha256,
            }
        } else {
            let mut digest = SeriesDigest::new(digests);
            let volume = pixels::read_volume_with_files(series, &mut |version, bytes| digest.add_file(version, bytes))
                .map_err(|e| e.to_string())?;
            let image = ImageGrid {
                dims: series.dims(),
                affine: series.voxel_to_lps(),
                values: &volume.values,
            };
            let sampled = trilinear_onto(&image, mask.source_dims, &label_to_lps, f64::NAN)
                .map_err(|why| format!("{}: cannot be resampled: {why}", channel.series.display()))?;
            let outside_voxels = sampled.iter().filter(|v| v.is_nan()).count();
            let values = sampled
                .into_iter()
                .map(|v| if v.is_nan() { 0.0 } else { v as f32 })
                .collect();
            let (misalignment, misalignment_note) = match &channel.own_mask {
                None => (None, Some(format!("no {} mask", channel.modality.name()))),
                Some(path) => match read_mask(path)
                    .map_err(|e| e.to_string())
                    .and_then(|own| self::misalignment(&mask, &own).map_err(|why| format!("{}: {why}", path.display())))
                {
                    Ok(m) => (Some(m), None),
                    Err(why) => (None, Some(why)),
                },
            };
            BuiltChannel {
                voxels: ChannelVoxels::Float32(values),
                resampled: true,
                outside_voxels,
                misalignment,
                misalignment_note,
                series_sha256: digest.finish(),
            }
        };
        channels.push(built);
    }
    Ok(BuiltCase {
        space: checked.header.space.clone(),
        label,
        mask_sha256,
        channels,
    })
}

/// The mask on its whole source grid, 0/1, x fastest.
fn full_grid(mask: &MaskVolume) -> Vec<u8> {
    let [nx, ny, nz] = mask.source_dims;
    let mut label = vec![0u8; nx * ny * nz];
    let [cx, cy, cz] = mask.dims;
    for z in 0..cz {
        for y in 0..cy {
            for x in 0..cx {
                if mask.voxels[(z * cy + y) * cx + x] == 0 {
                    continue;
                }
                let source = [
                    x as i64 + mask.offset[0],
                    y as i64 + mask.offset[1],
                    z as i64 + mask.offset[2],
                ];
                // The crop's padding lies outside the grid; tumour voxels never do.
                let [sx, sy, sz] = source.map(|v| v as usize);
                label[(sz * ny + sy) * nx + sx] = 1;
            }
        }
    }
    label
}

/// The label's own series on the label's grid: each label voxel takes the series voxel the
/// pairing maps it to (`map`, a signed permutation and a shift: no resampling), as the
/// stored int16 behind one rescale when they fit it, copied as they lie; else as float32 real
/// values. With the series' sha256, from the bytes read.
fn copied_onto_label(
    series: &SeriesGeometry,
    dims: [usize; 3],
    map: &[[i64; 4]; 3],
    digests: SourceDigests,
) -> Result<(ChannelVoxels, [u8; 32]), String> {
    let mut digest = SeriesDigest::new(digests);
    let stored = pixels::read_stored_int16(series, &mut |version, bytes| digest.add_file(version, bytes))
        .map_err(|e| e.to_string())?;
    let series_sha256 = digest.finish();
    // A zero slope in NIfTI means "no scaling": such a series is written as its real values.
    let voxels = match stored.filter(|(_, rescale)| rescale.slope != 0.0) {
        Some((stored, rescale)) => ChannelVoxels::Int16 {
            values: placed(stored, dims, map),
            slope: rescale.slope,
            intercept: rescale.intercept,
        },
        // Slices under different rescales, or stored values beyond int16: their real values
        // (the files read again; rare).
        None => {
            let volume = pixels::read_volume(series).map_err(|e| e.to_string())?;
            ChannelVoxels::Float32(gather(&volume, dims, map, |v| v as f32))
        }
    };
    Ok((voxels, series_sha256))
}

/// Every label voxel's value from `volume`, x fastest: the volume's own values when the label's
/// grid is the series' (the dataset's masks), with no copy; else gathered.
fn placed<V: Copy>(volume: PixelVolume<V>, dims: [usize; 3], map: &[[i64; 4]; 3]) -> Vec<V> {
    const IDENTITY: [[i64; 4]; 3] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
    match *map == IDENTITY && volume.dims == dims {
        true => volume.values,
        false => gather(&volume, dims, map, |v| v),
    }
}

/// Every label voxel's value from `volume`, x fastest, straight into the type written.
fn gather<V: Copy, T>(
    volume: &PixelVolume<V>,
    dims: [usize; 3],
    map: &[[i64; 4]; 3],
    convert: impl Fn(V) -> T,
) -> Vec<T> {
    // The map is linear, so is the series' flat index: base + i·step[0] + j·step[1] + k·step[2].
    let [sx, sy, _] = volume.dims.map(|d| d as i64);
    let flat = |column: [i64; 3]| column[0] + sx * column[1] + sx * sy * column[2];
    let step: [i64; 3] = std::array::from_fn(|c| flat([map[0][c], map[1][c], map[2][c]]));
    let base = flat([map[0][3], map[1][3], map[2][3]]);
    let mut out = Vec::with_capacity(dims.iter().product());
    let n = dims[0];
    for k in 0..dims[2] as i64 {
        for j in 0..dims[1] as i64 {
            let row = base + j * step[1] + k * step[2];
            // A label row is a series row, forwards or backwards, unless the axes are swapped:
            // then a contiguous slice, converted in a loop that vectorises.
            match step[0] {
                1 => out.extend(
                    volume.values[row as usize..row as usize + n]
                        .iter()
                        .map(|&v| convert(v)),
                ),
                -1 => out.extend(
                    volume.values[(row + 1) as usize - n..=row as usize]
                        .iter()
                        .rev()
                        .map(|&v| convert(v)),
                ),
                _ => out.extend((0..n as i64).map(|i| convert(volume.values[(row + i * step[0]) as usize]))),
            }
        }
    }
    out
}
