//! First-order (intensity) features: PyRadiomics 3.0.1 `radiomics/firstorder.py`.
//!
//! They read the real intensities of the ROI voxels (`Roi::intensity` where `Roi::mask`),
//! except Entropy and Uniformity, which read the discretised histogram (`Roi::levels`). The
//! sums follow numpy's pairwise summation and the percentiles numpy's linear interpolation
//! (numpy ≥ 1.22), so values agree with PyRadiomics to the last bits.

use crate::Roi;

/// PyRadiomics 3.0.1's first-order features, in the order of its documentation
/// (StandardDeviation is deprecated and not enabled by default).
pub const NAMES: [&str; 18] = [
    "Energy",
    "TotalEnergy",
    "Entropy",
    "Minimum",
    "10Percentile",
    "90Percentile",
    "Maximum",
    "Mean",
    "Median",
    "InterquartileRange",
    "Range",
    "MeanAbsoluteDeviation",
    "RobustMeanAbsoluteDeviation",
    "RootMeanSquared",
    "Skewness",
    "Kurtosis",
    "Variance",
    "Uniformity",
];

/// The first-order features in [`NAMES`] order; `voxel_array_shift` is PyRadiomics'
/// `voxelArrayShift` (added to the intensities in Energy, TotalEnergy and RootMeanSquared).
/// Kurtosis is PyRadiomics' (IBSI's excess kurtosis + 3). All NaN for an empty ROI.
pub fn features(roi: &Roi, voxel_array_shift: f64) -> [f64; 18] {
    let x: Vec<f64> = roi
        .intensity
        .iter()
        .zip(&roi.mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| *v)
        .collect();
    if x.is_empty() {
        return [f64::NAN; 18];
    }
    let n = x.len() as f64;
    let mut sorted = x.clone();
    sorted.sort_unstable_by(f64::total_cmp);

    let energy = numpy_sum(
        &x.iter()
            .map(|v| (v + voxel_array_shift) * (v + voxel_array_shift))
            .collect::<Vec<_>>(),
    );
    // numpy.multiply.reduce(GetSpacing()): x, then y, then z.
    let voxel_mm3 = roi.spacing_mm[0] * roi.spacing_mm[1] * roi.spacing_mm[2];

    let p = histogram(roi);
    let entropy = -numpy_sum(&p.iter().map(|&p| p * (p + f64::EPSILON).log2()).collect::<Vec<_>>());
    let uniformity = numpy_sum(&p.iter().map(|&p| p * p).collect::<Vec<_>>());

    let minimum = sorted[0];
    let maximum = sorted[sorted.len() - 1];
    let p10 = percentile(&sorted, 10.0);
    let p90 = percentile(&sorted, 90.0);
    let mean = numpy_sum(&x) / n;
    let median = median(&sorted);
    let iqr = percentile(&sorted, 75.0) - percentile(&sorted, 25.0);
    let mad = numpy_sum(&x.iter().map(|v| (v - mean).abs()).collect::<Vec<_>>()) / n;

    // numpy.nanmean over the voxels in [P10, P90], the others NaN (summed as zeros in place).
    let inside = |v: f64| v >= p10 && v <= p90;
    let kept: Vec<f64> = x.iter().map(|&v| if inside(v) { v } else { 0.0 }).collect();
    let kept_count = x.iter().filter(|&&v| inside(v)).count() as f64;
    let robust_mean = numpy_sum(&kept) / kept_count;
    let robust_deviation: Vec<f64> = x
        .iter()
        .map(|&v| if inside(v) { (v - robust_mean).abs() } else { 0.0 })
        .collect();
    let robust_mad = numpy_sum(&robust_deviation) / kept_count;

    let rms = (energy / n).sqrt();

    // firstorder._moment: numpy.power(x − mean, k), then nanmean. numpy squares for k = 2
    // (exactly d·d); for 3 and 4 it calls pow, which products match within a couple of ulps
    // at a tenth of the cost (three pows a voxel were most of this family's time).
    let moment = |power: fn(f64) -> f64| numpy_sum(&x.iter().map(|v| power(v - mean)).collect::<Vec<_>>()) / n;
    let mut m2 = moment(|d| d * d);
    if m2 == 0.0 {
        m2 = 1.0; // flat region: PyRadiomics divides by 1 (m3, m4 are then 0)
    }
    let skewness = moment(|d| d * d * d) / m2.powf(1.5);
    let kurtosis = moment(|d| (d * d) * (d * d)) / (m2 * m2);

    // numpy.nanstd(x) ** 2: the variance through a square root and back.
    let variance = (numpy_sum(&x.iter().map(|v| (v - mean) * (v - mean)).collect::<Vec<_>>()) / n).sqrt();
    let variance = variance * variance;

    [
        energy,
        energy * voxel_mm3,
        entropy,
        minimum,
        p10,
        p90,
        maximum,
        mean,
        median,
        iqr,
        maximum - minimum,
        mad,
        robust_mad,
        rms,
        skewness,
        kurtosis,
        variance,
        uniformity,
    ]
}

