//! The fault corpus: each kind of damage a hospital export, a converter or a hand-edited sheet
//! can do, made by the test itself on a fresh copy of two sample patients. Each kind asserts one
//! clear message naming the file and the fault, every healthy row still present, the exit status
//! the README documents (0 with a warning, 1 for an error), and no panic.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{copy_of_sample, npcql, stderr, stdout};

/// One kind of fault.
struct Fault {
    kind: &'static str,
    /// Damages the dataset at the given root; returns the file the message must name (its file
    /// or folder name suffices), or None when nothing is to be named.
    damage: fn(&Path) -> Option<PathBuf>,
    /// What runs on the damaged dataset.
    sql: &'static str,
    /// What the message must say.
    says: &'static str,
    /// The exit status: 0 (a warning, the rows still come) or 1 (an error).
    exit: i32,
    /// Rows of output expected (csv lines without the header); None: not checked.
    rows: Option<usize>,
}

const MASKS: &str = "SELECT path, tumor_volume(path) AS v FROM masks ORDER BY path";
const SCANS: &str = "SELECT patient_id, modality, slice_count, error FROM scans ORDER BY 1, 2";
const PATIENTS: &str = "SELECT patient_id, age, ebv_status FROM patients ORDER BY 1";
const RADIOMICS: &str = "SELECT patient_id, modality, glcm_idmn FROM radiomics ORDER BY 1, 2";

fn mask(root: &Path) -> PathBuf {
    root.join("MRI-Segments/001/ROI-T1.nii")
}

fn slice(root: &Path) -> PathBuf {
    root.join("MRI-Segments/001/T1WI/IM3.dcm")
}

fn clinical(root: &Path) -> PathBuf {
    root.join("clinical.csv")
}

/// Rewrites `path` through `edit`.
fn edit(path: &Path, edit: impl FnOnce(&mut Vec<u8>)) -> Option<PathBuf> {
    let mut bytes = std::fs::read(path).unwrap();
    edit(&mut bytes);
    std::fs::write(path, bytes).unwrap();
    Some(path.to_path_buf())
}

/// Writes `value` (little-endian bytes) at `offset` of the mask's header.
fn header(root: &Path, offset: usize, value: &[u8]) -> Option<PathBuf> {
    edit(&mask(root), |b| b[offset..offset + value.len()].copy_from_slice(value))
}

fn dims(root: &Path, dims: [i16; 4]) -> Option<PathBuf> {
    let bytes: Vec<u8> = dims.iter().flat_map(|d| d.to_le_bytes()).collect();
    header(root, 40, &bytes)
}

/// Replaces the mask with its gzipped bytes after `f` damages them, named `.nii.gz`.
fn gzip_mask(root: &Path, f: fn(&mut Vec<u8>)) -> Option<PathBuf> {
    use std::io::Write;
    let plain = mask(root);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    let mut gz = encoder.finish().unwrap();
    f(&mut gz);
    std::fs::remove_file(&plain).unwrap();
    let target = plain.with_extension("nii.gz");
    std::fs::write(&target, gz).unwrap();
    Some(target)
}

/// Rewrites the clinical sheet through `f`.
fn rewrite_sheet(root: &Path, f: impl FnOnce(&str) -> String) -> Option<PathBuf> {
    let text = std::fs::read_to_string(clinical(root)).unwrap();
    sheet(root, &f(&text))
}

/// Replaces the clinical sheet by `text`.
fn sheet(root: &Path, text: &str) -> Option<PathBuf> {
    std::fs::write(clinical(root), text).unwrap();
    Some(clinical(root))
}

/// Rewrites the slice in transfer syntax `syntax` (dicom-rs re-encodes its data set) after
/// `change` edits it. The series must still read: `scans` reads headers, never pixels.
fn reencode(root: &Path, syntax: &str, change: fn(&mut dicom_object::DefaultDicomObject)) -> Option<PathBuf> {
    let path = slice(root);
    let mut object = dicom_object::open_file(&path).unwrap();
    change(&mut object);
    object.update_meta(|meta| {
        meta.transfer_syntax = syntax.to_string();
        meta.update_information_group_length();
    });
    object.write_to_file(&path).unwrap();
    None
}

