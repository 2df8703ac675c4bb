use std::path::{Path, PathBuf};

use npcql_imaging::dicom::pixels::series_geometry;

use super::*;
use crate::report::figures::raster::tests::decode;
use crate::report::figures::raster::{COMPARE_RGB, OUTLINE_RGB};

/// The orientation fixtures (tests/reference/slices/make_orientation.py).
fn fixture(name: &str) -> (PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/slices")
        .join(name);
    (root.join("T2WI"), root.join("ROI-T2.nii"))
}

const VARIANTS: [&str; 6] = [
    "standard",
    "rows_flipped",
    "columns_flipped",
    "slices_reversed",
    "transposed",
    "oblique",
];

/// The tumour's voxels on `slice`, as the pairing rule places them: the truth the outline is
/// checked against.
fn tumour_on_slice(series: &Path, mask: &Path, slice: usize) -> std::collections::HashSet<[usize; 2]> {
    let geometry = series_geometry(series).unwrap();
    let header = read_mask_header(mask).unwrap();
    let map = pair(&header.geometry(), &geometry).mask_to_series().unwrap();
    let voxels = read_mask(mask).unwrap().voxels_in_series(&map, geometry.dims());
    voxels.iter().filter(|v| v[2] == slice).map(|v| [v[0], v[1]]).collect()
}

/// Every outline pixel lies on an edge between a tumour voxel and a voxel outside it (the frame
/// or beyond the slice counts as outside), on the tumour's side; and every such edge is drawn
/// along its whole length.
fn assert_outline_is_the_mask_s_edge(picture: &SlicePicture, tumour: &std::collections::HashSet<[usize; 2]>) {
    let (width, height, pixels) = decode(&picture.png);
    assert_eq!((width, height), (picture.width, picture.height));
    let rgb = |x: u32, y: u32| pixels[(y * width + x) as usize];
    let is_tumour = |x: i64, y: i64| -> bool {
        if x < 0 || y < 0 || x >= width as i64 || y >= height as i64 {
            return false;
        }
        picture
            .voxel_at(x as u32, y as u32)
            .is_some_and(|v| tumour.contains(&v))
    };
    let mut outline = 0;
    for y in 0..height {
        for x in 0..width {
            let (xi, yi) = (x as i64, y as i64);
            let edges = [(-1, 0), (1, 0), (0, -1), (0, 1)]
                .into_iter()
                .filter(|(dx, dy)| {
                    let (nx, ny) = (xi + dx, yi + dy);
                    let other = (nx >= 0 && ny >= 0 && nx < width as i64 && ny < height as i64)
                        .then(|| picture.voxel_at(nx as u32, ny as u32))
                        .flatten();
                    other != picture.voxel_at(x, y) && !is_tumour(nx, ny)
                })
                .count();
            let on_edge = is_tumour(xi, yi) && edges > 0;
            if rgb(x, y) == OUTLINE_RGB {
                outline += 1;
                assert!(on_edge, "outline pixel ({x}, {y}) is not on the tumour's edge");
            } else {
                assert!(!on_edge, "the tumour's edge at pixel ({x}, {y}) is not drawn");
            }
        }
    }
    assert!(outline > 0 || tumour.is_empty());
}

#[test]
fn the_outline_is_exactly_the_mask_s_edge_on_every_storage() {
    for name in VARIANTS {
        let (series, mask) = fixture(name);
        for crop in [true, false] {
            let options = SliceOptions {
                crop,
                ..SliceOptions::default()
            };
            let picture = render_slice(&series, &mask, &options).unwrap();
            let tumour = tumour_on_slice(&series, &mask, picture.slice);
            // The L with its hole: the largest slices hold 6 × 7 − 3 × 4 − 1 = 29 or 30 voxels.
            assert_eq!(picture.tumour_voxels, tumour.len(), "{name}");
            assert!(
                tumour.len() == 30,
                "{name}: {} voxels on slice {}",
                tumour.len(),
                picture.slice
            );
            assert_outline_is_the_mask_s_edge(&picture, &tumour);
        }
    }
}

