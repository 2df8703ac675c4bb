//! What a DICOM series says: one summary per series folder, from headers only (reading stops
//! before the pixel data), with its faults in words, and the series' geometry in the scanner.

mod guard;
pub mod pixels;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};

use crate::cache::{
    FileVersion, MEMO_CAPACITY, ResultKey, ResultStore, bounded_entry, folder_entries, get_value, put_value,
};
use crate::geometry::{PixelHeader, SeriesGeometry, SliceGeometry};

/// What is wrong with one slice file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SliceFault {
    /// An element declares more bytes than the file has left (found before dicom-rs would
    /// allocate them).
    #[error(
        "truncated or corrupt: element ({:04X},{:04X}) at byte {at} declares {declared} bytes, only {left} remain",
        tag >> 16,
        tag & 0xFFFF
    )]
    ElementTooLong {
        tag: u32,
        at: u64,
        declared: u32,
        left: u64,
    },
    /// The pixel data ends past the end of the file.
    #[error("truncated: its pixel data needs {needed} bytes, the file has {size}")]
    PixelDataTruncated { needed: u64, size: u64 },
    /// The file cannot be opened (permissions, a vanished file).
    #[error("cannot open it ({0})")]
    Unopenable(String),
    /// dicom-rs cannot parse the file.
    #[error("not a readable DICOM file ({0})")]
    NotDicom(String),
}

/// What a series' headers say, summarised for the `scans` table.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesInfo {
    pub slice_count: usize,
    pub rows: Option<u32>,
    pub columns: Option<u32>,
    pub pixel_spacing_row: Option<f64>,
    pub pixel_spacing_col: Option<f64>,
    pub slice_thickness: Option<f64>,
    /// SpacingBetweenSlices, or else the distance between consecutive slice positions.
    pub spacing_between_slices: Option<f64>,
    pub echo_time_ms: Option<f64>,
    pub repetition_time_ms: Option<f64>,
    pub flip_angle: Option<f64>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub field_strength_t: Option<f64>,
    /// NULL when the series reads cleanly; otherwise names the file and the fault.
    pub error: Option<String>,
    /// Where its voxels are: present when every slice has a position and the slices share one
    /// grid (no `error`).
    pub geometry: Option<SeriesGeometry>,
}

/// The header fields of one slice that the table needs.
#[derive(Debug, Clone)]
struct SliceHeader {
    file: PathBuf,
    series_uid: Option<String>,
    frame_of_reference_uid: Option<String>,
    instance_number: Option<i64>,
    position: Option<[f64; 3]>,
    orientation: Option<[f64; 6]>,
    rows: Option<u32>,
    columns: Option<u32>,
    pixel_spacing: Option<[f64; 2]>,
    slice_thickness: Option<f64>,
    spacing_between_slices: Option<f64>,
    echo_time: Option<f64>,
    repetition_time: Option<f64>,
    flip_angle: Option<f64>,
    manufacturer: Option<String>,
    model: Option<String>,
    field_strength: Option<f64>,
    pixel_header: PixelHeader,
}

/// Reads the headers of every `*.dcm` in `dir` and summarises the series.
pub fn read_series(dir: &Path) -> SeriesInfo {
    match list_dicom_files(dir) {
        Ok(files) => read_series_files(dir, files),
        Err(e) => SeriesInfo {
            error: Some(format!("cannot list {}: {e}", dir.display())),
            ..Default::default()
        },
    }
}

/// The series of `files`, the `*.dcm` files of `dir` in path order.
fn read_series_files(dir: &Path, files: Vec<PathBuf>) -> SeriesInfo {
    if files.is_empty() {
        return SeriesInfo {
            error: Some(format!("{}: no .dcm files in the series", dir.display())),
            ..Default::default()
        };
    }
    let mut slices = Vec::with_capacity(files.len());
    let mut unreadable = Vec::new();
    for file in files {
        match read_slice_header(&file) {
            Ok(slice) => slices.push(slice),
            Err(fault) => unreadable.push(format!("{}: {fault}", file.display())),
        }
    }
    let mut info = summarise(&mut slices);
    info.slice_count += unreadable.len();
    if let Some(first) = unreadable.first() {
        let more = if unreadable.len() > 1 {
            format!(" (and {} more unreadable files)", unreadable.len() - 1)
        } else {
            String::new()
        };
        info.error = Some(format!("{first}{more}"));
    }
    info
}