/// Rewrites every slice of patient 001's T1 series (so the slices the tumour touches too) in
/// transfer syntax `syntax` after `change` edits it; the series' folder is what a pixel fault names.
fn reencode_series(root: &Path, syntax: &str, change: fn(&mut dicom_object::DefaultDicomObject)) -> Option<PathBuf> {
    let series = root.join("MRI-Segments/001/T1WI");
    for entry in std::fs::read_dir(&series).unwrap() {
        let path = entry.unwrap().path();
        let mut object = dicom_object::open_file(&path).unwrap();
        change(&mut object);
        object.update_meta(|meta| {
            meta.transfer_syntax = syntax.to_string();
            meta.update_information_group_length();
        });
        object.write_to_file(&path).unwrap();
    }
    Some(series)
}

/// Replaces clinical.csv by clinical.xlsx, written by `write` from the csv's rows (header first).
fn workbook(
    root: &Path,
    write: fn(&mut rust_xlsxwriter::Workbook, &[Vec<String>]) -> Result<(), rust_xlsxwriter::XlsxError>,
) -> Option<PathBuf> {
    let text = std::fs::read_to_string(clinical(root)).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect();
    std::fs::remove_file(clinical(root)).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    write(&mut book, &rows).unwrap();
    let path = root.join("clinical.xlsx");
    book.save(&path).unwrap();
    Some(path)
}

/// Writes `rows` into `sheet` from row `first` on: numbers as numbers, except the ids (the first
/// column), kept as text as clinical sheets do to keep "001".
fn write_rows(
    sheet: &mut rust_xlsxwriter::Worksheet,
    first: u32,
    rows: &[Vec<String>],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (first + r as u32, c as u16);
            match cell.parse::<f64>() {
                Ok(number) if c > 0 => sheet.write_number(r, c, number)?,
                _ => sheet.write_string(r, c, cell)?,
            };
        }
    }
    Ok(())
}

/// Writes npcql.toml's `[clinical]` table.
fn clinical_settings(root: &Path, settings: &str) {
    std::fs::write(root.join("npcql.toml"), format!("[clinical]\n{settings}\n")).unwrap();
}

/// The value bytes of DICOM element (group, element) in an explicit-VR little-endian file.
fn dicom_value(bytes: &[u8], group: u16, element: u16) -> std::ops::Range<usize> {
    let tag = [group.to_le_bytes(), element.to_le_bytes()].concat();
    let at = bytes.windows(4).position(|w| w == tag.as_slice()).expect("tag present");
    let length = u16::from_le_bytes([bytes[at + 6], bytes[at + 7]]) as usize;
    at + 8..at + 8 + length
}

/// A T1 slice of another grid size put into 001's T2 series, with the T2 series' UID.
fn foreign_slice(root: &Path) -> Option<PathBuf> {
    let series = root.join("MRI-Segments/001/T2WI");
    let uid = {
        let own = std::fs::read(series.join("IM1.dcm")).unwrap();
        own[dicom_value(&own, 0x0020, 0x000E)].to_vec()
    };
    let target = series.join("IM99.dcm");
    std::fs::copy(slice(root), &target).unwrap();
    edit(&target, |b| {
        let value = dicom_value(b, 0x0020, 0x000E);
        assert_eq!(value.len(), uid.len(), "the sample's series UIDs have one length");
        b[value].copy_from_slice(&uid);
    })
}

/// The mask as big-endian NIfTI-1: every multi-byte header field byte-swapped (the voxels are
/// uint8, one byte each).
fn big_endian(root: &Path) -> Option<PathBuf> {
    edit(&mask(root), |b| {
        // (offset, size) of each multi-byte field of the 348-byte header.
        let mut fields = vec![(0, 4), (32, 4), (36, 2), (38, 2)]; // sizeof_hdr, extents, session_error, regular+dim_info
        fields.retain(|&(o, _)| o != 38); // regular and dim_info are single bytes
        fields.extend((40..56).step_by(2).map(|o| (o, 2))); // dim
        fields.extend((56..68).step_by(4).map(|o| (o, 4))); // intent_p1..3
        fields.extend([(68, 2), (70, 2), (72, 2), (74, 2)]); // intent_code, datatype, bitpix, slice_start
        fields.extend((76..120).step_by(4).map(|o| (o, 4))); // pixdim, vox_offset, scl_slope, scl_inter
        fields.push((120, 2)); // slice_end (then slice_code and xyzt_units: single bytes)
        fields.extend((124..148).step_by(4).map(|o| (o, 4))); // cal_max/min, slice_duration, toffset, glmax/min
        fields.extend([(252, 2), (254, 2)]); // qform_code, sform_code
        fields.extend((256..344).step_by(4).map(|o| (o, 4))); // quatern, qoffset, srow
        for (offset, size) in fields {
            b[offset..offset + size].reverse();
        }
    })
}