/// The discretised histogram p_i: the fraction of ROI voxels at each grey level present,
/// levels ascending (`numpy.unique(..., return_counts=True)`).
fn histogram(roi: &Roi) -> Vec<f64> {
    let top = roi
        .levels
        .iter()
        .zip(&roi.mask)
        .filter(|(_, m)| **m)
        .map(|(l, _)| *l)
        .max()
        .unwrap_or(0);
    let mut counts = vec![0u64; top as usize + 1];
    for (&level, &inside) in roi.levels.iter().zip(&roi.mask) {
        if inside {
            counts[level as usize] += 1;
        }
    }
    let total: u64 = counts.iter().sum();
    counts
        .into_iter()
        .filter(|&c| c > 0)
        .map(|c| c as f64 / total as f64)
        .collect()
}

/// numpy's sum of a contiguous float64 array: pairwise summation in blocks of 8 accumulators
/// (`pairwise_sum` in numpy's `loops_utils.h`), so rounding matches `numpy.sum` and
/// `numpy.nanmean` bit for bit.
pub(crate) fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for k in 0..8 {
                r[k] += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

/// `numpy.percentile(sorted, q)` with linear interpolation, numpy ≥ 1.22: virtual index
/// (n − 1)·q/100, then `_lerp` (a + (b − a)·t, or b − (b − a)·(1 − t) when t ≥ 0.5).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n - 1) as f64 * (q / 100.0);
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let below = virtual_index.floor();
    let (a, b) = (sorted[below as usize], sorted[below as usize + 1]);
    let t = virtual_index - below;
    let difference = b - a;
    if t >= 0.5 {
        b - difference * (1.0 - t)
    } else {
        a + difference * t
    }
}

