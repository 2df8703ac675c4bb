//! The pixel reader against SimpleITK's ImageSeriesReader on the sample's T2WI series and on
//! the same slices re-encoded by pydicom and GDCM (tests/reference/pixels, with its script), and each
//! fault on damaged copies of the sample.

use std::path::{Path, PathBuf};

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;

use super::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn t2wi() -> PathBuf {
    root().join("data-sample/MRI-Segments/001/T2WI")
}

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("tests/reference/pixels/t2wi.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn slice_sums(volume: &PixelVolume) -> Vec<f64> {
    let plane = volume.dims[0] * volume.dims[1];
    volume.values.chunks(plane).map(|s| s.iter().sum()).collect()
}

fn numbers(value: &serde_json::Value) -> Vec<f64> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

#[test]
fn the_sample_series_matches_simpleitk() {
    let reference = reference();
    let geometry = series_geometry(&t2wi()).unwrap();
    let volume = read_volume(&geometry).unwrap();
    let shape: Vec<usize> = numbers(&reference["shape_xyz"]).iter().map(|&v| v as usize).collect();
    assert_eq!(volume.dims.to_vec(), shape);
    assert_eq!(volume.values.len(), shape.iter().product::<usize>());
    assert_eq!(volume.origin, [0, 0, 0]);
    assert_eq!(volume.photometric, Photometric::Monochrome2);
    // Integer-valued data: every figure exact.
    assert_eq!(volume.values.iter().sum::<f64>(), reference["sum"].as_f64().unwrap());
    assert_eq!(slice_sums(&volume), numbers(&reference["slice_sums"]));
    let files: Vec<String> = geometry
        .slices
        .iter()
        .map(|s| s.file.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let sitk_files: Vec<String> = reference["slice_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(files, sitk_files, "slice order differs from GDCM's");
    for voxel in reference["voxels_ijk_value"].as_array().unwrap() {
        let v = numbers(voxel);
        let (i, j, k) = (v[0] as usize, v[1] as usize, v[2] as usize);
        assert_eq!(volume.get(i, j, k), v[3], "voxel ({i}, {j}, {k})");
    }
}

#[test]
fn a_slice_range_is_the_volume_s_slices_and_opens_no_other_file() {
    let whole = read_volume(&series_geometry(&t2wi()).unwrap()).unwrap();
    let dir = copy_of_t2wi();
    let geometry = series_geometry(dir.path()).unwrap();
    // Damage every slice outside 8..11 after the headers were read: the range must not open them.
    for (k, slice) in geometry.slices.iter().enumerate() {
        if !(8..11).contains(&k) {
            std::fs::write(&slice.file, b"not DICOM").unwrap();
        }
    }
    let part = read_slices(&geometry, 8..11).unwrap();
    assert_eq!(part.dims, [120, 120, 3]);
    assert_eq!(part.origin, [0, 0, 8]);
    let plane = 120 * 120;
    assert_eq!(part.values, whole.values[8 * plane..11 * plane]);
    assert_eq!(part.get(60, 50, 1), whole.get(60, 50, 9));
    let fault = read_volume(&geometry).unwrap_err();
    assert_eq!(fault.file, geometry.slices[0].file);
    assert!(matches!(fault.fault, PixelFault::Slice(_)), "{fault}");
}

#[test]
fn a_region_is_the_volume_s_voxels_and_its_slice_statistics_cover_whole_slices() {
    let geometry = series_geometry(&t2wi()).unwrap();
    let whole = read_volume(&geometry).unwrap();
    let region = Region {
        columns: 30..70,
        rows: 45..47,
        slices: 8..11,
    };
    let part = read_region(&geometry, &region).unwrap();
    assert_eq!(part.dims, [40, 2, 3]);
    assert_eq!(part.origin, [30, 45, 8]);
    for k in 0..3 {
        for j in 0..2 {
            for i in 0..40 {
                assert_eq!(part.get(i, j, k), whole.get(30 + i, 45 + j, 8 + k));
            }
        }
    }
    let plane = 120 * 120;
    let slices = &whole.values[8 * plane..11 * plane];
    let minimum = slices.iter().copied().fold(f64::INFINITY, f64::min);
    let maximum = slices.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = slices.iter().sum::<f64>() / slices.len() as f64;
    assert_eq!((part.slices_minimum, part.slices_maximum), (minimum, maximum));
    assert!(
        (part.slices_mean - mean).abs() <= 1e-12 * mean.abs(),
        "{} {mean}",
        part.slices_mean
    );
    let outside = Region {
        columns: 100..121,
        ..region
    };
    let fault = read_region(&geometry, &outside).unwrap_err();
    assert!(matches!(fault.fault, PixelFault::Region { .. }), "{fault}");
    assert!(fault.to_string().contains("columns 100..121"), "{fault}");
}

#[test]
fn every_encoding_gives_the_same_real_values() {
    let reference = reference();
    let whole = read_volume(&series_geometry(&t2wi()).unwrap()).unwrap();
    let first = reference["variants"]["first_slice"].as_u64().unwrap() as usize;
    let count = reference["variants"]["count"].as_u64().unwrap() as usize;
    let plane = 120 * 120;
    let expected = &whole.values[first * plane..(first + count) * plane];
    for encoding in ["rle", "deflated", "big_endian", "rescaled", "jpeg_lossless"] {
        let dir = root().join("tests/reference/pixels/variants").join(encoding);
        let geometry = series_geometry(&dir).unwrap();
        // The file names run against the positions: the order is the geometry's.
        assert!(geometry.slices[0].file.ends_with("IM3.dcm"), "{encoding}");
        let volume = read_volume(&geometry).unwrap();
        assert_eq!(volume.dims, [120, 120, count], "{encoding}");
        assert!(
            volume.values == expected,
            "{encoding}: values differ from the original's"
        );
        assert_eq!(
            slice_sums(&volume),
            numbers(&reference["variants"][encoding]["slice_sums"]),
            "{encoding}"
        );
    }
}

/// A temporary copy of the sample's T2WI series.
fn copy_of_t2wi() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(t2wi()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// Rewrites one slice file with `change` applied.
fn rewrite(file: &Path, change: impl FnOnce(&mut dicom_object::DefaultDicomObject)) {
    let mut obj = dicom_object::open_file(file).unwrap();
    change(&mut obj);
    obj.write_to_file(file).unwrap();
}

fn put_us(obj: &mut dicom_object::DefaultDicomObject, tag: Tag, value: u16) {
    obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
}

/// RescaleSlope and RescaleIntercept, as the decimal strings (DS) they are stored as.
fn put_rescale(obj: &mut dicom_object::DefaultDicomObject, slope: &str, intercept: &str) {
    obj.put(DataElement::new(
        tags::RESCALE_SLOPE,
        VR::DS,
        PrimitiveValue::from(slope),
    ));
    obj.put(DataElement::new(
        tags::RESCALE_INTERCEPT,
        VR::DS,
        PrimitiveValue::from(intercept),
    ));
}

/// The fault of reading the whole series after `change` to its slice `k` (position order).
fn fault_after(k: usize, change: impl FnOnce(&mut dicom_object::DefaultDicomObject)) -> (PathBuf, PixelError) {
    let dir = copy_of_t2wi();
    let geometry = series_geometry(dir.path()).unwrap();
    let file = geometry.slices[k].file.clone();
    rewrite(&file, change);
    let fault = read_volume(&geometry).unwrap_err();
    let line = fault.to_string();
    assert!(
        !line.contains('\n') && line.contains(&file.display().to_string()),
        "{line}"
    );
    assert_eq!(fault.file, file);
    (file, fault)
}

#[test]
fn bits_allocated_other_than_8_or_16_is_a_fault() {
    let (_, fault) = fault_after(3, |obj| put_us(obj, tags::BITS_ALLOCATED, 32));
    assert_eq!(fault.fault, PixelFault::BitsAllocated(32));
    assert!(fault.to_string().contains("BitsAllocated 32"), "{fault}");
}

#[test]
fn more_than_one_sample_per_pixel_is_a_fault() {
    let (_, fault) = fault_after(0, |obj| put_us(obj, tags::SAMPLES_PER_PIXEL, 3));
    assert_eq!(fault.fault, PixelFault::SamplesPerPixel(3));
}

#[test]
fn short_pixel_data_is_truncated() {
    let (_, fault) = fault_after(5, |obj| {
        obj.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            PrimitiveValue::from(vec![0u8; 1000]),
        ));
    });
    assert_eq!(
        fault.fault,
        PixelFault::Truncated {
            needed: 120 * 120 * 2,
            found: 1000
        }
    );
}

#[test]
fn a_file_cut_inside_its_pixels_is_a_fault_not_a_short_volume() {
    let dir = copy_of_t2wi();
    let geometry = series_geometry(dir.path()).unwrap();
    let file = &geometry.slices[2].file;
    let bytes = std::fs::read(file).unwrap();
    std::fs::write(file, &bytes[..bytes.len() - 100]).unwrap();
    let fault = read_volume(&geometry).unwrap_err();
    assert!(
        matches!(fault.fault, PixelFault::Slice(SliceFault::PixelDataTruncated { .. })),
        "{fault}"
    );
}

#[test]
fn an_unsupported_transfer_syntax_is_named() {
    for (uid, name) in [
        ("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"),
        ("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
    ] {
        let (_, fault) = fault_after(1, |obj| obj.meta_mut().transfer_syntax = uid.to_string());
        assert_eq!(
            fault.fault,
            PixelFault::UnsupportedTransferSyntax {
                uid: uid.to_string(),
                name
            }
        );
        assert!(fault.to_string().contains(name), "{fault}");
    }
}

/// Real JPEG 2000 slices (written by GDCM): refused by name, naming the first slice read.
#[test]
fn jpeg_2000_is_refused_by_name() {
    let dir = root().join("tests/reference/pixels/variants/jpeg2000_lossless");
    let geometry = series_geometry(&dir).unwrap();
    let fault = read_slices(&geometry, 1..3).unwrap_err();
    assert_eq!(fault.file, geometry.slices[1].file);
    assert_eq!(
        fault.fault,
        PixelFault::UnsupportedTransferSyntax {
            uid: "1.2.840.10008.1.2.4.90".to_string(),
            name: "JPEG 2000 Lossless"
        }
    );
    assert!(
        fault
            .to_string()
            .ends_with("unsupported transfer syntax JPEG 2000 Lossless (1.2.840.10008.1.2.4.90)")
    );
}

#[test]
fn a_slice_off_the_series_grid_is_a_fault() {
    // The headers were read before the slice changed: the pixel reader checks again.
    let (_, fault) = fault_after(7, |obj| put_us(obj, tags::ROWS, 60));
    assert_eq!(
        fault.fault,
        PixelFault::Grid {
            rows: 60,
            columns: 120,
            series_rows: 120,
            series_columns: 120
        }
    );
}

#[test]
fn a_series_whose_slices_differ_in_size_has_no_geometry() {
    let dir = copy_of_t2wi();
    let file = dir.path().join("IM4.dcm");
    rewrite(&file, |obj| put_us(obj, tags::COLUMNS, 60));
    let fault = series_geometry(dir.path()).unwrap_err();
    assert_eq!(fault.file, dir.path());
    let line = fault.to_string();
    assert!(
        line.contains("no series geometry") && line.contains("IM4.dcm"),
        "{line}"
    );
}

#[test]
fn a_slice_without_position_leaves_no_geometry() {
    let dir = copy_of_t2wi();
    rewrite(&dir.path().join("IM9.dcm"), |obj| {
        obj.remove_element(tags::IMAGE_POSITION_PATIENT);
    });
    let fault = series_geometry(dir.path()).unwrap_err();
    assert!(matches!(fault.fault, PixelFault::NoGeometry(_)), "{fault}");
}

#[test]
fn monochrome1_keeps_its_values_and_says_so() {
    let whole = read_volume(&series_geometry(&t2wi()).unwrap()).unwrap();
    let dir = copy_of_t2wi();
    let geometry = series_geometry(dir.path()).unwrap();
    let monochrome1 = |obj: &mut dicom_object::DefaultDicomObject| {
        obj.put(DataElement::new(
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            PrimitiveValue::from("MONOCHROME1"),
        ));
    };
    rewrite(&geometry.slices[0].file, monochrome1);
    let fault = read_volume(&geometry).unwrap_err();
    assert!(matches!(fault.fault, PixelFault::MixedPhotometric { .. }), "{fault}");
    for slice in &geometry.slices[1..] {
        rewrite(&slice.file, monochrome1);
    }
    let volume = read_volume(&geometry).unwrap();
    assert_eq!(volume.photometric, Photometric::Monochrome1);
    assert!(volume.values == whole.values);
}

#[test]
fn a_fractional_rescale_is_applied_in_f64() {
    let whole = read_volume(&series_geometry(&t2wi()).unwrap()).unwrap();
    let dir = copy_of_t2wi();
    let geometry = series_geometry(dir.path()).unwrap();
    rewrite(&geometry.slices[4].file, |obj| {
        put_rescale(obj, "0.3", "-7.25");
    });
    let volume = read_slices(&geometry, 3..6).unwrap();
    let plane = 120 * 120;
    for p in 0..plane {
        assert_eq!(volume.values[p], whole.values[3 * plane + p]);
        assert_eq!(volume.values[plane + p], whole.values[4 * plane + p] * 0.3 - 7.25);
    }
}

#[test]
fn a_slice_range_outside_the_series_is_a_fault() {
    let geometry = series_geometry(&t2wi()).unwrap();
    for range in [18..21, 5..5] {
        let fault = read_slices(&geometry, range.clone()).unwrap_err();
        assert_eq!(
            fault.fault,
            PixelFault::SliceRange {
                start: range.start,
                end: range.end,
                count: 20
            }
        );
    }
}

#[test]
fn stored_values_are_masked_to_bits_stored_and_sign_extended() {
    let unsigned = StoredValue::new(12, false);
    assert_eq!(unsigned.stored(0xF001), 1);
    assert_eq!(unsigned.stored(0x0FFF), 4095);
    let signed = StoredValue::new(12, true);
    assert_eq!(signed.stored(0x0FFF), -1);
    assert_eq!(signed.stored(0x0800), -2048);
    assert_eq!(signed.stored(0x07FF), 2047);
    let signed16 = StoredValue::new(16, true);
    assert_eq!(signed16.stored(0x8000), -32768);
    let byte = StoredValue::new(8, true);
    assert_eq!(byte.stored(0xFF), -1);
}

/// The fuzz target's seeds (fuzz/make_dicom_pixels_seeds.py): one 16 × 16 slice in six
/// encodings reads the same, and its signed 8-bit MONOCHROME1 copy with a fractional rescale
/// reads as numpy computed it.
#[test]
fn the_fuzz_seeds_read_as_written() {
    let seeds = root().join("fuzz/corpus/dicom_pixels");
    let read = |name: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(seeds.join(name), dir.path().join("IM1.dcm")).unwrap();
        read_volume(&series_geometry(dir.path()).unwrap()).unwrap()
    };
    let explicit = read("explicit_le.dcm");
    assert_eq!(explicit.dims, [16, 16, 1]);
    assert!(explicit.values.iter().any(|&v| v > 0.0));
    for name in [
        "implicit_le.dcm",
        "big_endian.dcm",
        "deflated.dcm",
        "rle.dcm",
        "jpeg_lossless.dcm",
    ] {
        assert!(read(name).values == explicit.values, "{name}");
    }
    let signed = read("signed_8bit_monochrome1_rescaled.dcm");
    assert_eq!(signed.photometric, Photometric::Monochrome1);
    let expected: Vec<f64> = explicit
        .values
        .iter()
        .map(|&v| ((v / 4.0).floor() - 180.0).clamp(-128.0, 127.0) * 1.5 - 3.0)
        .collect();
    assert!(signed.values == expected);
    assert!(signed.values.iter().any(|&v| v < 0.0));
}

/// Found by the fuzzer (`dicom_pixels`, a panic in dicom-rs's RLE decoder: index out of
/// bounds): an RLE segment that decodes to fewer bytes than the slice has pixels. RLE is now
/// decoded here, and a short segment is truncated pixel data.
#[test]
fn an_rle_segment_decoding_short_is_truncated_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("IM1.dcm"),
        include_bytes!("testdata/rle_segment_decoding_short.dcm"),
    )
    .unwrap();
    let fault = read_volume(&series_geometry(dir.path()).unwrap()).unwrap_err();
    assert!(matches!(fault.fault, PixelFault::Truncated { .. }), "{fault}");
}

