//! Grey level size zone matrix (PyRadiomics `glszm`, IBSI 9SAK): how many zones — connected
//! voxels of one grey level — there are of each level and size.
//!
//! Zones connect through every offset of Chebyshev distance 1 (26 neighbours in 3D, 8 in a
//! plane under force2D), as `calculate_glszm` in PyRadiomics 3.0.1's `cmatrices.c`. There is one
//! matrix for all directions, so `weightingNorm` does not apply (PyRadiomics ignores it here).
//!
//! The module also holds what GLDM, NGTDM and GLDZM share with it: the zone labelling and the
//! algebra of a level × value count matrix (the neighbour walk is [`crate::neighbours`]).

use crate::glcm::ranks;
use crate::neighbours::Padded;
use crate::{Roi, Texture};

/// PyRadiomics 3.0.1's GLSZM features, in the order of its documentation.
pub const NAMES: [&str; 16] = [
    "SmallAreaEmphasis",
    "LargeAreaEmphasis",
    "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized",
    "SizeZoneNonUniformity",
    "SizeZoneNonUniformityNormalized",
    "ZonePercentage",
    "GrayLevelVariance",
    "ZoneVariance",
    "ZoneEntropy",
    "LowGrayLevelZoneEmphasis",
    "HighGrayLevelZoneEmphasis",
    "SmallAreaLowGrayLevelEmphasis",
    "SmallAreaHighGrayLevelEmphasis",
    "LargeAreaLowGrayLevelEmphasis",
    "LargeAreaHighGrayLevelEmphasis",
];

/// The GLSZM features of the ROI in [`NAMES`] order; all NaN for an empty ROI.
pub fn features(roi: &Roi, texture: &Texture) -> [f64; 16] {
    features_of_zones(zones(roi, texture, None).as_deref())
}

/// The ROI's zones (26-connected in 3D, 8 in the plane under force2D), each with the least
/// `distance` over its voxels when given: GLSZM's and GLDZM's, which [`crate::extract`] labels
/// once for both. `None` for an empty ROI.
pub(crate) fn zones(roi: &Roi, texture: &Texture, distance: Option<&[u32]>) -> Option<Vec<Zone>> {
    let levels = Padded::of_roi(roi, &[1], texture.plane_normal)?;
    Some(label_zones_with_distance(levels, distance))
}

