//! Neighbouring grey tone difference matrix (PyRadiomics `ngtdm`, IBSI IPET): per grey level i,
//! n_i voxels and s_i = Σ |i − mean of the voxel's ROI neighbours|.
//!
//! As `calculate_ngtdm` in PyRadiomics 3.0.1's `cmatrices.c`: neighbours at the Chebyshev
//! `distances`, both directions, ROI voxels only. A voxel without any ROI neighbour still
//! counts in n_i (difference 0), so N_v,p is every ROI voxel (IBSI counts only voxels with a
//! neighbour; the two agree whenever no ROI voxel is isolated). One matrix for all directions:
//! `weightingNorm` does not apply.

use crate::neighbours::Padded;
use crate::{Roi, Texture};

/// PyRadiomics 3.0.1's NGTDM features, in the order of its documentation.
pub const NAMES: [&str; 5] = ["Coarseness", "Contrast", "Busyness", "Complexity", "Strength"];

/// The NGTDM features of the ROI in [`NAMES`] order; all NaN for an empty ROI.
pub fn features(roi: &Roi, texture: &Texture) -> [f64; 5] {
    let Some(grid) = Padded::of_roi(roi, &texture.distances, texture.plane_normal) else {
        return [f64::NAN; 5];
    };
    let highest = roi.levels.iter().copied().max().unwrap_or(0) as usize;
    // (n_i, s_i) by level, index = level.
    let mut table = vec![(0.0f64, 0.0f64); highest + 1];
    grid.for_each_inside(|centre| {
        // Level 0 is outside the ROI: neighbours counted and their levels summed without a
        // branch, as integers (the same exact sums the f64 ones of whole numbers were).
        let (mut count, mut sum) = (0u32, 0u64);
        for &step in &grid.steps {
            let other = grid.values[centre.wrapping_add_signed(step)];
            count += u32::from(other != 0);
            sum += u64::from(other);
        }
        let level = grid.values[centre];
        let difference = if count == 0 {
            0.0
        } else {
            (f64::from(level) - sum as f64 / f64::from(count)).abs()
        };
        let entry = &mut table[level as usize];
        entry.0 += 1.0;
        entry.1 += difference;
    });
    // PyRadiomics deletes the levels absent from the ROI, so every p_i left is > 0.
    let present: Vec<(f64, f64, f64)> = table
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.0 > 0.0)
        .map(|(level, &(n, s))| (level as f64, n, s))
        .collect();
    let nvp: f64 = present.iter().map(|p| p.1).sum();
    let levels: Vec<f64> = present.iter().map(|p| p.0).collect();
    let p: Vec<f64> = present.iter().map(|q| q.1 / nvp).collect();
    let s: Vec<f64> = present.iter().map(|q| q.2).collect();
    let ngp = present.len() as f64;
    let sum_s: f64 = s.iter().sum();
    let sum_ps: f64 = p.iter().zip(&s).map(|(p, s)| p * s).sum();

    let coarseness = if sum_ps == 0.0 { 1e6 } else { 1.0 / sum_ps };

    let (mut contrast_pairs, mut busyness_pairs, mut complexity_pairs, mut strength_pairs) = (0.0, 0.0, 0.0, 0.0);
    for a in 0..levels.len() {
        for b in 0..levels.len() {
            let level_difference = levels[a] - levels[b];
            contrast_pairs += p[a] * p[b] * level_difference * level_difference;
            busyness_pairs += (levels[a] * p[a] - levels[b] * p[b]).abs();
            complexity_pairs += level_difference.abs() * (p[a] * s[a] + p[b] * s[b]) / (p[a] + p[b]);
            strength_pairs += (p[a] + p[b]) * level_difference * level_difference;
        }
    }
    let pairs = ngp * (ngp - 1.0);
    let contrast = if pairs == 0.0 {
        0.0
    } else {
        contrast_pairs * sum_s / nvp / pairs
    };
    let busyness = if busyness_pairs == 0.0 {
        0.0
    } else {
        sum_ps / busyness_pairs
    };
    let complexity = complexity_pairs / nvp;
    let strength = if sum_s == 0.0 { 0.0 } else { strength_pairs / sum_s };
    [coarseness, contrast, busyness, complexity, strength]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glszm::tests::{
        assert_close, assert_same_features, assert_unique_sql_names, mirrored, padded, roi_from_levels, small_roi,
        texture,
    };
    use crate::phantom::phantom;
    use proptest::prelude::*;

    #[test]
    fn the_phantom_matches_pyradiomics() {
        // §1.6: PyRadiomics 3.0.1 (distances [1]) = IBSI NGTDM "3D".
        let expected = [
            0.029604225700771966,
            0.5837109155843376,
            6.543568456913216,
            13.539763601407847,
            0.7634954330521357,
        ];
        let actual = features(&phantom(), &Texture::default());
        assert_same_features(&NAMES, &actual, &expected);
    }

    #[test]
    fn the_phantom_by_slice_matches_pyradiomics_force2d() {
        // §3.4: PyRadiomics' force2D (axial, our z) gives busyness 6.8042 (5 digits), IBSI "2.5D" 6.8.
        let axial = Texture {
            plane_normal: Some(2),
            ..Texture::default()
        };
        assert_close("Busyness", features(&phantom(), &axial)[2], 6.8042, 0.5e-4);
    }

    #[test]
    fn two_voxels_by_hand() {
        // Levels 1 and 3 side by side: s_1 = s_3 = 2, p = ½ each, N_gp = 2.
        let roi = roi_from_levels([2, 1, 1], vec![1, 3], [1.0; 3]);
        let [coarseness, contrast, busyness, complexity, strength] = features(&roi, &Texture::default());
        assert_close("coarseness", coarseness, 0.5, 1e-12);
        // Σ p_i p_j (i − j)² = 2 · ¼ · 4 = 2, × Σ s / N_vp = 2, / (N_gp (N_gp − 1)) = 2.
        assert_close("contrast", contrast, 2.0, 1e-12);
        // Σ p s = 2; Σ |i p_i − j p_j| = 2 · |0.5 − 1.5| = 2.
        assert_close("busyness", busyness, 1.0, 1e-12);
        // 2 · |1 − 3| · (1 + 1) / 1 / 2 = 4.
        assert_close("complexity", complexity, 4.0, 1e-12);
        // 2 · 1 · 4 / 4 = 2.
        assert_close("strength", strength, 2.0, 1e-12);
    }

    #[test]
    fn an_isolated_voxel_counts_with_difference_zero() {
        // PyRadiomics keeps a voxel without ROI neighbours in n_i (IBSI would drop it).
        let roi = roi_from_levels([3, 1, 1], vec![2, 0, 2], [1.0; 3]);
        let [coarseness, contrast, busyness, complexity, strength] = features(&roi, &Texture::default());
        assert_eq!(
            [coarseness, contrast, busyness, complexity, strength],
            [1e6, 0.0, 0.0, 0.0, 0.0]
        );
    }

    #[test]
    fn names_are_five_and_distinct() {
        assert_eq!(NAMES.len(), 5);
        assert_unique_sql_names("ngtdm", &NAMES);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn padding_and_mirroring_change_nothing(roi in small_roi(), texture in texture(), axis in 0usize..3) {
            let base = features(&roi, &texture);
            assert_same_features(&NAMES, &features(&padded(&roi, [0, 2, 1], [1, 0, 2], 7.0), &texture), &base);
            assert_same_features(&NAMES, &features(&mirrored(&roi, axis), &texture), &base);
        }
    }
}
