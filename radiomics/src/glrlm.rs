//! Grey level run length matrix (GLRLM) features: PyRadiomics 3.0.1 `radiomics/glrlm.py` with
//! its matrix from `cmatrices.c` (`calculate_glrlm`).
//!
//! One matrix per direction of [`crate::neighbours::angles`] at distance 1 (13 in 3D; GLRLM
//! ignores `distances`): runs of equal grey level along every line of the ROI's bounding box,
//! broken by voxels outside the ROI. Absent grey levels are deleted (features keep the real
//! level values); features are averaged over non-empty directions, or computed on one
//! weighted sum of the matrices.

use crate::firstorder::numpy_sum;
use crate::glcm::{Levels, linear_step, nanmean};
use crate::neighbours::{BoundingBox, angles};
use crate::{Roi, Texture, Weighting};

/// PyRadiomics 3.0.1's GLRLM features, in the order of its documentation.
pub const NAMES: [&str; 16] = [
    "ShortRunEmphasis",
    "LongRunEmphasis",
    "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized",
    "RunLengthNonUniformity",
    "RunLengthNonUniformityNormalized",
    "RunPercentage",
    "GrayLevelVariance",
    "RunVariance",
    "RunEntropy",
    "LowGrayLevelRunEmphasis",
    "HighGrayLevelRunEmphasis",
    "ShortRunLowGrayLevelEmphasis",
    "ShortRunHighGrayLevelEmphasis",
    "LongRunLowGrayLevelEmphasis",
    "LongRunHighGrayLevelEmphasis",
];

/// The GLRLM features of the ROI in [`NAMES`] order; NaN for an empty ROI.
///
/// Weighting follows glrlm.py, which differs from glcm.py: a direction's weight is its length
/// in mm under the norm (Manhattan Σ|d|, Euclidean ‖d‖₂, Infinity max|d|), not e^(−‖d‖²).
pub fn features(roi: &Roi, texture: &Texture) -> [f64; 16] {
    let Some(bounds) = BoundingBox::of_roi(roi) else {
        return [f64::NAN; 16];
    };
    let levels = Levels::of_roi(roi, &bounds);
    let directions = angles(bounds.size, &[1], texture.plane_normal, false);
    let longest = bounds.size.into_iter().max().unwrap_or(1);
    let mut matrices = run_lengths(roi, &bounds, &levels, &directions, longest);
    if texture.weighting != Weighting::None {
        let weights: Vec<f64> = directions
            .iter()
            .map(|&d| weight(texture.weighting, d, roi.spacing_mm))
            .collect();
        let cells = levels.values.len() * longest;
        let mut merged = vec![0.0; cells];
        let mut cell = vec![0.0; directions.len()];
        for (e, value) in merged.iter_mut().enumerate() {
            for (a, term) in cell.iter_mut().enumerate() {
                *term = matrices[a][e] * weights[a];
            }
            *value = numpy_sum(&cell); // numpy.sum over the angle axis
        }
        matrices = vec![merged];
    }
    if matrices.len() > 1 {
        matrices.retain(|m| m.iter().sum::<f64>() != 0.0);
    }
    let per_angle: Vec<[f64; 16]> = matrices
        .iter()
        .map(|m| matrix_features(m, &levels.values, longest))
        .collect();
    let mut out = [f64::NAN; 16];
    for (k, value) in out.iter_mut().enumerate() {
        *value = nanmean(&per_angle.iter().map(|f| f[k]).collect::<Vec<_>>());
    }
    out
}