/// [`read_series`], remembered for the life of the process (up to
/// [`MEMO_CAPACITY`] series) while the folder's entries keep
/// their versions: the `scans` and `masks` tables, the pixel reader and a worker's tasks read
/// each series' headers once. Behind that memory, `store` (the persistent cache) keeps a
/// cleanly read series for later processes. A folder that cannot be listed is read every time
/// (the reader names the fault).
pub fn read_series_remembered(dir: &Path, store: Option<&dyn ResultStore>) -> SeriesInfo {
    type Memo = HashMap<PathBuf, (Vec<FileVersion>, SeriesInfo)>;
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    let memo = || {
        MEMO.get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    };
    let Ok(entries) = folder_entries(dir) else {
        return read_series(dir);
    };
    let dicom_files: Vec<PathBuf> = entries
        .iter()
        .filter(|(version, is_file)| *is_file && is_dicom_name(&version.path))
        .map(|(version, _)| version.path.clone())
        .collect();
    let versions: Vec<FileVersion> = entries.into_iter().map(|(version, _)| version).collect();
    if let Some((seen, info)) = memo().get(dir)
        && *seen == versions
    {
        return info.clone();
    }
    let key = ResultKey {
        function: "series_headers",
        version: 2, // 2: each slice's pixel header
        settings: String::new(),
        files: versions,
    };
    let info = match get_value(store, &key) {
        Some(info) => info,
        None => {
            let info: SeriesInfo = read_series_files(dir, dicom_files);
            // Faults are not kept: an unreadable slice may be a transient one.
            if info.error.is_none() {
                put_value(store, &key, &info);
            }
            info
        }
    };
    bounded_entry(&mut memo(), dir.to_path_buf(), MEMO_CAPACITY).insert_entry((key.files, info.clone()));
    info
}

fn list_dicom_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_dicom_name(p) && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn is_dicom_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dcm"))
}

fn read_slice_header(file: &Path) -> Result<SliceHeader, SliceFault> {
    let (checked, read_from) = guard::open_checked(file)?;
    let obj = OpenFileOptions::new()
        .read_until(tags::PIXEL_DATA)
        .from_reader(checked)
        .map_err(|e| SliceFault::NotDicom(e.to_string()))?;
    Ok(SliceHeader {
        file: file.to_path_buf(),
        series_uid: text(&obj, tags::SERIES_INSTANCE_UID),
        frame_of_reference_uid: text(&obj, tags::FRAME_OF_REFERENCE_UID),
        instance_number: int(&obj, tags::INSTANCE_NUMBER),
        position: floats::<3>(&obj, tags::IMAGE_POSITION_PATIENT),
        orientation: floats::<6>(&obj, tags::IMAGE_ORIENTATION_PATIENT),
        rows: int(&obj, tags::ROWS).and_then(|v| u32::try_from(v).ok()),
        columns: int(&obj, tags::COLUMNS).and_then(|v| u32::try_from(v).ok()),
        pixel_spacing: floats::<2>(&obj, tags::PIXEL_SPACING),
        slice_thickness: float(&obj, tags::SLICE_THICKNESS),
        spacing_between_slices: float(&obj, tags::SPACING_BETWEEN_SLICES),
        echo_time: float(&obj, tags::ECHO_TIME),
        repetition_time: float(&obj, tags::REPETITION_TIME),
        flip_angle: float(&obj, tags::FLIP_ANGLE),
        manufacturer: text(&obj, tags::MANUFACTURER),
        model: text(&obj, tags::MANUFACTURER_MODEL_NAME),
        field_strength: float(&obj, tags::MAGNETIC_FIELD_STRENGTH),
        pixel_header: PixelHeader {
            read_from,
            ..pixels::pixel_header(&obj)
        },
    })
}

