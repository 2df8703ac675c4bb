//! Local intensity peaks (IBSI 9ST6: local VJGA, global 0F91; not in PyRadiomics) over the real
//! image values.
//!
//! The mean of every image voxel of the box (in the ROI or not) whose centre lies within a
//! 1 cm³ sphere, radius (3 / (4π))^(1/3) cm ≈ 6.2035 mm, of a voxel's centre (voxels beyond the
//! box do not exist). Local peak: the highest such mean around the ROI voxels of the ROI's
//! maximum intensity; global peak: the highest around any ROI voxel. As MIRP 2.5.0's direct
//! computation; the SQL layer grows the box by the radius so no real voxel is left out.
//!
//! The sphere is a set of x-runs, one per (dy, dz); with running sums along each row of the box
//! a voxel's mean costs one subtraction per run (≈ 300 at 0.4 × 0.4 × 1 mm) instead of one
//! addition per sphere voxel (≈ 6000), and a row's voxels take each run together.

use std::ops::Range;

use crate::{Roi, Texture};

/// The IBSI names, snake_case.
pub const NAMES: [&str; 2] = ["local_intensity_peak", "global_intensity_peak"];

/// The SQL field names: IBSI's names already say their family, so unlike the other families
/// they take no `<class>_` prefix (`local_intensity_peak`, not
/// `local_intensity_local_intensity_peak`).
pub const SQL_NAMES: [&str; 2] = NAMES;

/// The sphere's radius in mm: 1 cm³.
fn radius_mm() -> f64 {
    (3.0 / (4.0 * std::f64::consts::PI)).cbrt() * 10.0
}

/// The local and global intensity peaks of the ROI; NaN for an empty ROI. Reads no texture
/// setting.
pub fn features(roi: &Roi, _texture: &Texture) -> [f64; 2] {
    let [nx, ny, nz] = roi.dims;
    let runs = sphere_runs(roi.spacing_mm);
    // Row r's running sums: sums[r * (nx + 1) + k] = Σ of its first k voxels.
    let mut sums = vec![0.0; (nx + 1) * ny * nz];
    for (row, values) in roi.intensity.chunks(nx).enumerate() {
        let base = row * (nx + 1);
        for (k, &value) in values.iter().enumerate() {
            sums[base + k + 1] = sums[base + k] + value;
        }
    }
    let mut maximum = f64::NEG_INFINITY;
    let (mut local, mut global) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    // The sphere sums of one row's ROI voxels, run by run: each run adds a window of the
    // same width along the row, so the row's voxels take it in one pass over contiguous sums
    // (vectorised), in the same order of additions as voxel by voxel.
    let (mut totals, mut counts) = (vec![0.0; nx], vec![0usize; nx]);
    // A row whose voxels' spheres all lie inside the box (nearly every row: the box is grown
    // by the sphere's reach) needs no voxel counts: each sphere holds all of its voxels.
    let whole_sphere: usize = runs.iter().map(|run| 2 * run.half_width + 1).sum();
    let reach = [0, 1, 2].map(|axis| {
        runs.iter()
            .map(|run| [run.half_width, run.dy.unsigned_abs(), run.dz.unsigned_abs()][axis])
            .max()
            .unwrap_or(0)
    });
    for z in 0..nz {
        for y in 0..ny {
            let row = roi.index(0, y, z);
            let in_roi = &roi.mask[row..row + nx];
            let (Some(first), Some(last)) = (in_roi.iter().position(|&m| m), in_roi.iter().rposition(|&m| m)) else {
                continue;
            };
            totals[first..=last].fill(0.0);
            let unclipped = first >= reach[0]
                && last + reach[0] < nx
                && y >= reach[1]
                && y + reach[1] < ny
                && z >= reach[2]
                && z + reach[2] < nz;
            counts[first..=last].fill(if unclipped { whole_sphere } else { 0 });
            for run in &runs {
                let (Some(y), Some(z)) = (y.checked_add_signed(run.dy), z.checked_add_signed(run.dz)) else {
                    continue;
                };
                if y >= ny || z >= nz {
                    continue;
                }
                let base = (z * ny + y) * (nx + 1);
                let sums = &sums[base..base + nx + 1];
                if unclipped {
                    add_inner_windows(sums, run.half_width, first..last + 1, &mut totals);
                } else {
                    add_windows(sums, run.half_width, first..last + 1, &mut totals, &mut counts);
                }
            }
            for x in first..=last {
                if !in_roi[x] {
                    continue;
                }
                let mean = totals[x] / counts[x] as f64;
                global = global.max(mean);
                let value = roi.intensity[row + x];
                if value > maximum {
                    (maximum, local) = (value, mean);
                } else if value == maximum {
                    local = local.max(mean);
                }
            }
        }
    }
    if global == f64::NEG_INFINITY {
        return [f64::NAN; 2];
    }
    [local, global]
}