#[test]
fn packbits_runs_literals_and_no_ops() {
    // A literal of 3, a run of 4 × 7, a no-op, a literal of 1.
    let segment = [2, 10, 11, 12, (-3i8) as u8, 7, 0x80, 0, 99];
    assert_eq!(unpack_bits(&segment, 8), Ok(vec![10, 11, 12, 7, 7, 7, 7, 99]));
    assert_eq!(unpack_bits(&segment, 5), Ok(vec![10, 11, 12, 7, 7]));
    assert_eq!(unpack_bits(&segment, 9), Err(8));
    // A literal cut short by the segment's end.
    assert_eq!(unpack_bits(&[5, 1, 2], 6), Err(0));
}

/// Found by the fuzzer (`dicom_pixels`, a panic in dicom-rs's JPEG adapter: range end out of
/// range): a JPEG frame larger than Rows × Columns. Its frame header is now checked first.
#[test]
fn a_jpeg_frame_of_another_size_is_a_fault_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("IM1.dcm"),
        include_bytes!("testdata/jpeg_frame_larger_than_rows_columns.dcm"),
    )
    .unwrap();
    let fault = read_volume(&series_geometry(dir.path()).unwrap()).unwrap_err();
    assert!(fault.to_string().contains("JPEG: its frame is"), "{fault}");
    // The real JPEG Lossless seed with its Columns changed: refused, not zero-filled.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("IM1.dcm");
    std::fs::copy(root().join("fuzz/corpus/dicom_pixels/jpeg_lossless.dcm"), &file).unwrap();
    rewrite(&file, |obj| put_us(obj, tags::COLUMNS, 8));
    let fault = read_volume(&series_geometry(dir.path()).unwrap()).unwrap_err();
    assert!(
        fault
            .to_string()
            .contains("its frame is 16 rows × 16 columns × 1 components of 16 bits"),
        "{fault}"
    );
}

