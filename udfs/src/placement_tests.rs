//! Tumours anywhere on the grid: the far corner of a full-size 512×512×40 grid, one row, one
//! slice, two lesions at opposite corners, and random boxes, read from real NIfTI files and
//! measured by every path function (morphology, components, agreement with its resampler and
//! distance transform). The crop arithmetic once subtracted the crop's x offset from a smaller
//! row index: the dev profile (overflow checks on) panicked, release wrapped back by luck.

use std::io::Write;

use proptest::prelude::*;
use tempfile::TempPath;

use crate::agreement::{agreement, agreement_of_files};
use crate::morphology::components::component_count;
use crate::morphology::{MaskVolume, compute_file, read_mask};

const GRID: [usize; 3] = [512, 512, 40];
const SPACING: [f32; 3] = [0.5, 0.5, 4.0];

/// An uncompressed uint8 NIfTI-1 file of `dims` whose tumour voxels are `voxels`, with an
/// sform of `SPACING` and the given origin (mm).
fn nifti_file(dims: [usize; 3], origin_mm: [f32; 3], voxels: &[[usize; 3]]) -> TempPath {
    let mut header = vec![0u8; 352];
    let mut put = |at: usize, bytes: &[u8]| header[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, &348i32.to_le_bytes());
    let dim = [3, dims[0] as i16, dims[1] as i16, dims[2] as i16, 1, 1, 1, 1];
    for (i, d) in dim.iter().enumerate() {
        put(40 + 2 * i, &d.to_le_bytes());
    }
    put(70, &2i16.to_le_bytes()); // uint8
    put(72, &8i16.to_le_bytes());
    let pixdim = [1.0, SPACING[0], SPACING[1], SPACING[2], 1.0, 1.0, 1.0, 1.0];
    for (i, p) in pixdim.iter().enumerate() {
        put(76 + 4 * i, &p.to_le_bytes());
    }
    put(108, &352f32.to_le_bytes());
    put(254, &1i16.to_le_bytes()); // sform_code: scanner
    for (row, at) in [280, 296, 312].into_iter().enumerate() {
        let mut srow = [0f32; 4];
        srow[row] = SPACING[row];
        srow[3] = origin_mm[row];
        for (i, v) in srow.iter().enumerate() {
            put(at + 4 * i, &v.to_le_bytes());
        }
    }
    put(344, b"n+1\0");
    let mut data = vec![0u8; dims.iter().product()];
    for &[x, y, z] in voxels {
        data[(z * dims[1] + y) * dims[0] + x] = 1;
    }
    header.extend_from_slice(&data);
    let mut file = tempfile::Builder::new().suffix(".nii").tempfile().unwrap();
    file.write_all(&header).unwrap();
    file.into_temp_path()
}

/// Every path function on a tumour of `voxels` on the full-size grid: the reader's crop keeps
/// every voxel, morphology measures them, components counts `lesions`, and agreement with
/// itself, and with the same tumour on a grid one voxel shifted (through the resampler), is
/// perfect.
fn check_everywhere(voxels: &[[usize; 3]], lesions: u64) {
    let reference = nifti_file(GRID, [0.0; 3], voxels);
    let mask = read_mask(&reference).unwrap();
    assert_eq!(mask.voxel_count, voxels.len() as u64);
    for &[x, y, z] in voxels {
        let at = [x, y, z].map(|v| v as i64);
        assert!(mask.get(at[0] - mask.offset[0], at[1] - mask.offset[1], at[2] - mask.offset[2]));
    }
    let features = compute_file(&reference).unwrap();
    let voxel_mm3 = SPACING.iter().map(|&s| s as f64).product::<f64>();
    assert_eq!(features.voxel_volume_mm3, voxels.len() as f64 * voxel_mm3);
    assert_eq!(component_count(&mask), lesions);

    let itself = agreement_of_files(&reference, &reference).unwrap();
    assert_eq!((itself.dice, itself.hausdorff95_mm()), (1.0, Some(0.0)));
    // The same voxels in space on a grid whose origin is one voxel further along x: index
    // x there is x + 1 here. The grid is one voxel narrower, so the far corner stays inside.
    let shifted_dims = [GRID[0] - 1, GRID[1], GRID[2]];
    let shifted_voxels: Vec<[usize; 3]> = voxels
        .iter()
        .filter(|v| v[0] >= 1)
        .map(|&[x, y, z]| [x - 1, y, z])
        .collect();
    let shifted = nifti_file(shifted_dims, [SPACING[0], 0.0, 0.0], &shifted_voxels);
    let kept: Vec<[usize; 3]> = voxels.iter().copied().filter(|v| v[0] >= 1).collect();
    let kept_file = nifti_file(GRID, [0.0; 3], &kept);
    let moved = agreement_of_files(&kept_file, &shifted).unwrap();
    assert!(moved.resampled);
    assert_eq!((moved.dice, moved.hausdorff_mm()), (1.0, Some(0.0)));
}

