//! Grey-level discretisation as PyRadiomics 3.0.1 does it (`imageoperations.getBinEdges` and
//! `binImage`), reproducing numpy's floating-point steps so every voxel lands in the same bin.

/// How the ROI's intensities are binned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Binning {
    /// `binWidth`: bins of this width, edges at multiples of it (anchored at 0, not at the
    /// ROI minimum: PyRadiomics' deviation from IBSI FBS).
    Width(f64),
    /// `binCount`: this many equal bins between the ROI's minimum and maximum (IBSI FBN).
    Count(usize),
}

/// PyRadiomics' `getBinEdges` for the ROI's values.
///
/// `Width(w)`: `numpy.arange(min - min % w, max + 2w, w)` (numpy's floor modulo; arange's
/// elements `start + i·((start + w) − start)`, its length `ceil((stop − start)/w)`); a single
/// edge (flat ROI) becomes `[e − 0.5, e + 0.5]`. `Count(n)`: `numpy.histogram(values, n)`'s
/// edges (`numpy.linspace` over `[min, max]`, widened by ±0.5 when flat) with the last edge
/// raised by 1 so `numpy.digitize` puts the maximum in the top bin. Empty for no values.
pub fn edges(values: &[f64], binning: Binning) -> Vec<f64> {
    if values.is_empty() {
        return Vec::new();
    }
    let minimum = values.iter().copied().fold(f64::INFINITY, f64::min);
    let maximum = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match binning {
        Binning::Width(width) => {
            let low = minimum - floor_mod(minimum, width);
            let high = maximum + 2.0 * width;
            let mut out = arange(low, high, width);
            if out.len() == 1 {
                out = vec![out[0] - 0.5, out[0] + 0.5];
            }
            out
        }
        Binning::Count(count) => {
            let (mut first, mut last) = (minimum, maximum);
            if first == last {
                first -= 0.5;
                last += 0.5;
            }
            let mut out = linspace(first, last, count + 1);
            if let Some(top) = out.last_mut() {
                *top += 1.0;
            }
            out
        }
    }
}

/// `numpy.digitize(values, edges)` with increasing edges: the number of edges ≤ each value,
/// i.e. the bin `[edges[l−1], edges[l])` as level `l` (1 for the first bin).
pub fn levels(values: &[f64], edges: &[f64]) -> Vec<u32> {
    values
        .iter()
        // numpy.digitize is searchsorted(edges, value, side="right").
        .map(|&v| edges.partition_point(|&e| e <= v) as u32)
        .collect()
}

/// Python's / numpy's `a % b` for floats: the remainder takes the sign of the divisor.
fn floor_mod(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && (r < 0.0) != (b < 0.0) { r + b } else { r }
}

/// `numpy.arange(start, stop, step)` for floats, element for element: numpy fills the array
/// from its first two values, `start + i·delta` with `delta = (start + step) − start`.
fn arange(start: f64, stop: f64, step: f64) -> Vec<f64> {
    let length = ((stop - start) / step).ceil();
    // Also catches NaN (a NaN bound or width).
    if length.is_nan() || length <= 0.0 {
        return Vec::new();
    }
    let length = length as usize;
    let delta = (start + step) - start;
    (0..length)
        .map(|i| match i {
            0 => start,
            1 => start + step,
            _ => start + i as f64 * delta,
        })
        .collect()
}

