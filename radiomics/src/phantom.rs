//! The IBSI digital phantom (`../shared/reference/ibsi-morphology.md`): 5 × 4 × 4 voxels of
//! 2 mm, grey levels 1, 3, 4, 6 in a 74-voxel ROI; with `binWidth: 1` its levels are its values.

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