/// The run-length counts per direction (cmatrices.c `calculate_glrlm`), indexed by level row
/// × `longest` plus run length − 1.
///
/// Each line of the bounding box along a direction is walked once from its first voxel (one
/// whose predecessor leaves the box; found row by row, not by testing every voxel). A step
/// adds to the cell of the run so far either 1 (the level changes: the run ended) or 0,
/// rather than branching: most runs of a textured tumour are a voxel or two, and the processor
/// would mispredict nearly every run's end. Runs outside the ROI (level 0) go to a spare row, dropped.
/// Counts are integers: the same matrices in any order.
fn run_lengths(
    roi: &Roi,
    bounds: &BoundingBox,
    levels: &Levels,
    directions: &[[isize; 3]],
    longest: usize,
) -> Vec<Vec<f64>> {
    let n = levels.values.len();
    // Each level's row; level 0 (outside the ROI) and absent levels the spare row n.
    let row_of: Vec<usize> = levels
        .index
        .iter()
        .map(|&row| if row == u32::MAX { n } else { row as usize })
        .collect();
    // The spare row has one cell more: a walk starts as a run of level 0 and length 1 before
    // the line's first voxel, so a leading run outside the ROI reaches `longest` + 1.
    let mut counts = vec![0u32; (n + 1) * longest + 1];
    directions
        .iter()
        .map(|&direction| {
            counts.fill(0);
            let step = linear_step(roi, direction);
            let mut walk = |x: usize, y: usize, z: usize| {
                let length = bounds.line_length([x, y, z], direction);
                let mut index = roi.index(x, y, z);
                let (mut run_level, mut run_length) = (0u32, 1usize);
                for _ in 0..length {
                    let level = roi.levels[index];
                    let ends = level != run_level;
                    counts[row_of[run_level as usize] * longest + run_length - 1] += u32::from(ends);
                    run_length = if ends { 1 } else { run_length + 1 };
                    run_level = level;
                    index = index.wrapping_add_signed(step);
                }
                counts[row_of[run_level as usize] * longest + run_length - 1] += 1;
            };
            for z in bounds.low[2]..=bounds.high[2] {
                for y in bounds.low[1]..=bounds.high[1] {
                    let row_starts = !(bounds.holds(1, y, -direction[1]) && bounds.holds(2, z, -direction[2]));
                    if row_starts {
                        (bounds.low[0]..=bounds.high[0]).for_each(|x| walk(x, y, z));
                    } else {
                        // Only the x face the direction leaves from starts a line.
                        match direction[0] {
                            1 => walk(bounds.low[0], y, z),
                            -1 => walk(bounds.high[0], y, z),
                            _ => {}
                        }
                    }
                }
            }
            counts[..n * longest].iter().map(|&c| f64::from(c)).collect()
        })
        .collect()
}

/// glrlm.py's weight of a direction: its length in mm under the norm ((z, y, x) order of
/// summation, as numpy over the reversed spacing), 1 for `NoWeighting`.
fn weight(weighting: Weighting, direction: [isize; 3], spacing_mm: [f64; 3]) -> f64 {
    let mm = [2, 1, 0].map(|axis| direction[axis].unsigned_abs() as f64 * spacing_mm[axis]);
    match weighting {
        Weighting::None | Weighting::NoWeighting => 1.0,
        Weighting::Infinity => mm.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Weighting::Euclidean => (0.0 + mm[0] * mm[0] + mm[1] * mm[1] + mm[2] * mm[2]).sqrt(),
        Weighting::Manhattan => 0.0 + mm[0] + mm[1] + mm[2],
    }
}