/// Found by the fuzzer (`dicom_pixels`, a timeout): RLE pixel data declared with the VR AE (a
/// 2-byte length) and followed by fragments. It must be a fault within a second, not seconds
/// of zero-filling.
#[test]
fn pixel_data_with_a_short_vr_is_a_fault_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("IM1.dcm"),
        include_bytes!("testdata/pixel_data_with_short_vr.dcm"),
    )
    .unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    let path = dir.path().to_path_buf();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let read = series_geometry(&path).and_then(|g| read_volume(&g));
        let _ = sender.send((read.map(|v| v.dims), started.elapsed()));
    });
    let (read, took) = receiver
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the read hangs");
    eprintln!("{read:?} in {took:?}");
    assert!(read.is_err(), "{read:?}");
}

#[test]
fn remembered_series_headers_are_read_again_when_a_file_changes() {
    use crate::dicom::read_series_remembered;
    let dir = copy_of_t2wi();
    let first = read_series_remembered(dir.path(), None);
    assert!(first.error.is_none(), "{:?}", first.error);
    assert_eq!(read_series_remembered(dir.path(), None), first);
    let geometry = first.geometry.as_ref().unwrap();
    std::fs::write(&geometry.slices[3].file, b"not DICOM").unwrap();
    let changed = read_series_remembered(dir.path(), None);
    assert!(changed.error.is_some_and(|e| e.contains("not a readable DICOM file")));
    std::fs::remove_file(&geometry.slices[3].file).unwrap();
    let removed = read_series_remembered(dir.path(), None);
    assert_eq!(removed.slice_count, first.slice_count - 1);
}