#[test]
fn one_voxel_in_the_far_corner() {
    check_everywhere(&[[511, 511, 39]], 1);
}

#[test]
fn one_row_along_the_far_edge() {
    let row: Vec<[usize; 3]> = (0..512).map(|x| [x, 511, 39]).collect();
    check_everywhere(&row, 1);
    let short_row: Vec<[usize; 3]> = (500..512).map(|x| [x, 0, 0]).collect();
    check_everywhere(&short_row, 1);
}

#[test]
fn one_slice() {
    let slice: Vec<[usize; 3]> = (0..512 * 512).map(|i| [i % 512, i / 512, 39]).collect();
    check_everywhere(&slice, 1);
    let patch: Vec<[usize; 3]> = (0..100).map(|i| [490 + i % 10, 300 + i / 10, 20]).collect();
    check_everywhere(&patch, 1);
}

#[test]
fn two_lesions_at_opposite_corners() {
    check_everywhere(&[[0, 0, 0], [1, 0, 0], [511, 511, 39], [510, 511, 39]], 2);
}

/// A box of voxels `lo..lo + size` on a grid of `dims`.
fn cuboid(dims: [usize; 3], lo: [usize; 3], size: [usize; 3]) -> MaskVolume {
    MaskVolume::from_fn(dims, [0.5, 0.5, 4.0], |x, y, z| {
        (0..3).all(|a| (lo[a]..lo[a] + size[a]).contains(&[x, y, z][a]))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random boxes anywhere on a grid: the crop holds the whole box, and agreement with the
    /// same box moved by whole voxels, through the resampler, sees exactly that shift.
    #[test]
    fn boxes_anywhere(
        dims in prop::array::uniform3(1usize..96),
        lo_frac in prop::array::uniform3(0.0f64..1.0),
        size_wanted in prop::array::uniform3(prop_oneof![1usize..4, 1usize..96]),
    ) {
        // Small boxes far from the origin are the ones whose crop offset exceeds its row index.
        let lo: [usize; 3] = std::array::from_fn(|a| ((dims[a] as f64 * lo_frac[a]) as usize).min(dims[a] - 1));
        let size: [usize; 3] = std::array::from_fn(|a| size_wanted[a].min(dims[a] - lo[a]));
        let mask = cuboid(dims, lo, size);
        prop_assert_eq!(mask.voxel_count, size.iter().product::<usize>() as u64);
        prop_assert_eq!(mask.dims, size.map(|s| s + 2));
        prop_assert_eq!(mask.offset, lo.map(|l| l as i64 - 1));
        prop_assert_eq!(component_count(&mask), 1);
        let on_itself = agreement(&mask, &mask).unwrap();
        prop_assert_eq!(on_itself.dice, 1.0);
        // The same box on a grid whose origin is one voxel along x: resampled, still perfect.
        let mut shifted = cuboid(dims, [lo[0].saturating_sub(1), lo[1], lo[2]], size);
        if lo[0] >= 1 {
            shifted.affine[0][3] = 0.5;
            let moved = agreement(&mask, &shifted).unwrap();
            prop_assert!(moved.resampled);
            prop_assert_eq!(moved.dice, 1.0);
        }
    }
}

/// The functions read images through the imaging room: a sample DICOM series and its mask,
/// paired by the room's one rule, and the mask's crop inside the series' grid.
#[test]
fn a_sample_series_and_its_mask_pair_through_the_imaging_room() {
    use npcql_imaging::dicom::read_series;
    use npcql_imaging::geometry::{Pairing, pair};
    use npcql_imaging::mask::read_mask_header;

    let patient = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data-sample/MRI-Segments/001");
    let series = read_series(&patient.join("T1WI"));
    assert_eq!(series.error, None);
    let geometry = series.geometry.expect("every sample slice has a position");
    assert_eq!(geometry.slices.len(), series.slice_count);
    let header = read_mask_header(patient.join("ROI-T1.nii")).unwrap();
    let Pairing::Scanner { mask_to_series } = pair(&header.geometry(), &geometry) else {
        panic!("{:?}", pair(&header.geometry(), &geometry));
    };
    assert_eq!(mask_to_series, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]);
    let mask = read_mask(patient.join("ROI-T1.nii")).unwrap();
    let grid = geometry.dims();
    assert!((0..3).all(|a| mask.offset[a] + 1 >= 0 && mask.offset[a] as usize + mask.dims[a] - 1 <= grid[a]));
}
