//! Grey level dependence matrix (PyRadiomics `gldm`, IBSI NGLDM REK0): for each ROI voxel, its
//! level and how many of its neighbours (Chebyshev `distances`, both directions, ROI only)
//! differ from it by at most α = `gldm_a`.
//!
//! As `calculate_gldm` in PyRadiomics 3.0.1's `cmatrices.c`: the matrix column of a voxel with
//! k dependent neighbours is k + 1 (IBSI counts the centre too), α is a C `int` (truncated).
//! One matrix for all directions: `weightingNorm` does not apply.

use crate::glszm::{LevelMatrix, PYRADIOMICS_EPS, Power};
use crate::neighbours::Padded;
use crate::{Roi, Texture};

/// PyRadiomics 3.0.1's GLDM features (non-deprecated), in the order of its documentation.
pub const NAMES: [&str; 14] = [
    "SmallDependenceEmphasis",
    "LargeDependenceEmphasis",
    "GrayLevelNonUniformity",
    "DependenceNonUniformity",
    "DependenceNonUniformityNormalized",
    "GrayLevelVariance",
    "DependenceVariance",
    "DependenceEntropy",
    "LowGrayLevelEmphasis",
    "HighGrayLevelEmphasis",
    "SmallDependenceLowGrayLevelEmphasis",
    "SmallDependenceHighGrayLevelEmphasis",
    "LargeDependenceLowGrayLevelEmphasis",
    "LargeDependenceHighGrayLevelEmphasis",
];

/// The GLDM features of the ROI in [`NAMES`] order; all NaN for an empty ROI.
pub fn features(roi: &Roi, texture: &Texture) -> [f64; 14] {
    let Some(grid) = Padded::of_roi(roi, &texture.distances, texture.plane_normal) else {
        return [f64::NAN; 14];
    };
    // PyRadiomics passes gldm_a through a C int; a negative α makes no neighbour dependent.
    let alpha = texture.gldm_a.trunc();
    let alpha = (alpha >= 0.0).then(|| alpha.min(f64::from(u32::MAX)) as u32);
    let mut pairs = Vec::new();
    grid.for_each_inside(|centre| {
        let level = grid.values[centre];
        let mut dependent = 0usize;
        // Level 0 is outside the ROI: one load and no branch a neighbour.
        if let Some(alpha) = alpha {
            for &step in &grid.steps {
                let other = grid.values[centre.wrapping_add_signed(step)];
                dependent += usize::from((other != 0) & (level.abs_diff(other) <= alpha));
            }
        }
        pairs.push((level, dependent + 1));
    });
    let Some(matrix) = LevelMatrix::from_pairs(pairs.into_iter()) else {
        return [f64::NAN; 14];
    };
    [
        matrix.column_emphasis(Power::Inverse),
        matrix.column_emphasis(Power::Square),
        matrix.row_non_uniformity(),
        matrix.column_non_uniformity(),
        matrix.column_non_uniformity() / matrix.total(),
        matrix.row_variance(),
        matrix.column_variance(),
        matrix.entropy(PYRADIOMICS_EPS),
        matrix.row_emphasis(Power::Inverse),
        matrix.row_emphasis(Power::Square),
        matrix.joint_emphasis(Power::Inverse, Power::Inverse),
        matrix.joint_emphasis(Power::Square, Power::Inverse),
        matrix.joint_emphasis(Power::Inverse, Power::Square),
        matrix.joint_emphasis(Power::Square, Power::Square),
    ]
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
        // §1.6: PyRadiomics 3.0.1 (gldm_a 0, distances [1]) = IBSI NGLDM "3D".
        let expected = [
            0.044996357059631426,
            109.0,
            37.91891891891892,
            4.864864864864865,
            0.06574141709276844,
            3.045471146822498,
            22.056975894813732,
            4.403738379915676,
            0.6933183183183184,
            7.662162162162162,
            0.00963060759417958,
            0.7361715884134342,
            102.45082582582583,
            234.98648648648648,
        ];
        let actual = features(&phantom(), &Texture::default());
        assert_same_features(&NAMES, &actual, &expected);
    }

    #[test]
    fn dependence_counts_the_centre_and_its_alike_neighbours() {
        // A row of levels 1, 2, 2: the 1 has no alike neighbour (j = 1), the 2s one each (j = 2).
        let roi = roi_from_levels([3, 1, 1], vec![1, 2, 2], [1.0; 3]);
        let [sde, lde, ..] = features(&roi, &Texture::default());
        assert_close("sde", sde, (1.0 + 2.0 / 4.0) / 3.0, 1e-12);
        assert_close("lde", lde, (1.0 + 2.0 * 4.0) / 3.0, 1e-12);
        // With α = 1 every neighbour depends: j = 2, 3, 2.
        let loose = Texture {
            gldm_a: 1.0,
            ..Texture::default()
        };
        let [_, lde, ..] = features(&roi, &loose);
        assert_close("lde α=1", lde, (4.0 + 9.0 + 4.0) / 3.0, 1e-12);
        // α = 1.9 is truncated to 1 as PyRadiomics' C int is.
        assert_eq!(
            features(
                &roi,
                &Texture {
                    gldm_a: 1.9,
                    ..Texture::default()
                }
            )[1],
            lde
        );
    }

    #[test]
    fn names_are_fourteen_and_distinct() {
        assert_eq!(NAMES.len(), 14);
        assert_unique_sql_names("gldm", &NAMES);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn padding_and_mirroring_change_nothing(roi in small_roi(), texture in texture(), axis in 0usize..3) {
            let base = features(&roi, &texture);
            assert_same_features(&NAMES, &features(&padded(&roi, [2, 1, 0], [0, 2, 1], 7.0), &texture), &base);
            assert_same_features(&NAMES, &features(&mirrored(&roi, axis), &texture), &base);
        }
    }
}