#[test]
fn the_header_readers_pixel_header_is_trusted_for_its_file_version_only() {
    let geometry = series_geometry(&t2wi()).unwrap();
    let plain = read_slices(&geometry, 0..1).unwrap();
    // The same file version: its header as the header reader read it (not parsed again), here
    // with a slope changed to tell the two apart.
    let mut told = geometry.clone();
    let header = told.slices[0].pixel_header.as_mut().unwrap();
    assert!(header.read_from.is_some());
    let intercept = header.rescale_intercept.unwrap_or(0.0);
    header.rescale_slope = Some(2.0 * header.rescale_slope.unwrap_or(1.0));
    let trusted = read_slices(&told, 0..1).unwrap();
    for (t, p) in trusted.values.iter().zip(&plain.values) {
        assert_eq!(*t, 2.0 * (p - intercept) + intercept);
    }
    // Another version (the file changed since): the header is parsed again.
    let header = told.slices[0].pixel_header.as_mut().unwrap();
    header.read_from.as_mut().unwrap().len += 1;
    assert_eq!(read_slices(&told, 0..1).unwrap().values, plain.values);
}

#[test]
fn a_header_longer_than_the_first_read_reads_as_a_short_one() {
    // A private value of 100 KB before the pixels: the header reader's first read (32 KiB)
    // ends inside it, and the walk and dicom-rs go on from the file.
    let dir = copy_of_t2wi();
    let plain = series_geometry(&t2wi()).unwrap();
    for slice in &series_geometry(dir.path()).unwrap().slices {
        rewrite(&slice.file, |obj| {
            obj.put(DataElement::new(
                Tag(0x0029, 0x1010),
                VR::OB,
                PrimitiveValue::from(vec![7u8; 100_000]),
            ));
        });
    }
    let long = series_geometry(dir.path()).unwrap();
    assert_eq!(long.slices.len(), plain.slices.len());
    for (l, p) in long.slices.iter().zip(&plain.slices) {
        assert_eq!(l.position, p.position);
        let (mut l, mut p) = (l.pixel_header.clone().unwrap(), p.pixel_header.clone().unwrap());
        (l.read_from, p.read_from) = (None, None);
        assert_eq!(l, p);
    }
    assert_eq!(read_volume(&long).unwrap().values, read_volume(&plain).unwrap().values);
}