// Lookups by `get`, never `element_opt`: dicom-rs makes a missing element an error first, and
// its errors capture a backtrace, a stack walk (3% of a radiomics run, for absent tags).
fn int(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<i64> {
    obj.get(tag)?.value().to_int::<i64>().ok()
}

fn float(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<f64> {
    obj.get(tag)?.value().to_float64().ok().filter(|v| v.is_finite())
}

fn floats<const N: usize>(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<[f64; N]> {
    let values = obj.get(tag)?.value().to_multi_float64().ok()?;
    values.try_into().ok()
}

fn text(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<String> {
    let value = obj.get(tag)?.value().to_str().ok()?;
    let trimmed = value.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Orders the slices (by InstanceNumber, then position along the slice normal — never by file
/// name, which is not zero-padded) and checks that they share one grid.
fn summarise(slices: &mut [SliceHeader]) -> SeriesInfo {
    slices.sort_by(|a, b| {
        a.instance_number
            .cmp(&b.instance_number)
            .then_with(|| slice_offset(a).total_cmp(&slice_offset(b)))
    });
    let Some(first) = slices.first() else {
        return SeriesInfo::default();
    };
    let mut info = SeriesInfo {
        slice_count: slices.len(),
        rows: first.rows,
        columns: first.columns,
        pixel_spacing_row: first.pixel_spacing.map(|s| s[0]),
        pixel_spacing_col: first.pixel_spacing.map(|s| s[1]),
        slice_thickness: first.slice_thickness,
        spacing_between_slices: first.spacing_between_slices.or_else(|| position_spacing(slices)),
        echo_time_ms: first.echo_time,
        repetition_time_ms: first.repetition_time,
        flip_angle: first.flip_angle,
        manufacturer: first.manufacturer.clone(),
        model: first.model.clone(),
        field_strength_t: first.field_strength,
        error: None,
        geometry: None,
    };
    info.error = first_inconsistency(slices);
    if info.error.is_none() {
        info.geometry = geometry(slices);
    }
    info
}

/// The series' grid in the scanner, slices in position order along the normal; `None` when a
/// slice lacks a position or the first lacks its orientation or spacing.
fn geometry(slices: &[SliceHeader]) -> Option<SeriesGeometry> {
    let first = slices.first()?;
    let mut placed: Vec<(f64, SliceGeometry)> = slices
        .iter()
        .map(|s| {
            let slice = SliceGeometry {
                file: s.file.clone(),
                position: s.position?,
                pixel_header: Some(s.pixel_header.clone()),
            };
            Some((slice_offset(s), slice))
        })
        .collect::<Option<_>>()?;
    placed.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(SeriesGeometry {
        rows: first.rows?,
        columns: first.columns?,
        pixel_spacing_mm: first.pixel_spacing?,
        orientation: first.orientation?,
        slices: placed.into_iter().map(|(_, slice)| slice).collect(),
        frame_of_reference_uid: first.frame_of_reference_uid.clone(),
    })
}

/// Position of a slice along its normal (mm), for ordering when InstanceNumber ties.
fn slice_offset(slice: &SliceHeader) -> f64 {
    match (slice.position, slice.orientation) {
        (Some(p), Some(o)) => {
            let n = normal(o);
            p[0] * n[0] + p[1] * n[1] + p[2] * n[2]
        }
        _ => 0.0,
    }
}

fn normal(o: [f64; 6]) -> [f64; 3] {
    [
        o[1] * o[5] - o[2] * o[4],
        o[2] * o[3] - o[0] * o[5],
        o[0] * o[4] - o[1] * o[3],
    ]
}

/// Mean distance between consecutive slice positions along the normal, when all slices have one.
fn position_spacing(slices: &[SliceHeader]) -> Option<f64> {
    if slices.len() < 2 || slices.iter().any(|s| s.position.is_none() || s.orientation.is_none()) {
        return None;
    }
    let first = slice_offset(&slices[0]);
    let last = slice_offset(&slices[slices.len() - 1]);
    Some(((last - first) / (slices.len() - 1) as f64).abs()).filter(|d| *d > 0.0)
}

/// The first way a slice disagrees with the first slice's grid, naming the file.
fn first_inconsistency(slices: &[SliceHeader]) -> Option<String> {
    let first = &slices[0];
    let name = |s: &SliceHeader| s.file.display().to_string();
    for s in &slices[1..] {
        if let (Some(a), Some(b)) = (&s.series_uid, &first.series_uid)
            && a != b
        {
            return Some(format!(
                "{}: SeriesInstanceUID {a} differs from {b} of {} (two series in one folder?)",
                name(s),
                name(first)
            ));
        }
        if (s.rows, s.columns) != (first.rows, first.columns) {
            return Some(format!(
                "{}: {} differs from {} of {}",
                name(s),
                grid_text(s.rows, s.columns),
                grid_text(first.rows, first.columns),
                name(first)
            ));
        }
        if !same_spacing(s.pixel_spacing, first.pixel_spacing) {
            return Some(format!(
                "{}: pixel spacing {} differs from {} of {}",
                name(s),
                spacing_text(s.pixel_spacing),
                spacing_text(first.pixel_spacing),
                name(first)
            ));
        }
        if let (Some(a), Some(b)) = (s.orientation, first.orientation)
            && a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-3)
        {
            return Some(format!(
                "{}: ImageOrientationPatient differs from that of {}",
                name(s),
                name(first)
            ));
        }
    }
    if let Some(fault) = uneven_slice_gap(slices) {
        return Some(fault);
    }
    for (a, b) in slices.iter().zip(&slices[1..]) {
        if a.instance_number.is_some() && a.instance_number == b.instance_number {
            return Some(format!("{}: InstanceNumber repeats that of {}", name(b), name(a)));
        }
    }
    if first.rows.is_none() || first.columns.is_none() {
        return Some(format!("{}: no Rows/Columns", name(first)));
    }
    None
}

/// A missing or doubled slice shows as a gap between neighbouring slice positions that differs
/// from the series' typical gap (the median) by more than half of it.
fn uneven_slice_gap(slices: &[SliceHeader]) -> Option<String> {
    if slices.len() < 3 || slices.iter().any(|s| s.position.is_none() || s.orientation.is_none()) {
        return None;
    }
    let mut by_position: Vec<(f64, &SliceHeader)> = slices.iter().map(|s| (slice_offset(s), s)).collect();
    by_position.sort_by(|a, b| a.0.total_cmp(&b.0));
    let gaps: Vec<f64> = by_position.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let mut sorted = gaps.clone();
    sorted.sort_by(f64::total_cmp);
    let typical = sorted[sorted.len() / 2];
    let (i, gap) = gaps
        .iter()
        .enumerate()
        .find(|(_, g)| (**g - typical).abs() > 0.5 * typical)?;
    let (a, b) = (by_position[i].1, by_position[i + 1].1);
    Some(format!(
        "{}: {gap:.2} mm from the slice of {} where the series' slices are {typical:.2} mm apart (a slice missing or repeated?)",
        b.file.display(),
        a.file.display()
    ))
}

fn grid_text(rows: Option<u32>, columns: Option<u32>) -> String {
    let show = |v: Option<u32>| v.map_or("?".to_string(), |v| v.to_string());
    format!("{} rows × {} columns", show(rows), show(columns))
}

fn spacing_text(spacing: Option<[f64; 2]>) -> String {
    spacing.map_or("(none)".to_string(), |[row, col]| format!("{row} × {col} mm"))
}

fn same_spacing(a: Option<[f64; 2]>, b: Option<[f64; 2]>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a
            .iter()
            .zip(&b)
            .all(|(x, y)| (x - y).abs() <= 1e-4 * x.abs().max(y.abs())),
        (None, None) => true,
        _ => false,
    }
}