/// Adds to `totals[x]` the sum of the row's voxels within `half_width` of x, and their number
/// to `counts[x]`, for every x of `span`, from the row's running `sums` (n + 1 of them).
#[inline]
fn add_windows(sums: &[f64], half_width: usize, span: Range<usize>, totals: &mut [f64], counts: &mut [usize]) {
    let n = sums.len() - 1;
    // Windows within the row (possibly none): contiguous slices, no clipping.
    let start = span.start.max(half_width).min(span.end);
    let inner = start..span.end.min(n.saturating_sub(half_width)).max(start);
    add_inner_windows(sums, half_width, inner.clone(), totals);
    counts[inner.clone()]
        .iter_mut()
        .for_each(|count| *count += 2 * half_width + 1);
    // Windows the row's ends clip.
    for x in (span.start..inner.start).chain(inner.end..span.end) {
        let (low, high) = (x.saturating_sub(half_width), (x + half_width + 1).min(n));
        totals[x] += sums[high] - sums[low];
        counts[x] += high - low;
    }
}

/// [`add_windows`]' sums for a `span` whose windows the row's ends do not clip, one pass
/// over contiguous slices (vectorised).
#[inline]
fn add_inner_windows(sums: &[f64], half_width: usize, span: Range<usize>, totals: &mut [f64]) {
    if span.is_empty() {
        return;
    }
    let highs = &sums[span.start + half_width + 1..span.end + half_width + 1];
    let lows = &sums[span.start - half_width..span.end - half_width];
    for (total, (high, low)) in totals[span].iter_mut().zip(highs.iter().zip(lows)) {
        *total += high - low;
    }
}

/// One row of the sphere: offsets (dy, dz) and the half-width in x.
struct Run {
    dy: isize,
    dz: isize,
    half_width: usize,
}