#[test]
fn stored_values_under_the_rescale_are_the_real_values() {
    // A fractional rescale, so that real and stored values differ.
    let dir = copy_of_t2wi();
    for slice in &series_geometry(dir.path()).unwrap().slices {
        rewrite(&slice.file, |obj| {
            put_rescale(obj, "0.5", "-3");
        });
    }
    let geometry = series_geometry(dir.path()).unwrap();
    let real = read_volume(&geometry).unwrap();
    let mut files = Vec::new();
    let (stored, rescale) = read_stored_int16(&geometry, &mut |version, bytes| {
        files.push((version.clone(), bytes.to_vec()))
    })
    .unwrap()
    .expect("one rescale, values within int16");
    // Each file's version and bytes, in slice order.
    let on_disk: Vec<_> = geometry
        .slices
        .iter()
        .map(|s| (FileVersion::of(&s.file).unwrap(), std::fs::read(&s.file).unwrap()))
        .collect();
    assert_eq!(files, on_disk);
    assert_eq!((rescale.slope, rescale.intercept), (0.5, -3.0));
    assert_eq!(stored.dims, real.dims);
    assert_eq!(stored.common_rescale, real.common_rescale);
    for (s, r) in stored.values.iter().zip(&real.values) {
        assert_eq!(f64::from(*s) * 0.5 - 3.0, *r);
    }
    assert!(stored.values.iter().any(|&s| f64::from(s) != f64::from(s) * 0.5 - 3.0));
}