#[test]
fn the_outline_is_exactly_the_mask_s_edge_on_the_sample() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-sample/MRI-Segments");
    for patient in ["001", "002", "007"] {
        for (modality, folder) in [("T1", "T1WI"), ("T2", "T2WI"), ("CE-T1", "CE-T1WI")] {
            let (series, mask) = (
                root.join(patient).join(folder),
                root.join(patient).join(format!("ROI-{modality}.nii")),
            );
            for slice in [SliceChoice::LargestArea, SliceChoice::Index(0)] {
                let options = SliceOptions {
                    slice,
                    ..SliceOptions::default()
                };
                let picture = render_slice(&series, &mask, &options).unwrap();
                assert_outline_is_the_mask_s_edge(&picture, &tumour_on_slice(&series, &mask, picture.slice));
                assert!(picture.width <= 256 && picture.height <= 256, "{picture:?}");
                assert!(picture.png.len() <= 40 * 1024, "{} bytes", picture.png.len());
            }
        }
    }
}

/// Centroid (x, y) of the pixels of one colour.
fn centroid(pixels: &[[u8; 3]], width: u32, rgb: [u8; 3]) -> (f64, f64) {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (i, p) in pixels.iter().enumerate() {
        if *p == rgb {
            sx += (i as u32 % width) as f64;
            sy += (i as u32 / width) as f64;
            n += 1.0;
        }
    }
    assert!(n > 0.0, "no pixel of {rgb:?}");
    (sx / n, sy / n)
}

#[test]
fn the_patient_s_left_is_on_the_right_and_anterior_is_up_whatever_the_storage() {
    for name in VARIANTS {
        let (series, mask) = fixture(name);
        // The window puts the bright marker at white and the dark one at black, the
        // background at a mid grey.
        let options = SliceOptions {
            crop: false,
            window: Some([0.0, 1000.0]),
            slice: SliceChoice::Index(2),
            ..SliceOptions::default()
        };
        let picture = render_slice(&series, &mask, &options).unwrap();
        let (width, height, pixels) = decode(&picture.png);
        // Only the image, not the frame's white letters.
        let image: Vec<[u8; 3]> = pixels
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (x, y) = (i as u32 % width, i as u32 / width);
                if picture.voxel_at(x, y).is_some() {
                    *p
                } else {
                    [1, 2, 3]
                }
            })
            .collect();
        let (bright_x, bright_y) = centroid(&image, width, [255, 255, 255]);
        let (dark_x, dark_y) = centroid(&image, width, [0, 0, 0]);
        let (mid_x, mid_y) = (width as f64 / 2.0, height as f64 / 2.0);
        assert!(
            bright_x > mid_x + 10.0,
            "{name}: the left marker at x {bright_x} of {width}"
        );
        assert!(
            (bright_y - mid_y).abs() < 25.0,
            "{name}: the left marker at y {bright_y} of {height}"
        );
        assert!(
            dark_y < mid_y - 10.0,
            "{name}: the anterior marker at y {dark_y} of {height}"
        );
        assert!(
            (dark_x - mid_x).abs() < 25.0,
            "{name}: the anterior marker at x {dark_x} of {width}"
        );
        if name == "oblique" {
            // Rotated 10° about z: the row direction is (0.985, 0.174, 0), left and a little
            // posterior; each side shows two letters, the larger component first.
            assert_eq!(picture.sides, ["AL", "LP", "PR", "RA"].map(String::from), "{name}");
        } else {
            assert_eq!(picture.sides, ["A", "L", "P", "R"].map(String::from), "{name}");
        }
    }
}