/// The 16 features of one (unnormalised) run-length matrix over the present levels `g` and
/// run lengths 1..=`longest`: glrlm.py's formulas term for term.
fn matrix_features(p: &[f64], g: &[f64], longest: usize) -> [f64; 16] {
    let n = g.len();
    let eps = f64::EPSILON;
    let total: f64 = p.iter().sum();
    let runs = if total == 0.0 { f64::NAN } else { total };
    let mut pr = vec![0.0; longest];
    let mut pg = vec![0.0; n];
    for i in 0..n {
        for j in 0..longest {
            pr[j] += p[i * longest + j];
            pg[i] += p[i * longest + j];
        }
    }
    let jv = |j: usize| (j + 1) as f64;

    let (mut sre, mut lre, mut rln, mut voxels) = (0.0, 0.0, 0.0, 0.0);
    for (j, &v) in pr.iter().enumerate() {
        let j2 = jv(j) * jv(j);
        sre += v / j2;
        lre += v * j2;
        rln += v * v;
        voxels += v * jv(j);
    }
    let (mut gln, mut lglre, mut hglre) = (0.0, 0.0, 0.0);
    for (i, &v) in pg.iter().enumerate() {
        let i2 = g[i] * g[i];
        gln += v * v;
        lglre += v / i2;
        hglre += v * i2;
    }
    let (mut srlgle, mut srhgle, mut lrlgle, mut lrhgle, mut entropy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let i2 = g[i] * g[i];
        for j in 0..longest {
            let v = p[i * longest + j];
            // A zero cell adds exact zeros (0 · log2(eps) included): skipped, the sums run in
            // the same order and come out bit-identical, and most cells are zero (a log2 each
            // was a tenth of GLRLM). Not so for an empty matrix (NaN).
            if v == 0.0 && total != 0.0 {
                continue;
            }
            let j2 = jv(j) * jv(j);
            srlgle += v / (i2 * j2);
            srhgle += v * i2 / j2;
            lrlgle += v * j2 / i2;
            lrhgle += v * (j2 * i2);
            let q = v / runs;
            entropy += q * (q + eps).log2();
        }
    }

    let grey_mean: f64 = pg.iter().zip(g).map(|(&v, &i)| v / runs * i).sum();
    let grey_variance: f64 = pg
        .iter()
        .zip(g)
        .map(|(&v, &i)| v / runs * ((i - grey_mean) * (i - grey_mean)))
        .sum();
    let run_mean: f64 = pr.iter().enumerate().map(|(j, &v)| v / runs * jv(j)).sum();
    let run_variance: f64 = pr
        .iter()
        .enumerate()
        .map(|(j, &v)| v / runs * ((jv(j) - run_mean) * (jv(j) - run_mean)))
        .sum();

    [
        sre / runs,
        lre / runs,
        gln / runs,
        gln / (runs * runs),
        rln / runs,
        rln / (runs * runs),
        runs / voxels,
        grey_variance,
        run_variance,
        -entropy,
        lglre / runs,
        hglre / runs,
        srlgle / runs,
        srhgle / runs,
        lrlgle / runs,
        lrhgle / runs,
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::phantom::phantom;
    use proptest::prelude::*;

    fn assert_features(actual: &[f64; 16], expected: &[(&str, f64)], tolerance: f64, what: &str) {
        crate::firstorder::tests::assert_named(&NAMES, actual, expected, tolerance, what);
    }

    #[test]
    fn names_are_sixteen_and_unique_in_sql() {
        assert_eq!(NAMES.len(), 16);
        let mut sql: Vec<String> = NAMES.iter().map(|n| crate::sql_name("glrlm", n)).collect();
        sql.sort();
        sql.dedup();
        assert_eq!(sql.len(), 16);
    }

    #[test]
    fn the_phantom_3d_averaged_matches_ibsi_full_precision() {
        // radiomics.md §1.6 "3D averaged" (PyRadiomics default).
        let expected = [
            ("ShortRunEmphasis", 0.7052347295556062),
            ("LongRunEmphasis", 3.061120905774842),
            ("LowGrayLevelRunEmphasis", 0.6029798426410303),
            ("HighGrayLevelRunEmphasis", 9.69762411962527),
            ("ShortRunLowGrayLevelEmphasis", 0.35158027600601727),
            ("ShortRunHighGrayLevelEmphasis", 8.539655587028166),
            ("LongRunLowGrayLevelEmphasis", 2.3909676197867715),
            ("LongRunHighGrayLevelEmphasis", 17.566188661400165),
            ("GrayLevelNonUniformity", 21.77620074464118),
            ("GrayLevelNonUniformityNormalized", 0.4301751561074419),
            ("RunLengthNonUniformity", 26.853351397011604),
            ("RunLengthNonUniformityNormalized", 0.5127708185542874),
            ("RunPercentage", 0.6798336798336797),
            ("GrayLevelVariance", 3.46497872838456),
            ("RunVariance", 0.5735422830251777),
            ("RunEntropy", 2.432074133543018),
        ];
        let f = features(&phantom(), &Texture::default());
        assert_features(&f, &expected, 1e-9, "3D averaged");
    }

    #[test]
    fn the_phantom_3d_merged_matches_ibsi_full_precision() {
        // radiomics.md §1.6 "3D merged" (weightingNorm: no_weighting).
        let expected = [
            ("ShortRunEmphasis", 0.7291271661569827),
            ("LongRunEmphasis", 2.761467889908257),
            ("LowGrayLevelRunEmphasis", 0.606651376146789),
            ("HighGrayLevelRunEmphasis", 9.637614678899082),
            ("ShortRunLowGrayLevelEmphasis", 0.3716031626363877),
            ("ShortRunHighGrayLevelEmphasis", 8.672350492694529),
            ("LongRunLowGrayLevelEmphasis", 2.1628652735304112),
            ("LongRunHighGrayLevelEmphasis", 15.634556574923547),
            ("GrayLevelNonUniformity", 281.28134556574923),
            ("GrayLevelNonUniformityNormalized", 0.4300938005592496),
            ("RunLengthNonUniformity", 327.71865443425077),
            ("RunLengthNonUniformityNormalized", 0.5010988599912091),
            ("RunPercentage", 0.6798336798336798),
            ("GrayLevelVariance", 3.479021126167831),
            ("RunVariance", 0.5977798352177615),
            ("RunEntropy", 2.6244266457110497),
        ];
        let t = Texture {
            weighting: Weighting::NoWeighting,
            ..Texture::default()
        };
        let f = features(&phantom(), &t);
        assert_features(&f, &expected, 1e-9, "3D merged");
        // 13 directions × 74 voxels in 654 runs (LRE = 1806 / 654): run percentage 654 / 962.
        assert_features(
            &f,
            &[("RunPercentage", 654.0 / 962.0), ("LongRunEmphasis", 1806.0 / 654.0)],
            1e-12,
            "exact",
        );
    }

    #[test]
    fn weighting_and_force2d_match_pyradiomics() {
        // PyRadiomics 3.0.1 (tests/reference/radiomics/kernels/pyradiomics_phantom.py); (0.5, 0.7, 3.0) mm
        // pins the weights' axes. (ShortRunEmphasis, GrayLevelNonUniformity, RunEntropy)
        let anisotropic = [0.5, 0.7, 3.0];
        let with = |weighting| Texture {
            weighting,
            ..Texture::default()
        };
        let cases: [(Texture, [f64; 3], [f64; 3]); 4] = [
            (
                with(Weighting::Euclidean),
                anisotropic,
                [0.7450858743295364, 688.511318258222, 2.554862001054155],
            ),
            (
                with(Weighting::Manhattan),
                anisotropic,
                [0.7540656425442653, 864.0036393922568, 2.5155910684978746],
            ),
            (
                with(Weighting::Infinity),
                anisotropic,
                [0.7436734574790113, 663.3008665397493, 2.561004418073404],
            ),
            (
                Texture {
                    plane_normal: Some(2),
                    ..Texture::default()
                },
                [2.0; 3],
                [0.6646632235371975, 19.462675752261934, 2.5175776125540255],
            ),
        ];
        for (t, spacing_mm, expected) in cases {
            let roi = Roi {
                spacing_mm,
                ..phantom()
            };
            let f = features(&roi, &t);
            let named = [
                ("ShortRunEmphasis", expected[0]),
                ("GrayLevelNonUniformity", expected[1]),
                ("RunEntropy", expected[2]),
            ];
            assert_features(&f, &named, 1e-9, &format!("{t:?} {spacing_mm:?}"));
        }
    }

    #[test]
    fn every_reference_value_matches_pyradiomics() {
        // All 8 settings × 2 spacings of tests/reference/radiomics/kernels/pyradiomics_phantom.py.
        use crate::firstorder::tests::{pyradiomics_phantom, texture_of};
        let runs = pyradiomics_phantom("glrlm");
        assert_eq!(runs.len(), 16);
        for (spacing_mm, setting, values) in runs {
            assert_eq!(values.len(), 16, "{setting}");
            let f = features(
                &Roi {
                    spacing_mm,
                    ..phantom()
                },
                &texture_of(&setting),
            );
            let expected: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            assert_features(&f, &expected, 1e-12, &format!("{setting} {spacing_mm:?}"));
        }
    }

    /// The counts as cmatrices.c finds them: each line of the box walked from the voxel whose
    /// predecessor leaves the box (the oracle of [`run_lengths`]).
    fn run_lengths_by_walking(
        roi: &Roi,
        bounds: &BoundingBox,
        levels: &Levels,
        directions: &[[isize; 3]],
        longest: usize,
    ) -> Vec<Vec<f64>> {
        let n = levels.values.len();
        let mut matrices = vec![vec![0.0; n * longest]; directions.len()];
        for (direction, matrix) in directions.iter().zip(matrices.iter_mut()) {
            let step = linear_step(roi, *direction);
            let back = direction.map(|d| -d);
            let mut count = |level: u32, length: usize| {
                matrix[levels.index[level as usize] as usize * longest + length - 1] += 1.0;
            };
            for z in bounds.low[2]..=bounds.high[2] {
                for y in bounds.low[1]..=bounds.high[1] {
                    for x in bounds.low[0]..=bounds.high[0] {
                        let starts_line = !(bounds.holds(0, x, back[0])
                            && bounds.holds(1, y, back[1])
                            && bounds.holds(2, z, back[2]));
                        if !starts_line {
                            continue;
                        }
                        let length = bounds.line_length([x, y, z], *direction);
                        // Level 0 is outside the ROI: it ends a run and starts none.
                        let (mut run_level, mut run_length) = (0u32, 0usize);
                        let mut index = roi.index(x, y, z);
                        for _ in 0..length {
                            let level = roi.levels[index];
                            if level != run_level {
                                if run_level != 0 {
                                    count(run_level, run_length);
                                }
                                (run_level, run_length) = (level, 0);
                            }
                            run_length += 1;
                            index = index.wrapping_add_signed(step);
                        }
                        if run_level != 0 {
                            count(run_level, run_length);
                        }
                    }
                }
            }
        }
        matrices
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn padding_and_mirroring_keep_the_features(roi in crate::phantom::small_roi(), axis in 0usize..3, padding in 1usize..3) {
            for weighting in [Weighting::None, Weighting::Euclidean] {
                let t = Texture { weighting, ..Texture::default() };
                let f = features(&roi, &t);
                let padded = features(&crate::phantom::pad(&roi, padding), &t);
                let mirrored = features(&crate::phantom::mirror(&roi, axis), &t);
                for k in 0..16 {
                    for (other, what) in [(padded[k], "padded"), (mirrored[k], "mirrored")] {
                        let same = (f[k].is_nan() && other.is_nan()) || (f[k] - other).abs() <= 1e-9 * f[k].abs().max(1.0);
                        prop_assert!(same, "{what} {} {} {}", NAMES[k], f[k], other);
                    }
                }
            }
        }

        #[test]
        fn one_pass_counts_the_runs_walking_each_line_counts(roi in crate::phantom::small_roi(), plane in proptest::option::of(0usize..3)) {
            // In its own box, and in a larger one (the box grown for local intensity).
            for roi in [roi.clone(), crate::phantom::pad(&roi, 1)] {
                let bounds = BoundingBox::of_roi(&roi).unwrap();
                let levels = Levels::of_roi(&roi, &bounds);
                let directions = angles(bounds.size, &[1], plane, false);
                let longest = bounds.size.into_iter().max().unwrap();
                prop_assert_eq!(
                    run_lengths(&roi, &bounds, &levels, &directions, longest),
                    run_lengths_by_walking(&roi, &bounds, &levels, &directions, longest)
                );
            }
        }

        #[test]
        fn every_roi_voxel_is_in_one_run_per_direction(roi in crate::phantom::small_roi()) {
            let bounds = BoundingBox::of_roi(&roi).unwrap();
            let levels = Levels::of_roi(&roi, &bounds);
            let directions = angles(bounds.size, &[1], None, false);
            let longest = bounds.size.into_iter().max().unwrap();
            let matrices = run_lengths(&roi, &bounds, &levels, &directions, longest);
            for (d, m) in directions.iter().zip(&matrices) {
                let voxels: f64 = (0..levels.values.len())
                    .flat_map(|i| (0..longest).map(move |j| (i, j)))
                    .map(|(i, j)| m[i * longest + j] * (j + 1) as f64)
                    .sum();
                prop_assert_eq!(voxels, roi.voxel_count() as f64);
                // Runs = ROI voxels whose predecessor along d is not an ROI voxel of its level.
                let mut starts = 0usize;
                for z in 0..roi.dims[2] { for y in 0..roi.dims[1] { for x in 0..roi.dims[0] {
                    let here = roi.index(x, y, z);
                    if !roi.mask[here] { continue; }
                    let (px, py, pz) = (x as isize - d[0], y as isize - d[1], z as isize - d[2]);
                    let fits = [px, py, pz].iter().zip(roi.dims).all(|(&c, size)| c >= 0 && (c as usize) < size);
                    let continues = fits && {
                        let before = roi.index(px as usize, py as usize, pz as usize);
                        roi.mask[before] && roi.levels[before] == roi.levels[here]
                    };
                    if !continues { starts += 1; }
                }}}
                prop_assert_eq!(m.iter().sum::<f64>(), starts as f64);
            }
        }
    }
}