/// `numpy.linspace(start, stop, num)` (endpoint included): `i·step + start`, the last
/// element exactly `stop`.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    if num == 1 {
        return vec![start];
    }
    let div = (num - 1) as f64;
    let delta = stop - start;
    let step = delta / div;
    let mut out: Vec<f64> = (0..num)
        .map(|i| {
            let i = i as f64;
            // numpy divides first when the step underflows to 0.
            if step == 0.0 {
                i / div * delta + start
            } else {
                i * step + start
            }
        })
        .collect();
    out[num - 1] = stop;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_width_edges_are_anchored_at_zero() {
        // PyRadiomics' docstring example: ROI 54..166, binWidth 25.
        let values = [54.0, 100.0, 166.0];
        let e = edges(&values, Binning::Width(25.0));
        assert_eq!(e, [50.0, 75.0, 100.0, 125.0, 150.0, 175.0, 200.0]);
        assert_eq!(levels(&values, &e), [1, 3, 5]);
    }

    #[test]
    fn a_value_on_an_edge_opens_the_next_bin() {
        // numpy.digitize bins are half-open [low, high): 75 is level 2, and a maximum that is
        // a multiple of the width gets a bin of its own.
        let values = [50.0, 74.999, 75.0, 100.0];
        let e = edges(&values, Binning::Width(25.0));
        assert_eq!(e, [50.0, 75.0, 100.0, 125.0]);
        assert_eq!(levels(&values, &e), [1, 1, 2, 3]);
    }

    #[test]
    fn negative_values_bin_from_the_multiple_below() {
        // CT: −1000..40 HU, width 25. −1000 % 25 = 0 and −13 % 25 = 12 (floor modulo).
        let values = [-1000.0, -13.0, 0.0, 40.0];
        let e = edges(&values, Binning::Width(25.0));
        assert_eq!(e[0], -1000.0);
        assert_eq!(e.len(), 44); // ceil((40 + 50 + 1000) / 25) = 44
        assert_eq!(levels(&values, &e), [1, 40, 41, 42]);
        let e = edges(&[-13.0, 12.0], Binning::Width(25.0));
        assert_eq!(e, [-25.0, 0.0, 25.0, 50.0]);
        assert_eq!(levels(&[-13.0, 12.0], &e), [1, 2]);
    }

    #[test]
    fn fractional_widths_follow_numpy_arange() {
        // numpy.arange(0.0, 0.9, 0.1)[3] == 0.30000000000000004 (3 * 0.1) and [7] ==
        // 0.7000000000000001, so 0.3 and 0.7 fall in the bins below (numpy 1.26 gives 1, 3, 7).
        let values = [0.0, 0.3, 0.7];
        let e = edges(&values, Binning::Width(0.1));
        assert_eq!(e.len(), 9);
        assert_eq!(e[3], 3.0 * 0.1);
        assert_eq!(e[7], 0.7000000000000001);
        assert_eq!(levels(&values, &e), [1, 3, 7]);
    }

    #[test]
    fn bin_count_spans_min_to_max_and_keeps_the_maximum_in_the_top_bin() {
        let values = [-2.0, 0.0, 1.0, 6.0];
        let e = edges(&values, Binning::Count(4));
        assert_eq!(e, [-2.0, 0.0, 2.0, 4.0, 7.0]);
        assert_eq!(levels(&values, &e), [1, 2, 2, 4]);
        // A flat ROI: numpy.histogram's edges widen to value ± 0.5, so the value sits on the
        // middle edge (level 5 of 8, as numpy gives).
        let flat = [3.0, 3.0];
        let e = edges(&flat, Binning::Count(8));
        assert_eq!(e.len(), 9);
        assert_eq!((e[0], e[8]), (2.5, 4.5));
        assert_eq!(levels(&flat, &e), [5, 5]);
    }

    #[test]
    fn the_phantom_with_width_one_keeps_its_grey_values() {
        let roi = crate::phantom::phantom();
        let values: Vec<f64> = roi
            .intensity
            .iter()
            .zip(&roi.mask)
            .filter(|(_, m)| **m)
            .map(|(v, _)| *v)
            .collect();
        let e = edges(&values, Binning::Width(1.0));
        assert_eq!(e, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let expected: Vec<u32> = values.iter().map(|&v| v as u32).collect();
        assert_eq!(levels(&values, &e), expected);
    }

    #[test]
    fn a_random_ct_like_roi_matches_pyradiomics_end_to_end() {
        // tests/reference/radiomics/kernels/pyradiomics_random.py: −100 ± 300 HU with holes, a box larger
        // than the mask, binWidth 25 and binCount 16, averaged and merged.
        let reference: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/reference/radiomics/kernels/pyradiomics_random.json"
        ))
        .unwrap();
        let numbers = |key: &str| -> Vec<f64> {
            reference[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let dims = numbers("dims");
        let spacing = numbers("spacing_mm");
        let intensity = numbers("intensity");
        let mask: Vec<bool> = numbers("mask").iter().map(|&m| m == 1.0).collect();
        let inside: Vec<f64> = intensity
            .iter()
            .zip(&mask)
            .filter(|(_, m)| **m)
            .map(|(v, _)| *v)
            .collect();
        for run in reference["runs"].as_array().unwrap() {
            let binning = match (run["binning"]["binWidth"].as_f64(), run["binning"]["binCount"].as_u64()) {
                (Some(width), _) => Binning::Width(width),
                (None, Some(count)) => Binning::Count(count as usize),
                _ => unreachable!(),
            };
            let bins = levels(&inside, &edges(&inside, binning));
            let mut roi_levels = vec![0; intensity.len()];
            for (level, index) in bins.into_iter().zip((0..mask.len()).filter(|&i| mask[i])) {
                roi_levels[index] = level;
            }
            let roi = crate::Roi {
                dims: [dims[0] as usize, dims[1] as usize, dims[2] as usize],
                spacing_mm: [spacing[0], spacing[1], spacing[2]],
                intensity: intensity.clone(),
                morphological: mask.clone(),
                mask: mask.clone(),
                levels: roi_levels,
            };
            let weighting = if run["setting"]["weightingNorm"].is_null() {
                crate::Weighting::None
            } else {
                crate::Weighting::NoWeighting
            };
            let texture = crate::Texture {
                weighting,
                ..crate::Texture::default()
            };
            let computed: [(&str, &[&str], Vec<f64>); 3] = [
                (
                    "firstorder",
                    &crate::firstorder::NAMES,
                    crate::firstorder::features(&roi, 0.0).to_vec(),
                ),
                (
                    "glcm",
                    &crate::glcm::NAMES,
                    crate::glcm::features(&roi, &texture).to_vec(),
                ),
                (
                    "glrlm",
                    &crate::glrlm::NAMES,
                    crate::glrlm::features(&roi, &texture).to_vec(),
                ),
            ];
            for (class, names, values) in computed {
                let expected = run["features"][class].as_object().unwrap();
                assert_eq!(expected.len(), names.len());
                for (name, value) in names.iter().zip(values) {
                    let want = expected[*name].as_f64().unwrap();
                    let close = (value - want).abs() <= 1e-12 * want.abs().max(1e-300);
                    assert!(close, "{binning:?} {weighting:?} {class} {name}: {value:?} != {want:?}");
                }
            }
        }
    }
}
