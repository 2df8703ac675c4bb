//! Intensity-volume histogram (IBSI P88C; not in PyRadiomics) over the discretised levels.
//!
//! IBSI's rule for arbitrary intensity units (MRI): the intensities are the discretised levels
//! and the range is [1, N_g], N_g the highest level in the ROI. For each level i of the range,
//! the volume fraction ν_i = 1 − (voxels below i) / N_v and the intensity fraction
//! γ_i = (i − 1) / (N_g − 1); absent levels are evaluated too. As MIRP 2.5.0:
//! V_x = the largest ν with γ ≥ x (NaN when N_g = 1, γ being 0/0), I_x = the lowest level with
//! ν ≤ x, or N_g + 1 when none is.

use crate::{Roi, Texture};

/// The IBSI IVH features at 10 % and 90 %, snake_case.
pub const NAMES: [&str; 6] = ["v10", "v90", "i10", "i90", "diff_v10_v90", "diff_i10_i90"];

/// The IVH features of the ROI's levels in [`NAMES`] order; all NaN for an empty ROI. Reads no
/// texture setting.
pub fn features(roi: &Roi, _texture: &Texture) -> [f64; 6] {
    let highest = roi
        .levels
        .iter()
        .zip(&roi.mask)
        .filter(|&(_, &m)| m)
        .map(|(&l, _)| l)
        .max()
        .unwrap_or(0) as usize;
    if highest == 0 {
        return [f64::NAN; 6];
    }
    let mut counts = vec![0usize; highest + 1];
    for (&level, &inside) in roi.levels.iter().zip(&roi.mask) {
        if inside {
            counts[level as usize] += 1;
        }
    }
    let voxels: usize = counts.iter().sum();
    // (level, γ, ν) for every level of the range [1, N_g], in MIRP's arithmetic.
    let mut below = 0usize;
    let histogram: Vec<(f64, f64, f64)> = (1..=highest)
        .map(|level| {
            let nu = 1.0 - below as f64 / voxels as f64;
            below += counts[level];
            let gamma = (level - 1) as f64 / (highest - 1) as f64;
            (level as f64, gamma, nu)
        })
        .collect();
    let volume_at = |x: f64| {
        histogram
            .iter()
            .filter(|h| h.1 >= x)
            .map(|h| h.2)
            .fold(f64::NAN, f64::max)
    };
    let intensity_at = |x: f64| {
        histogram
            .iter()
            .find(|h| h.2 <= x)
            .map_or((highest + 1) as f64, |h| h.0)
    };
    let (v10, v90) = (volume_at(10.0 / 100.0), volume_at(90.0 / 100.0));
    let (i10, i90) = (intensity_at(10.0 / 100.0), intensity_at(90.0 / 100.0));
    [v10, v90, i10, i90, v10 - v90, i10 - i90]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glszm::tests::{
        assert_close, assert_same_features, assert_unique_sql_names, mirrored, padded, roi_from_levels, small_roi,
    };
    use crate::phantom::phantom;
    use proptest::prelude::*;

    #[test]
    fn the_phantom_matches_mirp_and_ibsi() {
        // §1.6: MIRP 2.5.0 and IBSI (0.324, 0.0946, 5, 2, 0.23, 3). Levels 1 (50 voxels),
        // 3 (1), 4 (16), 6 (7) of 74: ν_2 = 24/74, ν_6 = 7/74; I_10 = 5 (ν_5 = 7/74 ≤ 0.1).
        let mirp = [
            0.32432432432432434,
            0.09459459459459463,
            5.0,
            2.0,
            0.22972972972972971,
            3.0,
        ];
        let ibsi = [0.324, 0.0946, 5.0, 2.0, 0.23, 3.0];
        let actual = features(&phantom(), &Texture::default());
        for (((name, a), m), i) in NAMES.iter().zip(actual).zip(mirp).zip(ibsi) {
            assert_close(name, a, m, 1e-6);
            assert!((a - i).abs() <= 0.5e-3 * i.abs().max(1.0), "{name}: {a} vs IBSI {i}");
        }
        let exact = [24.0 / 74.0, 7.0 / 74.0, 5.0, 2.0, 17.0 / 74.0, 3.0];
        for ((name, a), e) in NAMES.iter().zip(actual).zip(exact) {
            assert_close(name, a, e, 1e-12);
        }
    }

    #[test]
    fn one_level_has_no_intensity_fraction() {
        // N_g = 1: γ is 0/0, so no V_x; ν_1 = 1 > x, so I_x = N_g + 1 = 2.
        let roi = roi_from_levels([2, 1, 1], vec![1, 1], [1.0; 3]);
        let f = features(&roi, &Texture::default());
        assert!(f[0].is_nan() && f[1].is_nan() && f[4].is_nan());
        assert_eq!(&f[2..4], &[2.0, 2.0]);
        assert_eq!(f[5], 0.0);
    }

    #[test]
    fn the_top_level_above_ten_percent_gives_the_next_level() {
        // Levels 1, 2 with 5 voxels each: ν_2 = 0.5 > 0.1, so I_10 = 3; V_90 = ν_2 = 0.5.
        let roi = roi_from_levels([10, 1, 1], [1, 2].repeat(5), [1.0; 3]);
        let f = features(&roi, &Texture::default());
        assert_eq!(f, [0.5, 0.5, 3.0, 2.0, 0.0, 1.0]);
    }

    #[test]
    fn names_are_six_and_distinct() {
        assert_eq!(NAMES.len(), 6);
        assert_unique_sql_names("ivh", &NAMES);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn padding_and_mirroring_change_nothing(roi in small_roi(), axis in 0usize..3) {
            let texture = Texture::default();
            let base = features(&roi, &texture);
            assert_same_features(&NAMES, &features(&padded(&roi, [1, 2, 0], [0, 1, 3], 7.0), &texture), &base);
            assert_same_features(&NAMES, &features(&mirrored(&roi, axis), &texture), &base);
        }
    }
}