#[test]
fn stored_int16_is_refused_beyond_int16_or_under_two_rescales() {
    // One unsigned 16-bit sample above 32767: int16 cannot hold it.
    let dir = copy_of_t2wi();
    let first = series_geometry(dir.path()).unwrap().slices[0].file.clone();
    rewrite(&first, |obj| {
        for (tag, value) in [
            (tags::BITS_STORED, 16),
            (tags::HIGH_BIT, 15),
            (tags::PIXEL_REPRESENTATION, 0),
        ] {
            obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value as u16)));
        }
        let mut pixels = obj.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap().to_vec();
        pixels[..2].copy_from_slice(&0xFFFFu16.to_le_bytes());
        obj.put(DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::from(pixels)));
    });
    let geometry = series_geometry(dir.path()).unwrap();
    assert_eq!(read_volume(&geometry).unwrap().values[0], 65535.0);
    assert!(read_stored_int16(&geometry, &mut |_, _| {}).unwrap().is_none());

    // Two rescales: the stored values mean different things on different slices.
    let dir = copy_of_t2wi();
    let first = series_geometry(dir.path()).unwrap().slices[0].file.clone();
    rewrite(&first, |obj| put_rescale(obj, "2", "0"));
    let geometry = series_geometry(dir.path()).unwrap();
    assert!(read_stored_int16(&geometry, &mut |_, _| {}).unwrap().is_none());
}