#[test]
fn a_second_mask_is_drawn_in_its_own_colour_with_a_legend() {
    let (series, mask) = fixture("standard");
    // The same tumour stored transposed lies on the same grid in space: drawn where the first is.
    let (_, transposed_mask) = fixture("transposed");
    let options = SliceOptions {
        compare: Some(transposed_mask),
        ..SliceOptions::default()
    };
    let picture = render_slice(&series, &mask, &options).unwrap();
    let (_, _, pixels) = decode(&picture.png);
    assert!(pixels.contains(&COMPARE_RGB));
    assert!(picture.width <= 256 && picture.height <= 256, "{picture:?}");
    assert!(
        picture.legend.iter().any(|l| l.contains("(second outline): 30 voxels")),
        "{:?}",
        picture.legend
    );
    // A mask on another grid is resampled through scanner space; a plane outside its slices is
    // not drawn, and the legend says so.
    let (oblique_series, oblique_mask) = fixture("oblique");
    let options = SliceOptions {
        compare: Some(mask.clone()),
        ..SliceOptions::default()
    };
    let picture = render_slice(&oblique_series, &oblique_mask, &options).unwrap();
    assert!(
        picture.legend.iter().any(|l| l.contains("second outline")),
        "{:?}",
        picture.legend
    );
    let beyond = tempfile::tempdir().unwrap();
    let shifted = beyond.path().join("ROI-T1.nii");
    shift_mask(&mask, &shifted, 100.0);
    let options = SliceOptions {
        compare: Some(shifted),
        ..SliceOptions::default()
    };
    let picture = render_slice(&series, &mask, &options).unwrap();
    assert!(
        picture
            .legend
            .iter()
            .any(|l| l.contains("not drawn, this plane lies outside its slices")),
        "{:?}",
        picture.legend
    );
}

/// A copy of the mask at `from` moved `mm` along z (its sform and qform offsets).
fn shift_mask(from: &Path, to: &Path, mm: f32) {
    let mut bytes = std::fs::read(from).unwrap();
    // NIfTI-1: qoffset_z at byte 276, srow_z[3] at 312 + 12 = 324 (float32, little endian).
    for at in [276, 324] {
        let v = f32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) + mm;
        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    std::fs::write(to, bytes).unwrap();
}

#[test]
fn a_slice_asked_for_outside_the_series_is_an_error_naming_it() {
    let (series, mask) = fixture("standard");
    let options = SliceOptions {
        slice: SliceChoice::Index(9),
        ..SliceOptions::default()
    };
    let fault = render_slice(&series, &mask, &options).unwrap_err().to_string();
    assert!(fault.contains("slice 9 asked for, the series has 5"), "{fault}");
}

#[test]
fn the_nearest_slice_to_a_scanner_point_is_shown() {
    let (series, mask) = fixture("slices_reversed");
    // Slice k's plane is at z = −8 + 4k mm.
    let options = SliceOptions {
        slice: SliceChoice::Position([0.0, 0.0, 1.5]),
        ..SliceOptions::default()
    };
    assert_eq!(render_slice(&series, &mask, &options).unwrap().slice, 2);
}

#[test]
fn percentiles_are_numpy_s() {
    let values: Vec<f64> = (0..101).map(f64::from).rev().collect();
    assert_eq!(percentiles(&values, [0.01, 0.99]), [1.0, 99.0]);
    // numpy.percentile([1, 2, 3, 4], [1, 99]) = [1.03, 3.97]
    let [low, high] = percentiles(&[4.0, 1.0, 3.0, 2.0], [0.01, 0.99]);
    assert!(
        (low - 1.03).abs() < 1e-12 && (high - 3.97).abs() < 1e-12,
        "{low} {high}"
    );
}

#[test]
fn letters_name_the_larger_component_first() {
    assert_eq!(letters([1.0, 0.0, 0.0]), "L");
    assert_eq!(letters([-0.985, 0.174, 0.0]), "RP");
    assert_eq!(letters([0.0, 0.0, -1.0]), "I");
    assert_eq!(letters([0.05, 0.0, 0.999]), "S");
}
