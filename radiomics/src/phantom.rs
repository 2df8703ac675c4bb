//! The IBSI digital phantom (`../shared/reference/ibsi-morphology.md`): 5 × 4 × 4 voxels of
//! 2 mm, grey levels 1, 3, 4, 6 in a 74-voxel ROI; with `binWidth: 1` its levels are its values.

use proptest::prelude::*;

use crate::Roi;

/// Grey levels, one block per slice z, rows y = 0..3, columns x = 0..4.
const VALUES: [[[u32; 5]; 4]; 4] = [
    [[1, 4, 4, 1, 1], [1, 4, 6, 1, 1], [4, 1, 6, 4, 1], [4, 4, 6, 4, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 6, 1, 1], [1, 1, 3, 1, 1], [4, 4, 6, 1, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 9, 1, 1], [1, 1, 6, 1, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 6, 1, 1]],
];

/// The ROI mask, same layout.
const MASK: [[[u8; 5]; 4]; 4] = [
    [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
];

/// The phantom as a [`Roi`] discretised with `binWidth: 1` (levels = grey values).
pub fn phantom() -> Roi {
    let mut intensity = Vec::with_capacity(80);
    let mut mask = Vec::with_capacity(80);
    for z in 0..4 {
        for y in 0..4 {
            for x in 0..5 {
                intensity.push(f64::from(VALUES[z][y][x]));
                mask.push(MASK[z][y][x] == 1);
            }
        }
    }
    let levels = intensity
        .iter()
        .zip(&mask)
        .map(|(&v, &m)| if m { v as u32 } else { 0 })
        .collect();
    Roi {
        dims: [5, 4, 4],
        spacing_mm: [2.0; 3],
        intensity,
        morphological: mask.clone(),
        mask,
        levels,
    }
}

#[test]
fn the_phantom_has_74_roi_voxels_of_levels_1_3_4_6() {
    let roi = phantom();
    assert_eq!(roi.voxel_count(), 74);
    let mut present: Vec<u32> = roi.levels.iter().copied().filter(|&l| l > 0).collect();
    present.sort_unstable();
    present.dedup();
    assert_eq!(present, [1, 3, 4, 6]);
}

/// A random ROI of up to 4 × 4 × 4 voxels with levels 1..=4 (at least one ROI voxel).
pub(crate) fn small_roi() -> impl Strategy<Value = Roi> {
    (
        [1usize..5, 1usize..5, 1usize..5],
        proptest::collection::vec((proptest::bool::weighted(0.7), 1u32..5), 64),
    )
        .prop_map(|(dims, cells)| {
            let count = dims[0] * dims[1] * dims[2];
            let mut mask: Vec<bool> = cells[..count].iter().map(|c| c.0).collect();
            mask[count / 2] = true;
            let levels: Vec<u32> = cells[..count]
                .iter()
                .zip(&mask)
                .map(|(c, &m)| if m { c.1 } else { 0 })
                .collect();
            Roi {
                dims,
                spacing_mm: [0.8, 1.0, 2.5],
                intensity: levels.iter().map(|&l| f64::from(l)).collect(),
                morphological: mask.clone(),
                mask,
                levels,
            }
        })
}

/// The ROI in a box `pad` voxels larger on every side (the new voxels outside the ROI).
pub(crate) fn pad(roi: &Roi, pad: usize) -> Roi {
    let dims = roi.dims.map(|d| d + 2 * pad);
    let count = dims[0] * dims[1] * dims[2];
    let mut out = Roi {
        dims,
        spacing_mm: roi.spacing_mm,
        intensity: vec![0.0; count],
        morphological: vec![false; count],
        mask: vec![false; count],
        levels: vec![0; count],
    };
    for z in 0..roi.dims[2] {
        for y in 0..roi.dims[1] {
            for x in 0..roi.dims[0] {
                let (from, to) = (roi.index(x, y, z), out.index(x + pad, y + pad, z + pad));
                out.intensity[to] = roi.intensity[from];
                out.morphological[to] = roi.morphological[from];
                out.mask[to] = roi.mask[from];
                out.levels[to] = roi.levels[from];
            }
        }
    }
    out
}

/// The ROI mirrored along `axis`.
pub(crate) fn mirror(roi: &Roi, axis: usize) -> Roi {
    let mut out = roi.clone();
    for z in 0..roi.dims[2] {
        for y in 0..roi.dims[1] {
            for x in 0..roi.dims[0] {
                let mut at = [x, y, z];
                at[axis] = roi.dims[axis] - 1 - at[axis];
                let (from, to) = (roi.index(x, y, z), roi.index(at[0], at[1], at[2]));
                out.intensity[to] = roi.intensity[from];
                out.morphological[to] = roi.morphological[from];
                out.mask[to] = roi.mask[from];
                out.levels[to] = roi.levels[from];
            }
        }
    }
    out
}