/// The mask as float32 with NaN for background: NaN is not tumour.
fn nan_background(root: &Path) -> Option<PathBuf> {
    edit(&mask(root), |b| {
        let voxels: Vec<u8> = b[352..].to_vec();
        b[70..72].copy_from_slice(&16i16.to_le_bytes());
        b[72..74].copy_from_slice(&32i16.to_le_bytes());
        b.truncate(352);
        for v in voxels {
            b.extend_from_slice(&if v == 0 { f32::NAN } else { 1.0f32 }.to_le_bytes());
        }
    })
}

fn faults() -> Vec<Fault> {
    let warn = |kind, damage, sql, says, rows| Fault {
        kind,
        damage,
        sql,
        says,
        exit: 0,
        rows: Some(rows),
    };
    // Read cleanly: no message at all, every row.
    let read = |kind, damage, sql, rows| Fault {
        kind,
        damage,
        sql,
        says: "",
        exit: 0,
        rows: Some(rows),
    };
    let error = |kind, damage, sql, says| Fault {
        kind,
        damage,
        sql,
        says,
        exit: 1,
        rows: None,
    };
    vec![
        // NIfTI masks: NULL and a warning naming the file; the other five masks still measured.
        warn(
            "nifti: truncated header",
            |r| edit(&mask(r), |b| b.truncate(100)),
            MASKS,
            "truncated: header promises 348 bytes",
            6,
        ),
        warn(
            "nifti: truncated voxels",
            |r| edit(&mask(r), |b| b.truncate(400)),
            MASKS,
            "truncated",
            6,
        ),
        warn(
            "nifti: bad magic",
            |r| header(r, 344, b"xyz\0"),
            MASKS,
            "not a readable NIfTI header (bad magic code)",
            6,
        ),
        // A real NIfTI-2 mask, as nibabel writes it (tests/reference/nifti2): read as any other.
        read(
            "nifti: NIfTI-2 (nibabel)",
            |r| {
                let nifti2 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/nifti2/ROI-T1.nii");
                std::fs::copy(nifti2, mask(r)).unwrap();
                None
            },
            MASKS,
            6,
        ),
        warn(
            "nifti: NIfTI-1 header claiming NIfTI-2's size",
            |r| header(r, 0, &540i32.to_le_bytes()),
            MASKS,
            "magic is not \"n+2\"",
            6,
        ),
        warn(
            "nifti: zero dimension",
            |r| dims(r, [3, 0, 64, 20]),
            MASKS,
            "bad dimensions",
            6,
        ),
        warn(
            "nifti: negative dimension",
            |r| dims(r, [3, -5, 64, 20]),
            MASKS,
            "bad dimensions",
            6,
        ),
        warn(
            "nifti: absurd dimensions",
            |r| dims(r, [3, 32767, 32767, 32767]),
            MASKS,
            "exceed the 1073741824-voxel limit",
            6,
        ),
        warn(
            "nifti: rank 5",
            |r| header(r, 40, &5i16.to_le_bytes()).and(header(r, 48, &3i16.to_le_bytes())),
            MASKS,
            "bad dimensions",
            6,
        ),
        // ITK-SNAP writes dim[0] = 4 with a singleton 4th axis: read as the 3D mask it is.
        read(
            "nifti: dim[0] 4 with a singleton 4th axis",
            |r| header(r, 40, &4i16.to_le_bytes()).and(header(r, 48, &1i16.to_le_bytes())),
            MASKS,
            6,
        ),
        warn(
            "nifti: NaN spacing",
            |r| header(r, 80, &f32::NAN.to_le_bytes()),
            MASKS,
            "bad voxel spacing",
            6,
        ),
        warn(
            "nifti: zero spacing",
            |r| header(r, 80, &0f32.to_le_bytes()),
            MASKS,
            "bad voxel spacing",
            6,
        ),
        warn(
            "nifti: negative spacing",
            |r| header(r, 80, &(-1f32).to_le_bytes()),
            MASKS,
            "bad voxel spacing",
            6,
        ),
        warn(
            "nifti: vox_offset past the end",
            |r| header(r, 108, &1e9f32.to_le_bytes()),
            MASKS,
            "truncated: header promises 1000123904 bytes",
            6,
        ),
        warn(
            "nifti: vox_offset inside the header",
            |r| header(r, 108, &100f32.to_le_bytes()),
            MASKS,
            "bad vox_offset 100",
            6,
        ),
        read("nifti: big-endian", |r| big_endian(r).and(None), MASKS, 6),
        read(
            "nifti: NaN voxels (float32, NaN background)",
            |r| nan_background(r).and(None),
            MASKS,
            6,
        ),
        read(
            "nifti: scl_slope 0 (no scaling)",
            |r| header(r, 112, &0f32.to_le_bytes()).and(None),
            MASKS,
            6,
        ),
        warn(
            "nifti: scaling turns the background non-zero",
            |r| header(r, 116, &1f32.to_le_bytes()),
            MASKS,
            "scl_slope 1 and scl_inter 1 leave no voxel at zero: the background would be tumour",
            6,
        ),
        warn(
            "nifti: unsupported datatype",
            |r| header(r, 70, &32i16.to_le_bytes()),
            MASKS,
            "unsupported datatype",
            6,
        ),
        warn(
            "nifti: gzip truncated",
            |r| gzip_mask(r, |b| b.truncate(b.len() / 2)),
            MASKS,
            "truncated",
            6,
        ),
        warn(
            "nifti: gzip corrupt",
            |r| {
                gzip_mask(r, |b| {
                    let n = b.len();
                    b[n / 2..n / 2 + 16].fill(0xAA)
                })
            },
            MASKS,
            "gzip",
            6,
        ),
        // A name that says gzip over plain bytes: the content decides, and the mask reads.
        read(
            "nifti: .nii.gz that is not gzip",
            |r| {
                let m = mask(r);
                std::fs::rename(&m, m.with_extension("nii.gz")).unwrap();
                None
            },
            MASKS,
            6,
        ),
        // The mask as an Analyze 7.5 pair: its 348-byte header and its voxels in two files.
        warn(
            "nifti: an Analyze .hdr/.img pair",
            |r| {
                let bytes = std::fs::read(mask(r)).unwrap();
                std::fs::remove_file(mask(r)).unwrap();
                let header = mask(r).with_extension("hdr");
                std::fs::write(&header, &bytes[..348]).unwrap();
                std::fs::write(mask(r).with_extension("img"), &bytes[352..]).unwrap();
                Some(header)
            },
            "SELECT path, problem FROM dataset_issues",
            "ROI-T1.hdr/.img is an Analyze-style image pair, which npcql does not read",
            1,
        ),
        warn("nifti: empty file", |r| edit(&mask(r), Vec::clear), MASKS, "holds 0", 6),
        // DICOM series: the series row says what is wrong (and names the slice); the other
        // series still read.
        warn(
            "dicom: truncated slice",
            |r| edit(&slice(r), |b| b.truncate(200)),
            SCANS,
            "truncated or corrupt: element (0002,0003)",
            6,
        ),
        warn(
            "dicom: zero-byte slice",
            |r| edit(&slice(r), Vec::clear),
            SCANS,
            "not a readable DICOM file",
            6,
        ),
        warn(
            "dicom: not DICOM at all",
            |r| {
                edit(&slice(r), |b| {
                    b.clear();
                    b.extend_from_slice(b"hello, not a scan")
                })
            },
            SCANS,
            "not a readable DICOM file",
            6,
        ),
        warn(
            "dicom: a binary value of partial length",
            |r| {
                edit(&slice(r), |b| {
                    // BitsAllocated (US) declaring 1 byte: dicom-rs would lose its place.
                    let value = dicom_value(b, 0x0028, 0x0100);
                    b[value.start - 2..value.start].copy_from_slice(&1u16.to_le_bytes());
                })
            },
            SCANS,
            "element (0028,0100) US declares 1 bytes, not a whole number of its 2-byte values",
            6,
        ),
        warn(
            "dicom: duplicate InstanceNumber",
            |r| {
                let s = slice(r);
                std::fs::copy(&s, s.with_file_name("IM3-copy.dcm")).unwrap();
                Some(s.with_file_name("IM3-copy.dcm"))
            },
            SCANS,
            "slice missing or repeated",
            6,
        ),
        // Without an InstanceNumber the slice is placed by its position: the series reads.
        read(
            "dicom: missing InstanceNumber",
            |r| {
                edit(&slice(r), |b| {
                    let v = dicom_value(b, 0x0020, 0x0013);
                    b[v.start - 6] = 0x19
                })
                .and(None)
            },
            SCANS,
            6,
        ),
        warn(
            "dicom: slices of mixed orientation",
            |r| {
                edit(&slice(r), |b| {
                    let v = dicom_value(b, 0x0020, 0x0037);
                    b[v.start] = if b[v.start] == b'0' { b'1' } else { b'0' }
                })
            },
            SCANS,
            "ImageOrientationPatient differs",
            6,
        ),
        warn(
            "dicom: a slice of another size",
            foreign_slice,
            SCANS,
            "88 rows × 88 columns differs from 120 rows × 120 columns",
            6,
        ),
        warn(
            "dicom: mixed series UIDs",
            |r| {
                edit(&slice(r), |b| {
                    let v = dicom_value(b, 0x0020, 0x000E);
                    b[v.start] = if b[v.start] == b'9' { b'8' } else { b'9' }
                })
            },
            SCANS,
            "two series in one folder",
            6,
        ),
        // Other encodings of a slice: dicom-rs reads them all, up to the pixel data.
        read(
            "dicom: implicit VR little endian",
            |r| reencode(r, "1.2.840.10008.1.2", |_| {}),
            SCANS,
            6,
        ),
        read(
            "dicom: explicit VR big endian",
            |r| reencode(r, "1.2.840.10008.1.2.2", |_| {}),
            SCANS,
            6,
        ),
        // JPEG baseline: encapsulated pixel data (one fragment, not a real JPEG: the headers must
        // read without decoding it).
        read(
            "dicom: a compressed transfer syntax",
            |r| {
                reencode(r, "1.2.840.10008.1.2.4.50", |object| {
                    use dicom_core::value::PixelFragmentSequence;
                    let fragments = PixelFragmentSequence::new_fragments(vec![vec![0xFF, 0xD8, 0xFF, 0xD9]]);
                    object.put(dicom_core::DataElement::new(
                        dicom_dictionary_std::tags::PIXEL_DATA,
                        dicom_core::VR::OB,
                        fragments,
                    ));
                })
            },
            SCANS,
            6,
        ),
        read(
            "dicom: no pixel data",
            |r| {
                reencode(r, "1.2.840.10008.1.2.1", |object| {
                    object.remove_element(dicom_dictionary_std::tags::PIXEL_DATA);
                })
            },
            SCANS,
            6,
        ),
        // Pixels, as radiomics reads them: NULL and one warning naming the series or its slice;
        // the other five masks still get their features.
        warn(
            "pixels: BitsAllocated other than 8 or 16",
            |r| {
                reencode_series(r, "1.2.840.10008.1.2.1", |object| {
                    object.put(dicom_core::DataElement::new(
                        dicom_dictionary_std::tags::BITS_ALLOCATED,
                        dicom_core::VR::US,
                        dicom_core::PrimitiveValue::from(12u16),
                    ));
                })
            },
            RADIOMICS,
            "BitsAllocated 12, only 8 and 16 are read",
            6,
        ),
        warn(
            "pixels: a transfer syntax with no decoder here",
            |r| {
                reencode_series(r, "1.2.840.10008.1.2.4.90", |object| {
                    use dicom_core::value::PixelFragmentSequence;
                    let fragments = PixelFragmentSequence::new_fragments(vec![vec![0xFF, 0x4F, 0xFF, 0xD9]]);
                    object.put(dicom_core::DataElement::new(
                        dicom_dictionary_std::tags::PIXEL_DATA,
                        dicom_core::VR::OB,
                        fragments,
                    ));
                })
            },
            RADIOMICS,
            "unsupported transfer syntax",
            6,
        ),
        warn(
            "pixels: a mask that cannot be paired with its series",
            |r| {
                // The T2 delineation in place of the T1 one: another grid, another place.
                std::fs::copy(r.join("MRI-Segments/001/ROI-T2.nii"), mask(r)).unwrap();
                Some(mask(r))
            },
            RADIOMICS,
            "cannot be paired with the series",
            6,
        ),
        // Layout.
        warn(
            "layout: empty patient folder",
            |r| {
                std::fs::create_dir_all(r.join("MRI-Segments/099")).unwrap();
                Some(r.join("MRI-Segments/099"))
            },
            "SELECT * FROM dataset_issues",
            "no T1 series",
            7,
        ),
        read(
            "layout: stray file",
            |r| {
                std::fs::write(r.join("MRI-Segments/001/notes.txt"), "x").unwrap();
                None
            },
            MASKS,
            6,
        ),
        read(
            "layout: symlink loop",
            |r| {
                std::os::unix::fs::symlink(r.join("MRI-Segments/001"), r.join("MRI-Segments/001/T1WI/loop")).unwrap();
                None
            },
            SCANS,
            6,
        ),
        warn(
            "layout: a file where a series folder belongs",
            |r| {
                let d = r.join("MRI-Segments/002/T2WI");
                std::fs::remove_dir_all(&d).unwrap();
                std::fs::write(&d, "x").unwrap();
                Some(d)
            },
            "SELECT path, problem FROM dataset_issues",
            "no T2 series: T2WI is a file, not a folder",
            1,
        ),
        // The clinical sheet.
        warn(
            "clinical: empty file",
            |r| sheet(r, ""),
            PATIENTS,
            "the clinical file is empty (no header row); patients holds only ids",
            2,
        ),
        warn(
            "clinical: header only",
            |r| rewrite_sheet(r, |t| t.lines().next().unwrap().to_string()),
            PATIENTS,
            "patient 001 has a folder but no row in clinical.csv",
            2,
        ),
        read(
            "clinical: BOM and CRLF",
            |r| rewrite_sheet(r, |t| format!("\u{feff}{}", t.replace('\n', "\r\n"))).and(None),
            PATIENTS,
            2,
        ),
        // Chinese headers, mapped to the canonical names in npcql.toml.
        read(
            "clinical: Unicode column names mapped through npcql.toml",
            |r| {
                let t = std::fs::read_to_string(clinical(r)).unwrap();
                let (head, rest) = t.split_once('\n').unwrap();
                let head: Vec<&str> = head
                    .split(',')
                    .map(|c| match c {
                        "patient_id" => "病人编号",
                        "age" => "年龄",
                        "ebv_status" => "EBV状态",
                        other => other,
                    })
                    .collect();
                let head = head.join(",");
                sheet(r, &format!("{head}\n{rest}"));
                let toml = "[clinical.columns]\npatient_id = \"病人编号\"\nage = \"年龄\"\nebv_status = \"EBV状态\"\n";
                std::fs::write(r.join("npcql.toml"), toml).unwrap();
                None
            },
            PATIENTS,
            2,
        ),
        read(
            "clinical: semicolons",
            |r| rewrite_sheet(r, |t| t.replace(',', ";")).and(None),
            PATIENTS,
            2,
        ),
        read(
            "clinical: tabs",
            |r| rewrite_sheet(r, |t| t.replace(',', "\t")).and(None),
            PATIENTS,
            2,
        ),
        warn(
            "clinical: duplicate column names",
            |r| {
                sheet(
                    r,
                    "patient_id,age,age,ebv_status\n001,50,51,positive\n002,60,61,negative\n",
                )
            },
            PATIENTS,
            "two columns are named 'age'; the second is 'age_2'",
            2,
        ),
        warn(
            "clinical: a cell that is not a number",
            |r| sheet(r, "patient_id,age,ebv_status\n001,fifty,positive\n002,60,negative\n"),
            PATIENTS,
            "row 2: age 'fifty' is not a number; it is NULL",
            2,
        ),
        // Clinical workbooks.
        read(
            "clinical: xlsx, the data on its second sheet, named in npcql.toml",
            |r| {
                clinical_settings(r, "sheet = \"Clinical\"");
                workbook(r, |book, rows| {
                    book.add_worksheet()
                        .set_name("Notes")?
                        .write_string(0, 0, "exported 2024-03-01")?;
                    write_rows(book.add_worksheet().set_name("Clinical")?, 0, rows)
                })
                .and(None)
            },
            PATIENTS,
            2,
        ),
        warn(
            "clinical: xlsx, npcql.toml names a sheet it does not have",
            |r| {
                clinical_settings(r, "sheet = \"Patients\"");
                workbook(r, |book, rows| {
                    book.add_worksheet().set_name("Notes")?;
                    write_rows(book.add_worksheet().set_name("Clinical")?, 0, rows)
                })
            },
            PATIENTS,
            "has no sheet 'Patients' (its sheets: Notes, Clinical); patients holds only ids",
            2,
        ),
        read(
            "clinical: xlsx, a title merged across the columns above the header",
            |r| {
                clinical_settings(r, "header_row = 2");
                workbook(r, |book, rows| {
                    let sheet = book.add_worksheet();
                    let last = rows[0].len() as u16 - 1;
                    sheet.merge_range(
                        0,
                        0,
                        0,
                        last,
                        "NPC cohort: clinical data",
                        &rust_xlsxwriter::Format::new(),
                    )?;
                    write_rows(sheet, 1, rows)
                })
                .and(None)
            },
            PATIENTS,
            2,
        ),
        // A two-row header: groups above, names below; a column without a group has its name
        // merged over both rows.
        read(
            "clinical: xlsx, header cells merged over two rows",
            |r| {
                clinical_settings(r, "header_row = 2");
                workbook(r, |book, rows| {
                    let sheet = book.add_worksheet();
                    let plain = rust_xlsxwriter::Format::new();
                    sheet.merge_range(0, 0, 1, 0, &rows[0][0], &plain)?;
                    let last = rows[0].len() as u16 - 1;
                    sheet.merge_range(0, 1, 0, last, "at diagnosis", &plain)?;
                    for (c, name) in rows[0].iter().enumerate().skip(1) {
                        sheet.write_string(1, c as u16, name)?;
                    }
                    write_rows(sheet, 2, &rows[1..])
                })
                .and(None)
            },
            PATIENTS,
            2,
        ),
        read(
            "clinical: xlsx with dates",
            |r| {
                workbook(r, |book, rows| {
                    let sheet = book.add_worksheet();
                    write_rows(sheet, 0, rows)?;
                    let column = rows[0].len() as u16;
                    sheet.write_string(0, column, "diagnosis_date")?;
                    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                    for r in 1..rows.len() as u32 {
                        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2019, 3, r as u8)?;
                        sheet.write_datetime_with_format(r, column, &date, &format)?;
                    }
                    Ok(())
                })
                .and(None)
            },
            PATIENTS,
            2,
        ),
        // SQL.
        error(
            "sql: unknown function",
            |_| None,
            "SELECT tumour_volume(path) FROM masks",
            "Did you mean 'tumor_volume'?",
        ),
        error(
            "sql: wrong argument types",
            |_| None,
            "SELECT km_median('a', 'b') FROM patients",
            "argument 1 (time) must be numeric",
        ),
        error(
            "sql: misspelt STRUCT field",
            |_| None,
            "SELECT cox_ph(pfs_months, pfs_event, age)['hrr'] FROM patients",
            "Field hrr not found in struct",
        ),
        read(
            "sql: huge LIMIT",
            |_| None,
            "SELECT patient_id FROM patients LIMIT 9223372036854775807",
            2,
        ),
    ]
}