/// `numpy.nanmedian`: the middle value, or the mean of the two middle values.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::phantom::phantom;
    use proptest::prelude::*;

    fn value(values: &[f64; 18], name: &str) -> f64 {
        values[NAMES.iter().position(|&n| n == name).unwrap()]
    }

    fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
        let scale = expected.abs().max(1e-300);
        assert!(
            (actual - expected).abs() <= tolerance * scale,
            "{what}: {actual:?} != {expected:?}"
        );
    }

    #[test]
    fn names_are_eighteen_and_unique_in_sql() {
        assert_eq!(NAMES.len(), 18);
        let mut sql: Vec<String> = NAMES.iter().map(|n| crate::sql_name("firstorder", n)).collect();
        sql.sort();
        sql.dedup();
        assert_eq!(sql.len(), 18);
    }

    #[test]
    fn the_phantom_matches_ibsi_full_precision() {
        let f = features(&phantom(), 0.0);
        // radiomics.md §1.6 (PyRadiomics 3.0.1 on the phantom, binWidth 1, voxelArrayShift 0).
        let expected = [
            ("Mean", 2.1486486486486487),
            ("Variance", 3.045471146822498),
            ("Skewness", 1.0838207225574563),
            ("Median", 1.0),
            ("Minimum", 1.0),
            ("10Percentile", 1.0),
            ("90Percentile", 4.0),
            ("Maximum", 6.0),
            ("InterquartileRange", 3.0),
            ("Range", 5.0),
            ("MeanAbsoluteDeviation", 1.552227903579255),
            ("RobustMeanAbsoluteDeviation", 1.1138338159946537),
            ("Energy", 567.0),
            ("RootMeanSquared", 2.768061083531605),
            ("Entropy", 1.2656115555865235),
            ("Uniformity", 0.5124178232286339),
        ];
        for (name, v) in expected {
            assert_close(value(&f, name), v, 1e-12, name);
        }
        // PyRadiomics' kurtosis is not excess (§3.3 item 3): IBSI −0.3546204806878337 + 3.
        assert_close(value(&f, "Kurtosis"), -0.3546204806878337 + 3.0, 1e-12, "Kurtosis");
        // Not in IBSI: Energy × voxel volume, 567 × 8 mm³.
        assert_eq!(value(&f, "TotalEnergy"), 4536.0);
        // Hand-derivable: 74 voxels (50 × 1, 1 × 3, 16 × 4, 7 × 6) → mean 159/74.
        assert_close(value(&f, "Mean"), 159.0 / 74.0, 1e-15, "Mean");
        assert_close(
            value(&f, "Energy"),
            50.0 + 9.0 + 16.0 * 16.0 + 7.0 * 36.0,
            0.0,
            "Energy",
        );
    }

    #[test]
    fn the_shift_enters_energy_and_rms_only() {
        let f = features(&phantom(), 10.0);
        // Σ (x + 10)² = Σx² + 20 Σx + 100 n = 567 + 3180 + 7400.
        assert_eq!(value(&f, "Energy"), 11147.0);
        assert_close(value(&f, "RootMeanSquared"), (11147.0f64 / 74.0).sqrt(), 1e-15, "RMS");
        assert_eq!(value(&f, "Mean"), value(&features(&phantom(), 0.0), "Mean"));
    }

    #[test]
    fn a_flat_roi_has_zero_spread_and_no_nan() {
        let mut roi = phantom();
        roi.intensity.iter_mut().for_each(|v| *v = 7.0);
        roi.levels
            .iter_mut()
            .zip(&roi.mask)
            .for_each(|(l, m)| *l = u32::from(*m));
        let f = features(&roi, 0.0);
        for name in ["Variance", "Skewness", "Kurtosis", "Range", "MeanAbsoluteDeviation"] {
            assert_eq!(value(&f, name), 0.0, "{name}");
        }
        // −log2(1 + eps), as PyRadiomics gives: eps is inside the logarithm.
        assert_eq!(value(&f, "Entropy"), -(1.0 + f64::EPSILON).log2());
        assert_eq!(value(&f, "Uniformity"), 1.0);
    }

    #[test]
    fn numpy_sum_is_pairwise() {
        // 1 and 15 × 2^-53: numpy's 8 accumulators lose only the one added to 1 (1 + 7 × 2^-52);
        // a sequential sum would lose them all.
        let mut a = vec![f64::EPSILON / 2.0; 16];
        a[0] = 1.0;
        let pairwise = numpy_sum(&a);
        assert_eq!(pairwise, 1.0 + 7.0 * f64::EPSILON);
        assert_eq!(numpy_sum(&[1.0, 2.0, 3.0]), 6.0);
        let long: Vec<f64> = (0..1000).map(f64::from).collect();
        assert_eq!(numpy_sum(&long), 499500.0);
    }

    #[test]
    fn percentiles_interpolate_linearly() {
        let v = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(percentile(&v, 10.0), 1.3); // index 0.3
        assert_eq!(percentile(&v, 90.0), 6.800000000000001); // index 2.7: 8 − 4 × 0.3, as numpy 1.26
        assert_eq!(percentile(&v, 75.0), 5.0);
        assert_eq!(median(&v), 3.0);
        assert_eq!(percentile(&[5.0], 90.0), 5.0);
    }

    /// Each expected (name, value) within `tolerance` relative of the feature of that name in
    /// `actual` (in `names` order); `what` says which run failed.
    pub(crate) fn assert_named(names: &[&str], actual: &[f64], expected: &[(&str, f64)], tolerance: f64, what: &str) {
        for &(name, v) in expected {
            let got = actual[names.iter().position(|&n| n == name).unwrap()];
            assert!(
                (got - v).abs() <= tolerance * v.abs().max(1e-300),
                "{what} {name}: {got:?} != {v:?}"
            );
        }
    }

    /// One PyRadiomics run on the phantom: spacing (x, y, z) in mm, setting, values by name.
    pub(crate) type ReferenceRun = ([f64; 3], String, Vec<(String, f64)>);

    /// Every value of `class` PyRadiomics 3.0.1 gives on the phantom under each setting of
    /// `tests/reference/radiomics/kernels/pyradiomics_phantom.py`: (spacing (x, y, z) in mm, setting, the
    /// feature values by name).
    pub(crate) fn pyradiomics_phantom(class: &str) -> Vec<ReferenceRun> {
        let text = include_str!("../../tests/reference/radiomics/kernels/pyradiomics_phantom.txt");
        let mut out: Vec<ReferenceRun> = Vec::new();
        for line in text.lines() {
            if let Some(header) = line.strip_prefix("## (") {
                let (spacing, setting) = header.split_once(") ").unwrap();
                let spacing: Vec<f64> = spacing.split(", ").map(|v| v.parse().unwrap()).collect();
                out.push(([spacing[0], spacing[1], spacing[2]], setting.to_string(), Vec::new()));
            } else if let Some(rest) = line.strip_prefix(class).and_then(|r| r.strip_prefix(' ')) {
                let (name, value) = rest.split_once(' ').unwrap();
                out.last_mut()
                    .unwrap()
                    .2
                    .push((name.to_string(), value.parse().unwrap()));
            }
        }
        out
    }

    /// The [`crate::Texture`] of a setting name of the reference script.
    pub(crate) fn texture_of(setting: &str) -> crate::Texture {
        use crate::{Texture, Weighting};
        let weighting = |weighting| Texture {
            weighting,
            ..Texture::default()
        };
        match setting {
            "default" => Texture::default(),
            "no_weighting" => weighting(Weighting::NoWeighting),
            "euclidean" => weighting(Weighting::Euclidean),
            "manhattan" => weighting(Weighting::Manhattan),
            "infinity" => weighting(Weighting::Infinity),
            "force2D" => Texture {
                plane_normal: Some(2),
                ..Texture::default()
            },
            "distances_1_2" => Texture {
                distances: vec![1, 2],
                ..Texture::default()
            },
            "asymmetrical" => Texture {
                symmetrical_glcm: false,
                ..Texture::default()
            },
            other => panic!("unknown setting {other}"),
        }
    }

    #[test]
    fn every_reference_value_matches_pyradiomics() {
        let runs = pyradiomics_phantom("firstorder");
        assert_eq!(runs.len(), 16);
        for (spacing_mm, setting, values) in runs {
            assert_eq!(values.len(), 18, "{setting}");
            let f = features(
                &Roi {
                    spacing_mm,
                    ..phantom()
                },
                0.0,
            );
            for (name, v) in values {
                assert_close(value(&f, &name), v, 1e-12, &format!("{setting} {spacing_mm:?} {name}"));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn order_and_padding_do_not_matter(
            values in proptest::collection::vec(-50i32..50, 8..40),
            pad in 0usize..3,
        ) {
            // The same voxels in a row and in a padded, reversed box give the same features.
            let n = values.len();
            let roi = line_roi(&values, 0);
            let reversed: Vec<i32> = values.iter().rev().copied().collect();
            let padded = line_roi(&reversed, pad);
            let (a, b) = (features(&roi, 0.0), features(&padded, 0.0));
            for k in 0..18 {
                let tol = 1e-9 * a[k].abs().max(1.0);
                prop_assert!((a[k] - b[k]).abs() <= tol, "{} {} {}", NAMES[k], a[k], b[k]);
            }
            prop_assert_eq!(roi.voxel_count(), n);
        }
    }

    /// A 1-voxel-high row of `values` (levels = value − min + 1) with `pad` non-ROI voxels
    /// on each side.
    fn line_roi(values: &[i32], pad: usize) -> Roi {
        let min = *values.iter().min().unwrap();
        let mut intensity = vec![-999.0; pad];
        intensity.extend(values.iter().map(|&v| f64::from(v)));
        intensity.extend(vec![-999.0; pad]);
        let mask: Vec<bool> = intensity.iter().map(|&v| v != -999.0).collect();
        let levels = intensity
            .iter()
            .zip(&mask)
            .map(|(&v, &m)| if m { (v as i32 - min + 1) as u32 } else { 0 })
            .collect();
        Roi {
            dims: [intensity.len(), 1, 1],
            spacing_mm: [1.0; 3],
            intensity,
            morphological: mask.clone(),
            mask,
            levels,
        }
    }
}