#[test]
fn sixteen_bit_samples_are_the_same_words_aligned_or_not() {
    let bytes: Vec<u8> = (1u8..=21).collect();
    let words = |b: &[u8], order| match Samples::words16(b, order) {
        Samples::Words16(w) => (matches!(w, Cow::Borrowed(_)), w.into_owned()),
        _ => unreachable!("16-bit samples are words"),
    };
    let little = |b: &[u8]| -> Vec<u16> { b.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect() };
    // One of the two views starts at an odd address: it is copied, the other borrowed.
    let (even, odd) = match bytes.as_ptr() as usize % 2 {
        0 => (&bytes[..20], &bytes[1..21]),
        _ => (&bytes[1..21], &bytes[..20]),
    };
    assert_eq!(
        words(even, ByteOrder::Little),
        (cfg!(target_endian = "little"), little(even))
    );
    assert_eq!(words(odd, ByteOrder::Little), (false, little(odd)));
    let native: Vec<u16> = odd.chunks_exact(2).map(|p| u16::from_ne_bytes([p[0], p[1]])).collect();
    assert_eq!(words(odd, ByteOrder::Native), (false, native));
}

proptest::proptest! {
    /// 16-bit samples take their range and sum in 16-bit lanes: the same as in 32-bit ones,
    /// for every BitsStored and either sign, whatever the bits above BitsStored hold.
    #[test]
    fn sixteen_bit_lanes_give_the_32_bit_range_and_sum(
        samples in proptest::collection::vec(proptest::num::u16::ANY, 1..3000),
        bits in 1u32..=16,
        signed in proptest::bool::ANY,
    ) {
        let stored = StoredValue::new(bits, signed);
        let words: Vec<u32> = samples.iter().map(|&s| u32::from(s)).collect();
        proptest::prop_assert_eq!(
            Samples::Words16(Cow::Owned(samples)).stored_range_and_sum(stored),
            Samples::Words(words).stored_range_and_sum(stored)
        );
    }
}