#[test]
fn every_kind_of_fault_gets_one_clear_message_and_keeps_the_healthy_rows() {
    let kinds = faults();
    assert!(kinds.len() >= 30, "{} kinds", kinds.len());
    let mut failures = Vec::new();
    // What each query gives on the healthy copy, paths made relative: a kind that reads cleanly
    // must give exactly this.
    let normalise = |out: &str, root: &Path| out.replace(root.to_str().unwrap(), "DATA").replace(".nii.gz", ".nii");
    let healthy = |sql: &str| {
        let data = copy_of_sample(2);
        normalise(
            &stdout(&npcql(&[
                "-d",
                data.path().to_str().unwrap(),
                "--format",
                "csv",
                "-c",
                sql,
            ])),
            data.path(),
        )
    };
    let healthy: std::collections::HashMap<&str, String> =
        [MASKS, SCANS, PATIENTS].iter().map(|q| (*q, healthy(q))).collect();
    for fault in kinds {
        let data = copy_of_sample(2);
        let named = (fault.damage)(data.path());
        let run = npcql(&["-d", data.path().to_str().unwrap(), "--format", "csv", "-c", fault.sql]);
        let (out, err) = (stdout(&run), stderr(&run));
        let mut problems = Vec::new();
        if run.status.code() != Some(fault.exit) {
            problems.push(format!("exit {:?}, expected {}", run.status.code(), fault.exit));
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        // A row's `error` column or a warning on stderr; "" means nothing at all is said.
        if fault.says.is_empty() && !err.is_empty() {
            problems.push("a message where none was expected".into());
        }
        if !err.contains(fault.says) && !out.contains(fault.says) {
            problems.push(format!("message lacks {:?}", fault.says));
        }
        if let Some(name) = named.as_ref().and_then(|p| p.file_name()) {
            let name = name.to_string_lossy();
            if !err.contains(name.as_ref()) && !out.contains(name.as_ref()) {
                problems.push(format!("nothing names {name}"));
            }
        }
        if fault.exit == 1 && err.lines().count() != 1 {
            problems.push("the error is not one line".into());
        }
        if let Some(rows) = fault.rows {
            let got = out.lines().count().saturating_sub(1);
            if got != rows {
                problems.push(format!("{got} rows, expected {rows}"));
            }
        }
        if fault.says.is_empty()
            && let Some(want) = healthy.get(fault.sql)
            && normalise(&out, data.path()) != *want
        {
            problems.push(format!("the rows differ from the healthy copy's:\n{want}"));
        }
        if std::env::var_os("FAULT_CORPUS_SHOW").is_some() {
            eprintln!("== {}\n{out}{err}", fault.kind);
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  stdout: {out}\n  stderr: {err}",
                fault.kind,
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} kinds failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Spreadsheet dates are a DATE column (as DuckDB reads them), not text or day numbers.
#[test]
fn spreadsheet_dates_are_a_date_column() {
    let data = copy_of_sample(2);
    let faults = faults();
    let dates = faults.iter().find(|f| f.kind == "clinical: xlsx with dates").unwrap();
    (dates.damage)(data.path());
    let sql = "SELECT patient_id, arrow_typeof(diagnosis_date) AS t, diagnosis_date FROM patients ORDER BY 1";
    let out = npcql(&["-d", data.path().to_str().unwrap(), "--format", "csv", "-c", sql]);
    assert_eq!(
        stdout(&out),
        "patient_id,t,diagnosis_date\n001,Date32,2019-03-01\n002,Date32,2019-03-02\n",
        "{}",
        stderr(&out)
    );
}

/// Files npcql may not read: each is NULL (or its series' error) with a warning naming it, and
/// the rest still reads. As root every file is readable, so there the run drops to `nobody`
/// (util-linux's setpriv) with a copy of the binary it can execute.
#[test]
fn unreadable_files_are_named_and_the_rest_still_reads() {
    use std::os::unix::fs::PermissionsExt;
    let data = copy_of_sample(2);
    let root = data.path();
    std::fs::set_permissions(mask(root), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(slice(root), std::fs::Permissions::from_mode(0o000)).unwrap();
    let sql = "SELECT m.path, tumor_volume(m.path) AS v, s.error FROM masks m JOIN scans s USING (patient_id, modality) ORDER BY 1";
    let uid = Command::new("id").arg("-u").output().unwrap();
    let as_root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if as_root && !setpriv {
        eprintln!("skipped: running as root without util-linux's setpriv, every file is readable");
        return;
    }
    let run = if as_root {
        // The copy's folders must be enterable by nobody; the binary too.
        for dir in walk_dirs(root) {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let binary = root.join("npcql");
        std::fs::copy(env!("CARGO_BIN_EXE_npcql"), &binary).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A test thread that forks while the copy is open for writing hands the child that
        // descriptor until it execs, and exec of the copy then fails with "Text file busy":
        // try again after a moment.
        let mut attempts = 0;
        loop {
            let run = Command::new("setpriv")
                .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
                .arg(&binary)
                .args(["-d", root.to_str().unwrap(), "--format", "csv", "-c", sql])
                .env("HOME", root)
                .output()
                .expect("setpriv runs");
            attempts += 1;
            if attempts == 10 || !stderr(&run).contains("Text file busy") {
                break run;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    } else {
        npcql(&["-d", root.to_str().unwrap(), "--format", "csv", "-c", sql])
    };
    let (out, err) = (stdout(&run), stderr(&run));
    assert_eq!(run.status.code(), Some(0), "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("ROI-T1.nii") && err.contains("Permission denied"), "{err}");
    assert!(out.contains("IM3.dcm") && out.contains("Permission denied"), "{out}");
    let measured = out
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1).is_some_and(|v| !v.is_empty()));
    assert_eq!(measured.count(), 5, "the other five masks are measured:\n{out}");
}

/// Every folder under `root`, itself included.
fn walk_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.to_path_buf()];
    let mut i = 0;
    while i < dirs.len() {
        for entry in std::fs::read_dir(&dirs[i]).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        i += 1;
    }
    dirs
}