/// The GLSZM features of labelled `zones` (`None`: an empty ROI).
pub(crate) fn features_of_zones(zones: Option<&[Zone]>) -> [f64; 16] {
    let Some(zones) = zones else {
        return [f64::NAN; 16];
    };
    let voxels: usize = zones.iter().map(|zone| zone.size).sum();
    let Some(matrix) = LevelMatrix::from_pairs(zones.iter().map(|zone| (zone.level, zone.size))) else {
        return [f64::NAN; 16];
    };
    let nz = matrix.total();
    [
        matrix.column_emphasis(Power::Inverse),
        matrix.column_emphasis(Power::Square),
        matrix.row_non_uniformity(),
        matrix.row_non_uniformity() / nz,
        matrix.column_non_uniformity(),
        matrix.column_non_uniformity() / nz,
        nz / voxels as f64,
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

/// `numpy.spacing(1)`, which PyRadiomics adds inside its entropies' logarithms.
pub(crate) const PYRADIOMICS_EPS: f64 = f64::EPSILON;

/// One zone: its grey level, its voxel count and (GLDZM) its distance to the ROI's edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Zone {
    pub level: u32,
    pub size: usize,
    /// The smallest `distance` of the zone's voxels (0 when none was given).
    pub distance: u32,
}

#[cfg(test)]
fn label_zones(levels: Padded) -> Vec<Zone> {
    label_zones_with_distance(levels, None)
}

/// The zones of the ROI's `levels`, grown through their offsets with an explicit stack
/// (`calculate_glszm`), each zone also taking the minimum of `distance` (over the ROI's box)
/// over its voxels when given. In the padded copy no neighbour needs a bounds check, and no
/// voxel its coordinates.
pub(crate) fn label_zones_with_distance(levels: Padded, distance: Option<&[u32]>) -> Vec<Zone> {
    let distance = distance.map(|d| levels.copy(d));
    // Each voxel's level until its zone is labelled, then 0, as outside the ROI: one load
    // tells whether a neighbour joins the zone.
    let Padded {
        values: mut unlabelled,
        steps,
        ..
    } = levels;
    let mut stack = Vec::new();
    let mut zones = Vec::new();
    for start in 0..unlabelled.len() {
        let level = unlabelled[start];
        if level == 0 {
            continue; // outside the ROI, or already in a zone
        }
        let mut zone = Zone {
            level,
            size: 0,
            distance: u32::MAX,
        };
        unlabelled[start] = 0;
        stack.push(start);
        while let Some(voxel) = stack.pop() {
            zone.size += 1;
            if let Some(distance) = &distance {
                zone.distance = zone.distance.min(distance[voxel]);
            }
            for &step in &steps {
                let next = voxel.wrapping_add_signed(step);
                if unlabelled[next] == level {
                    unlabelled[next] = 0;
                    stack.push(next);
                }
            }
        }
        if distance.is_none() {
            zone.distance = 0;
        }
        zones.push(zone);
    }
    zones
}

/// The exponent of a level or value in an emphasis: 1/v² or v².
#[derive(Debug, Clone, Copy)]
pub(crate) enum Power {
    Inverse,
    Square,
}

impl Power {
    #[inline]
    fn apply(self, count: f64, value: f64) -> f64 {
        match self {
            Power::Inverse => count / (value * value),
            Power::Square => count * (value * value),
        }
    }
}

/// A count matrix P(i, j) over the grey levels i present (rows) and the values j present
/// (columns: zone sizes, dependences, distances), both by their actual values, as
/// PyRadiomics keeps them after deleting empty rows and columns. Row-major, flat.
pub(crate) struct LevelMatrix {
    counts: Vec<f64>,
    levels: Vec<f64>,
    values: Vec<f64>,
    row_sums: Vec<f64>,
    column_sums: Vec<f64>,
    total: f64,
}

impl LevelMatrix {
    /// The matrix counting `(level, value)` pairs; `None` without pairs.
    pub(crate) fn from_pairs(pairs: impl Iterator<Item = (u32, usize)>) -> Option<Self> {
        let pairs: Vec<(u32, usize)> = pairs.collect();
        if pairs.is_empty() {
            return None;
        }
        // Levels and values are small integers (at most the ROI's highest level and voxel
        // count): ranked by marking which occur, not by sorting every pair.
        let (levels, level_row) = ranks(pairs.iter().map(|p| p.0 as usize));
        let (values, value_column) = ranks(pairs.iter().map(|p| p.1));
        let columns = values.len();
        let mut counts = vec![0.0; levels.len() * columns];
        for &(level, value) in &pairs {
            counts[level_row[level as usize] * columns + value_column[value]] += 1.0;
        }
        let row_sums: Vec<f64> = counts.chunks(columns).map(|row| row.iter().sum()).collect();
        let mut column_sums = vec![0.0; columns];
        for row in counts.chunks(columns) {
            for (sum, &count) in column_sums.iter_mut().zip(row) {
                *sum += count;
            }
        }
        Some(LevelMatrix {
            total: row_sums.iter().sum(),
            counts,
            levels: levels.into_iter().map(|l| l as f64).collect(),
            values: values.into_iter().map(|v| v as f64).collect(),
            row_sums,
            column_sums,
        })
    }

    /// N_z: the sum of all counts.
    pub(crate) fn total(&self) -> f64 {
        self.total
    }

    /// Σ_j P(·, j) j^±2 / N_z (small / large zone, dependence, distance emphasis).
    pub(crate) fn column_emphasis(&self, power: Power) -> f64 {
        let sum: f64 = self
            .column_sums
            .iter()
            .zip(&self.values)
            .map(|(&c, &j)| power.apply(c, j))
            .sum();
        sum / self.total
    }

    /// Σ_i P(i, ·) i^±2 / N_z (low / high grey level emphasis).
    pub(crate) fn row_emphasis(&self, power: Power) -> f64 {
        let sum: f64 = self
            .row_sums
            .iter()
            .zip(&self.levels)
            .map(|(&c, &i)| power.apply(c, i))
            .sum();
        sum / self.total
    }

    /// Σ_ij P(i, j) i^±2 j^±2 / N_z.
    pub(crate) fn joint_emphasis(&self, level_power: Power, value_power: Power) -> f64 {
        let columns = self.values.len();
        let mut sum = 0.0;
        for (row, &i) in self.counts.chunks(columns).zip(&self.levels) {
            for (&count, &j) in row.iter().zip(&self.values) {
                sum += value_power.apply(level_power.apply(count, i), j);
            }
        }
        sum / self.total
    }

    /// Σ_i P(i, ·)² / N_z.
    pub(crate) fn row_non_uniformity(&self) -> f64 {
        self.row_sums.iter().map(|c| c * c).sum::<f64>() / self.total
    }

    /// Σ_j P(·, j)² / N_z.
    pub(crate) fn column_non_uniformity(&self) -> f64 {
        self.column_sums.iter().map(|c| c * c).sum::<f64>() / self.total
    }

    /// Σ_i p(i, ·) (i − μ_i)², p = P / N_z.
    pub(crate) fn row_variance(&self) -> f64 {
        variance(&self.row_sums, &self.levels, self.total)
    }

    /// Σ_j p(·, j) (j − μ_j)².
    pub(crate) fn column_variance(&self) -> f64 {
        variance(&self.column_sums, &self.values, self.total)
    }

    /// −Σ p log2(p + eps) (PyRadiomics: eps = `numpy.spacing(1)`; IBSI: eps = 0, empty cells
    /// skipped).
    pub(crate) fn entropy(&self, eps: f64) -> f64 {
        -self
            .counts
            .iter()
            .filter(|&&count| count > 0.0)
            .map(|&count| {
                let p = count / self.total;
                p * (p + eps).log2()
            })
            .sum::<f64>()
    }
}

/// The variance of `values` weighted by `counts / total`.
fn variance(counts: &[f64], values: &[f64], total: f64) -> f64 {
    let mean: f64 = counts.iter().zip(values).map(|(&c, &v)| c / total * v).sum();
    counts
        .iter()
        .zip(values)
        .map(|(&c, &v)| c / total * (v - mean) * (v - mean))
        .sum()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::phantom::phantom;
    use crate::sql_name;
    use proptest::prelude::*;

    /// |actual − expected| within `relative` of |expected| (absolutely when expected is 0).
    pub(crate) fn assert_close(name: &str, actual: f64, expected: f64, relative: f64) {
        let error = (actual - expected).abs();
        assert!(
            error <= relative * expected.abs().max(f64::MIN_POSITIVE) || (expected == 0.0 && error <= relative),
            "{name}: {actual} vs {expected} (relative error {})",
            error / expected.abs()
        );
    }

    /// Every SQL name of a family is distinct.
    pub(crate) fn assert_unique_sql_names(class: &str, names: &[&str]) {
        let mut sql: Vec<String> = names.iter().map(|n| sql_name(class, n)).collect();
        sql.sort();
        sql.dedup();
        assert_eq!(sql.len(), names.len(), "{class}: duplicate SQL names");
    }

    /// A ROI from random levels (0 = outside) on a box, spacing 1 mm, morphological = mask.
    pub(crate) fn roi_from_levels(dims: [usize; 3], levels: Vec<u32>, spacing_mm: [f64; 3]) -> Roi {
        let mask: Vec<bool> = levels.iter().map(|&l| l > 0).collect();
        Roi {
            dims,
            spacing_mm,
            intensity: levels.iter().map(|&l| f64::from(l) * 10.0 + 3.0).collect(),
            morphological: mask.clone(),
            mask,
            levels,
        }
    }

    /// The ROI inside a box grown by `pad` (low side) and `pad_high` (high side) per axis;
    /// the new voxels are outside both masks with intensity `fill`.
    pub(crate) fn padded(roi: &Roi, pad: [usize; 3], pad_high: [usize; 3], fill: f64) -> Roi {
        let dims = [0, 1, 2].map(|a| roi.dims[a] + pad[a] + pad_high[a]);
        let n = dims.iter().product();
        let mut out = Roi {
            dims,
            spacing_mm: roi.spacing_mm,
            intensity: vec![fill; n],
            morphological: vec![false; n],
            mask: vec![false; n],
            levels: vec![0; n],
        };
        for z in 0..roi.dims[2] {
            for y in 0..roi.dims[1] {
                for x in 0..roi.dims[0] {
                    let from = roi.index(x, y, z);
                    let to = out.index(x + pad[0], y + pad[1], z + pad[2]);
                    out.intensity[to] = roi.intensity[from];
                    out.morphological[to] = roi.morphological[from];
                    out.mask[to] = roi.mask[from];
                    out.levels[to] = roi.levels[from];
                }
            }
        }
        out
    }

    /// The ROI mirrored along `axis` (the kernels' one fixture).
    pub(crate) use crate::phantom::mirror as mirrored;

    /// Feature arrays equal to 1e-9 relative, NaN matching NaN.
    pub(crate) fn assert_same_features(names: &[&str], a: &[f64], b: &[f64]) {
        for ((name, &x), &y) in names.iter().zip(a).zip(b) {
            if x.is_nan() || y.is_nan() {
                assert!(x.is_nan() && y.is_nan(), "{name}: {x} vs {y}");
            } else {
                assert_close(name, x, y, 1e-9);
            }
        }
    }

    /// Random small ROIs: dims 1..=5 per axis, levels 0..=4 (0 = outside the ROI).
    pub(crate) fn small_roi() -> impl Strategy<Value = Roi> {
        (1usize..=5, 1usize..=5, 1usize..=5)
            .prop_flat_map(|(x, y, z)| (Just([x, y, z]), proptest::collection::vec(0u32..=4, x * y * z)))
            .prop_map(|(dims, levels)| roi_from_levels(dims, levels, [1.0, 1.0, 2.5]))
    }

    /// Texture settings worth varying for the zone and neighbourhood families.
    pub(crate) fn texture() -> impl Strategy<Value = Texture> {
        (
            prop_oneof![Just(None), (0usize..3).prop_map(Some)],
            prop_oneof![Just(vec![1]), Just(vec![1, 2])],
            0u8..=2,
        )
            .prop_map(|(plane_normal, distances, gldm_a)| Texture {
                plane_normal,
                distances,
                gldm_a: f64::from(gldm_a),
                ..Texture::default()
            })
    }

    #[test]
    fn the_phantom_matches_pyradiomics() {
        // §1.6: PyRadiomics 3.0.1 on the IBSI phantom, which IBSI's "3D" GLSZM reproduces.
        let expected = [
            0.2551820408163265,
            550.0,
            1.4,
            0.28,
            1.0,
            0.2,
            0.06756756756756757,
            2.6399999999999997,
            330.9600000000001,
            2.321928094887361,
            0.25277777777777777,
            15.6,
            0.02560437641723356,
            2.763345306122449,
            502.7944444444444,
            1494.6,
        ];
        let actual = features(&phantom(), &Texture::default());
        assert_same_features(&NAMES, &actual, &expected);
    }

    #[test]
    fn the_phantom_by_slice_matches_pyradiomics_force2d() {
        // §3.4: PyRadiomics' force2D (axial, our z) gives SZE 0.36752 (5 digits), IBSI "2.5D" 0.368.
        let axial = Texture {
            plane_normal: Some(2),
            ..Texture::default()
        };
        assert_close("SmallAreaEmphasis", features(&phantom(), &axial)[0], 0.36752, 0.5e-4);
    }

    #[test]
    fn phantom_zones_by_hand() {
        // Five zones: all 50 voxels of level 1, the lone 3, the 7 of level 6, and level 4's
        // 16 voxels split in two: x = 3, y = 2..3 of the first slice is cut off by 6s and 1s.
        let roi = phantom();
        let mut zones: Vec<(u32, usize)> = label_zones(Padded::of_roi(&roi, &[1], None).unwrap())
            .iter()
            .map(|z| (z.level, z.size))
            .collect();
        zones.sort_unstable();
        assert_eq!(zones, [(1, 50), (3, 1), (4, 2), (4, 14), (6, 7)]);
    }

    #[test]
    fn a_plane_splits_zones_that_meet_only_across_slices() {
        // Two voxels of one level on top of each other: one zone in 3D, two per slice.
        let roi = roi_from_levels([1, 1, 2], vec![2, 2], [1.0; 3]);
        let [sae_3d, ..] = features(&roi, &Texture::default());
        assert!((sae_3d - 0.25).abs() < 1e-12);
        let planar = Texture {
            plane_normal: Some(2),
            ..Texture::default()
        };
        let [sae_2d, lae_2d, _, _, _, _, zp, ..] = features(&roi, &planar);
        assert!((sae_2d - 1.0).abs() < 1e-12 && (lae_2d - 1.0).abs() < 1e-12 && (zp - 1.0).abs() < 1e-12);
    }

    #[test]
    fn an_empty_roi_gives_nan() {
        let roi = roi_from_levels([2, 2, 1], vec![0; 4], [1.0; 3]);
        assert!(features(&roi, &Texture::default()).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn names_are_sixteen_and_distinct() {
        assert_eq!(NAMES.len(), 16);
        assert_unique_sql_names("glszm", &NAMES);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn zones_cover_the_roi(roi in small_roi(), texture in texture()) {
            if let Some(levels) = Padded::of_roi(&roi, &[1], texture.plane_normal) {
                let zones = label_zones(levels);
                prop_assert_eq!(zones.iter().map(|z| z.size).sum::<usize>(), roi.voxel_count());
            }
        }

        #[test]
        fn padding_and_mirroring_change_nothing(roi in small_roi(), texture in texture(), axis in 0usize..3) {
            let base = features(&roi, &texture);
            assert_same_features(&NAMES, &features(&padded(&roi, [1, 0, 2], [2, 1, 0], 7.0), &texture), &base);
            assert_same_features(&NAMES, &features(&mirrored(&roi, axis), &texture), &base);
        }
    }
}