/// The sphere as x-runs: voxel offsets whose centre distance √Σ(d·spacing)² ≤ the radius.
fn sphere_runs(spacing_mm: [f64; 3]) -> Vec<Run> {
    let radius = radius_mm();
    let reach = spacing_mm.map(|s| (radius / s).floor() as isize);
    let within = |d: [isize; 3]| {
        let squares: f64 = (0..3).map(|a| (d[a] as f64 * spacing_mm[a]).powi(2)).sum();
        squares.sqrt() <= radius
    };
    let mut runs = Vec::new();
    for dz in -reach[2]..=reach[2] {
        for dy in -reach[1]..=reach[1] {
            if within([0, dy, dz]) {
                let half_width = (1..=reach[0]).take_while(|&dx| within([dx, dy, dz])).count();
                runs.push(Run { dy, dz, half_width });
            }
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glszm::tests::{assert_close, assert_same_features, mirrored};
    use crate::phantom::phantom;
    use proptest::prelude::*;

    #[test]
    fn the_phantom_matches_mirp_and_ibsi() {
        // §1.6: MIRP 2.5.0 (float32 image) and IBSI 2.6, 3.1. At 2 mm the sphere holds the
        // offsets with dx² + dy² + dz² ≤ 9; the 9 outside the ROI counts in the means.
        let actual = features(&phantom(), &Texture::default());
        assert_close("local", actual[0], 2.5999999046325684, 1e-6);
        assert_close("global", actual[1], 3.1034483909606934, 1e-6);
        assert_close("local IBSI", actual[0], 2.6, 0.5e-2);
        assert_close("global IBSI", actual[1], 3.1, 0.5e-2);
        // Exact: means of integers over whole voxels.
        assert_close("local exact", actual[0], 2.6, 1e-12);
        assert_close("global exact", actual[1], 90.0 / 29.0, 1e-12);
    }

    #[test]
    fn the_sphere_is_one_cubic_centimetre_of_voxel_centres() {
        // 1 mm voxels: the centres within 6.2035 mm number close to the sphere's 1000 mm³.
        let count: usize = sphere_runs([1.0; 3]).iter().map(|r| 2 * r.half_width + 1).sum();
        assert!((900..=1100).contains(&count), "{count}");
        assert!((radius_mm() - 6.203504908994).abs() < 1e-9);
    }

    #[test]
    fn the_local_peak_takes_the_best_of_tied_maxima() {
        // One row; 5 mm in x reaches ±1 voxel, 10 mm in y and z nothing. ROI voxels: the
        // maximum 5 at x = 0 (mean 2.5) and x = 3 (mean 5), and a 2 at x = 5 among high
        // non-ROI voxels (mean 31/3), which only the global peak sees.
        let roi = Roi {
            dims: [7, 1, 1],
            spacing_mm: [5.0, 10.0, 10.0],
            intensity: vec![5.0, 0.0, 1.0, 5.0, 9.0, 2.0, 20.0],
            morphological: vec![true, false, false, true, false, true, false],
            mask: vec![true, false, false, true, false, true, false],
            levels: vec![1, 0, 0, 1, 0, 1, 0],
        };
        let [local, global] = features(&roi, &Texture::default());
        assert_close("local", local, 5.0, 1e-12);
        assert_close("global", global, 31.0 / 3.0, 1e-12);
        // 3 mm reaches ±2: around x = 0 (5 + 0 + 1) / 3, around x = 3 (0 + 1 + 5 + 9 + 2) / 5.
        let closer = Roi {
            spacing_mm: [3.0, 10.0, 10.0],
            ..roi
        };
        let [local, _] = features(&closer, &Texture::default());
        assert_close("local", local, 17.0 / 5.0, 1e-12);
    }

    #[test]
    fn names_are_two_and_sql_names_unprefixed() {
        assert_eq!(NAMES.len(), 2);
        assert_eq!(SQL_NAMES, ["local_intensity_peak", "global_intensity_peak"]);
    }

    #[test]
    fn an_empty_roi_gives_nan() {
        let mut roi = phantom();
        roi.mask.fill(false);
        assert!(features(&roi, &Texture::default()).iter().all(|v| v.is_nan()));
    }

    /// The means by brute force over every box voxel.
    fn brute_force(roi: &Roi) -> [f64; 2] {
        let radius = radius_mm();
        let mut maximum = f64::NEG_INFINITY;
        let (mut local, mut global) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let centre = |i: usize| {
            let [nx, ny, _] = roi.dims;
            [i % nx, (i / nx) % ny, i / (nx * ny)]
        };
        for (i, _) in roi.mask.iter().enumerate().filter(|&(_, &m)| m) {
            let a = centre(i);
            let (mut total, mut count) = (0.0, 0.0);
            for (j, &value) in roi.intensity.iter().enumerate() {
                let b = centre(j);
                let squares: f64 = (0..3)
                    .map(|k| ((a[k] as f64 - b[k] as f64) * roi.spacing_mm[k]).powi(2))
                    .sum();
                if squares.sqrt() <= radius {
                    total += value;
                    count += 1.0;
                }
            }
            let mean = total / count;
            global = global.max(mean);
            if roi.intensity[i] > maximum {
                (maximum, local) = (roi.intensity[i], mean);
            } else if roi.intensity[i] == maximum {
                local = local.max(mean);
            }
        }
        [local, global]
    }

    #[test]
    fn spheres_inside_the_box_agree_with_brute_force() {
        // 2.5 × 2 × 4 mm: the sphere reaches 2, 3 and 1 voxels. In a 9 × 9 × 5 box an ROI in
        // x 2..=6, y 3..=5, z 1..=3 has whole spheres (no counting; the property tests above
        // have clipped ones).
        let dims = [9, 9, 5];
        let n = dims.iter().product();
        let intensity: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 - 3.0).collect();
        let mask: Vec<bool> = (0..n)
            .map(|i| {
                let [x, y, z] = [i % 9, i / 9 % 9, i / 81];
                let central = (2..=6).contains(&x) && (3..=5).contains(&y) && (1..=3).contains(&z);
                central && (i * 7) % 5 != 0
            })
            .collect();
        let roi = Roi {
            dims,
            spacing_mm: [2.5, 2.0, 4.0],
            intensity,
            morphological: mask.clone(),
            levels: mask.iter().map(|&m| u32::from(m)).collect(),
            mask,
        };
        assert_same_features(&NAMES, &features(&roi, &Texture::default()), &brute_force(&roi));
    }

    fn image() -> impl Strategy<Value = Roi> {
        (
            1usize..=7,
            1usize..=7,
            1usize..=5,
            prop_oneof![Just([1.0, 1.0, 1.0]), Just([0.7, 0.7, 3.0]), Just([2.5, 2.0, 4.0])],
        )
            .prop_flat_map(|(x, y, z, spacing)| {
                let n = x * y * z;
                (
                    Just([x, y, z]),
                    Just(spacing),
                    proptest::collection::vec(0u8..=6, n),
                    proptest::collection::vec(any::<bool>(), n),
                )
            })
            .prop_map(|(dims, spacing_mm, values, mask)| Roi {
                dims,
                spacing_mm,
                intensity: values.iter().map(|&v| f64::from(v) * 1.5 - 2.0).collect(),
                morphological: mask.clone(),
                levels: mask.iter().map(|&m| u32::from(m)).collect(),
                mask,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn row_sums_agree_with_brute_force(roi in image()) {
            let fast = features(&roi, &Texture::default());
            if roi.voxel_count() == 0 {
                prop_assert!(fast.iter().all(|v| v.is_nan()));
            } else {
                assert_same_features(&NAMES, &fast, &brute_force(&roi));
            }
        }

        #[test]
        fn mirroring_changes_nothing(roi in image(), axis in 0usize..3) {
            // Padding is left out: new image voxels within the sphere change the means.
            let base = features(&roi, &Texture::default());
            assert_same_features(&NAMES, &features(&mirrored(&roi, axis), &Texture::default()), &base);
        }
    }
}
