//! Grey level co-occurrence matrix (GLCM) features: PyRadiomics 3.0.1 `radiomics/glcm.py` with
//! its matrix from `cmatrices.c` (`calculate_glcm`).
//!
//! One matrix per direction of [`crate::neighbours::angles`] (13 in 3D at distance 1), counting
//! (centre level, neighbour level) over ROI voxels whose neighbour is in the ROI; grey levels
//! absent from the ROI are deleted (the features keep the real level values), the transpose is
//! added when symmetrical, then the matrices are normalised per direction (features averaged
//! over directions, empty directions dropped) or summed with PyRadiomics' weights first.

use nalgebra::DMatrix;
use nalgebra::linalg::SymmetricTridiagonal;

use crate::firstorder::numpy_sum;
use crate::neighbours::{BoundingBox, Padded, angles};
use crate::{Roi, Texture, Weighting};

/// PyRadiomics 3.0.1's GLCM features, in the order of its documentation (the deprecated
/// Dissimilarity, Homogeneity1, Homogeneity2 and SumVariance left out).
pub const NAMES: [&str; 24] = [
    "Autocorrelation",
    "JointAverage",
    "ClusterProminence",
    "ClusterShade",
    "ClusterTendency",
    "Contrast",
    "Correlation",
    "DifferenceAverage",
    "DifferenceEntropy",
    "DifferenceVariance",
    "JointEnergy",
    "JointEntropy",
    "Imc1",
    "Imc2",
    "Idm",
    "MCC",
    "Idmn",
    "Id",
    "Idn",
    "InverseVariance",
    "MaximumProbability",
    "SumAverage",
    "SumEntropy",
    "SumSquares",
];

const JOINT_AVERAGE: usize = 1;
const MCC: usize = 15;

/// The GLCM features of the ROI in [`NAMES`] order; NaN where PyRadiomics gives NaN (an ROI
/// without neighbour pairs), MCC 1 when the ROI has a single grey level (PyRadiomics' flat
/// region).
pub fn features(roi: &Roi, texture: &Texture) -> [f64; 24] {
    let Some(glcm) = Glcm::of_roi(roi, texture) else {
        return [f64::NAN; 24];
    };
    let per_angle: Vec<[f64; 24]> = glcm
        .matrices
        .iter()
        .map(|p| matrix_features(p, &glcm.levels.values, glcm.levels.top))
        .collect();
    let mut out = [f64::NAN; 24];
    for (k, value) in out.iter_mut().enumerate() {
        let values: Vec<f64> = per_angle.iter().map(|f| f[k]).collect();
        // JointAverage is ux.mean() in PyRadiomics, every other feature numpy.nanmean.
        *value = if k == JOINT_AVERAGE {
            mean(&values)
        } else {
            nanmean(&values)
        };
    }
    if glcm.levels.values.len() < 2 {
        out[MCC] = 1.0; // PyRadiomics: "flat region"
    }
    out
}

/// The grey levels present in the ROI: their values ascending, and each level's row in the
/// texture matrices (PyRadiomics deletes the absent levels' rows and columns).
pub(crate) struct Levels {
    /// The present levels as numbers (PyRadiomics' `grayLevels`, the i and j vectors).
    pub values: Vec<f64>,
    /// `index[level]`: the level's row, `u32::MAX` when absent.
    pub index: Vec<u32>,
    /// The highest level present (PyRadiomics' `Ng`).
    pub top: u32,
}

impl Levels {
    /// The levels of the ROI's voxels, all of them in its bounding box `bounds`.
    pub(crate) fn of_roi(roi: &Roi, bounds: &BoundingBox) -> Levels {
        let rows = || {
            (bounds.low[2]..=bounds.high[2]).flat_map(move |z| {
                (bounds.low[1]..=bounds.high[1]).map(move |y| {
                    let start = roi.index(bounds.low[0], y, z);
                    &roi.levels[start..start + bounds.size[0]]
                })
            })
        };
        // Level 0 is outside the intensity mask, every other level inside it: no mask needed.
        let (present, rank) = ranks(
            rows()
                .flatten()
                .map(|&level| level as usize)
                .filter(|&level| level != 0),
        );
        let index = rank.iter().map(|&row| u32::try_from(row).unwrap_or(u32::MAX)).collect();
        let top = present.last().map_or(0, |&level| level as u32);
        let values = present.into_iter().map(|level| level as f64).collect();
        Levels { values, index, top }
    }
}

/// The distinct numbers of `numbers`, ascending, and each one's rank among them
/// (`rank[number]`; other entries unused).
pub(crate) fn ranks(numbers: impl Iterator<Item = usize> + Clone) -> (Vec<usize>, Vec<usize>) {
    let highest = numbers.clone().max().unwrap_or(0);
    let mut rank = vec![usize::MAX; highest + 1];
    for number in numbers {
        rank[number] = 0;
    }
    let mut distinct = Vec::new();
    for (number, slot) in rank.iter_mut().enumerate() {
        if *slot == 0 {
            *slot = distinct.len();
            distinct.push(number);
        }
    }
    (distinct, rank)
}

/// The flat-index step of `offset` (x, y, z) in the ROI's box.
pub(crate) fn linear_step(roi: &Roi, offset: [isize; 3]) -> isize {
    offset[0] + (offset[1] + offset[2] * roi.dims[1] as isize) * roi.dims[0] as isize
}

/// The normalised co-occurrence matrices (row-major, `n × n`, n = levels present) the
/// features are computed on: one per non-empty direction, or one weighted sum.
struct Glcm {
    levels: Levels,
    matrices: Vec<Vec<f64>>,
}

impl Glcm {
    fn of_roi(roi: &Roi, texture: &Texture) -> Option<Glcm> {
        let bounds = BoundingBox::of_roi(roi)?;
        let levels = Levels::of_roi(roi, &bounds);
        let directions = angles(bounds.size, &texture.distances, texture.plane_normal, false);
        let n = levels.values.len();
        let mut matrices = co_occurrences(roi, &bounds, &levels, &directions);
        if texture.symmetrical_glcm {
            for matrix in &mut matrices {
                for i in 0..n {
                    for j in 0..=i {
                        let sum = matrix[i * n + j] + matrix[j * n + i];
                        matrix[i * n + j] = sum;
                        matrix[j * n + i] = sum;
                    }
                }
            }
        }
        if texture.weighting != Weighting::None {
            let weights: Vec<f64> = directions
                .iter()
                .map(|&d| weight(texture.weighting, d, roi.spacing_mm))
                .collect();
            let mut merged = vec![0.0; n * n];
            let mut cell = vec![0.0; directions.len()];
            for (e, value) in merged.iter_mut().enumerate() {
                for (a, term) in cell.iter_mut().enumerate() {
                    *term = matrices[a][e] * weights[a];
                }
                *value = numpy_sum(&cell); // numpy.sum over the angle axis
            }
            matrices = vec![merged];
        }
        let totals: Vec<f64> = matrices.iter().map(|m| m.iter().sum()).collect();
        if matrices.len() > 1 {
            let kept: Vec<Vec<f64>> = matrices
                .into_iter()
                .zip(&totals)
                .filter(|(_, t)| **t != 0.0)
                .map(|(m, _)| m)
                .collect();
            matrices = kept;
        }
        for matrix in &mut matrices {
            let total: f64 = matrix.iter().sum();
            // An empty single matrix becomes NaN, as PyRadiomics divides by NaN.
            let total = if total == 0.0 { f64::NAN } else { total };
            matrix.iter_mut().for_each(|v| *v /= total);
        }
        Some(Glcm { levels, matrices })
    }
}

/// The raw co-occurrence counts per direction (cmatrices.c `calculate_glcm`): row = the
/// centre's level, column = the neighbour's, over ROI voxels whose neighbour in that direction
/// is inside the bounding box and the ROI.
///
/// Counted in a [`Padded`] copy of the bounding box holding each voxel's matrix row + 1 (0
/// outside the ROI): a neighbour is one load, with no bounds check and no level lookup.
/// Counts are integers (then the same f64s in any order).
fn co_occurrences(roi: &Roi, bounds: &BoundingBox, levels: &Levels, directions: &[[isize; 3]]) -> Vec<Vec<f64>> {
    let n = levels.values.len();
    let mut grid = Padded::levels(roi, *bounds, directions);
    for cell in grid.values.iter_mut().filter(|cell| **cell != 0) {
        *cell = levels.index[*cell as usize] + 1;
    }
    let mut counts = vec![vec![0u32; n * n]; directions.len()];
    grid.for_each_inside(|centre| {
        let first = grid.values[centre] as usize - 1;
        for (&step, matrix) in grid.steps.iter().zip(counts.iter_mut()) {
            if let Some(second) = (grid.values[centre.wrapping_add_signed(step)] as usize).checked_sub(1) {
                matrix[first * n + second] += 1;
            }
        }
    });
    counts
        .into_iter()
        .map(|matrix| matrix.into_iter().map(f64::from).collect())
        .collect()
}

/// PyRadiomics' GLCM weight of a direction (glcm.py `weightingNorm`): e^(−‖d‖²) with d the
/// offset in mm (numpy's (z, y, x) order of summation), 1 for `NoWeighting`.
fn weight(weighting: Weighting, direction: [isize; 3], spacing_mm: [f64; 3]) -> f64 {
    let mm = [2, 1, 0].map(|axis| direction[axis].unsigned_abs() as f64 * spacing_mm[axis]);
    match weighting {
        Weighting::None | Weighting::NoWeighting => 1.0,
        Weighting::Infinity => {
            let largest = mm.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (-(largest * largest)).exp()
        }
        Weighting::Euclidean => (-(0.0 + mm[0] * mm[0] + mm[1] * mm[1] + mm[2] * mm[2])).exp(),
        Weighting::Manhattan => {
            let sum = 0.0 + mm[0] + mm[1] + mm[2];
            (-(sum * sum)).exp()
        }
    }
}

/// The 24 features of one normalised matrix `p` (n × n over the present levels `g`, `top` the
/// highest level): glcm.py's coefficients and feature formulas, term for term.
fn matrix_features(p: &[f64], g: &[f64], top: u32) -> [f64; 24] {
    let n = g.len();
    let eps = f64::EPSILON;
    let ng = top as usize;
    let cell = |i: usize, j: usize| p[i * n + j];

    // A symmetric matrix (symmetricalGLCM, the default) is walked over its upper triangle:
    // cell (j, i) is cell (i, j), counted twice off the diagonal — half the cells and half
    // the logarithms; the sums agree with the full walk's to a few ulps.
    let symmetric = (0..n).all(|i| (0..i).all(|j| cell(i, j) == cell(j, i)));
    let first_column = |i: usize| if symmetric { i } else { 0 };
    let twice = |i: usize, j: usize| symmetric && i != j;

    let mut px = vec![0.0; n];
    let mut py = vec![0.0; n];
    let (mut ux, mut uy) = (0.0, 0.0);
    // pxAddy over k = 2..=2·Ng and pxSuby over k = 0..Ng, by the real level values.
    let mut sum_of = vec![0.0; 2 * ng.max(1) - 1];
    let mut difference_of = vec![0.0; ng.max(1)];
    let mut hxy = 0.0;
    // A zero cell adds an exact zero to every sum over cells, so it is skipped — most cells
    // of a GLCM are zero.
    for i in 0..n {
        for j in first_column(i)..n {
            let v = cell(i, j);
            if v == 0.0 {
                continue;
            }
            px[i] += v;
            py[j] += v;
            ux += g[i] * v;
            uy += g[j] * v;
            let weight = if twice(i, j) {
                px[j] += v;
                py[i] += v;
                ux += g[j] * v;
                uy += g[i] * v;
                2.0
            } else {
                1.0
            };
            sum_of[(g[i] + g[j]) as usize - 2] += weight * v;
            difference_of[(g[i] - g[j]).abs() as usize] += weight * v;
            hxy += weight * (v * (v + eps).log2());
        }
    }
    let hxy = -hxy;
    if symmetric {
        // The same sum, whichever order it was added in.
        (py, uy) = (px.clone(), ux);
    }

    let hxy2 = separable_hxy2(&px, &py);
    let (mut autocorrelation, mut prominence, mut shade, mut tendency, mut contrast) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut variance_x, mut variance_y, mut covariance, mut energy, mut hxy1) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut maximum = f64::NEG_INFINITY;
    for i in 0..n {
        for j in first_column(i)..n {
            let v = cell(i, j);
            let weight = if twice(i, j) { 2.0 } else { 1.0 };
            // numpy.amax propagates NaN.
            maximum = if v.is_nan() || maximum.is_nan() {
                f64::NAN
            } else {
                maximum.max(v)
            };
            if v == 0.0 {
                continue;
            }
            let (dx, dy) = (g[i] - ux, g[j] - uy);
            let cluster = g[i] + g[j] - ux - uy;
            let wv = weight * v;
            autocorrelation += wv * (g[i] * g[j]);
            // numpy's `** 4` and `** 3` call pow; products agree within a few ulps at a tenth
            // of the cost (pow was a twentieth of a whole radiomics run).
            let squared = cluster * cluster;
            prominence += wv * (squared * squared);
            shade += wv * (squared * cluster);
            tendency += wv * squared;
            let d = (g[i] - g[j]).abs();
            contrast += wv * (d * d);
            if twice(i, j) {
                // Cell (j, i) adds (g_j − ux)² to the x variance, (g_i − uy)² to the y one.
                let both = dx * dx + dy * dy;
                variance_x += v * both;
                variance_y += v * both;
            } else {
                variance_x += v * (dx * dx);
                variance_y += v * (dy * dy);
            }
            covariance += wv * dx * dy;
            energy += wv * v;
            hxy1 += wv * (px[i] * py[j] + eps).log2();
        }
    }
    let hxy1 = -hxy1;

    let (sigma_x, sigma_y) = (variance_x.sqrt(), variance_y.sqrt());
    let correlation = if sigma_x * sigma_y == 0.0 {
        1.0
    } else {
        covariance / (sigma_x * sigma_y + eps)
    };

    let entropy_of = |q: &[f64]| -q.iter().map(|&v| v * (v + eps).log2()).sum::<f64>();
    let hx = entropy_of(&px);
    let hy = entropy_of(&py);
    let div = hx.max(hy);
    let imc1 = if div != 0.0 { (hxy - hxy1) / div } else { 0.0 };
    let imc2 = if hxy2 == hxy {
        0.0
    } else {
        (1.0 - std::f64::consts::E.powf(-2.0 * (hxy2 - hxy))).sqrt()
    };

    let top_f = f64::from(top);
    let (mut difference_average, mut idm, mut idmn, mut id, mut idn, mut inverse_variance) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (k, &v) in difference_of.iter().enumerate() {
        let k = k as f64;
        difference_average += k * v;
        idm += v / (1.0 + k * k);
        idmn += v / (1.0 + (k * k) / (top_f * top_f));
        id += v / (1.0 + k);
        idn += v / (1.0 + k / top_f);
        if k > 0.0 {
            inverse_variance += v / (k * k);
        }
    }
    let difference_variance: f64 = difference_of
        .iter()
        .enumerate()
        .map(|(k, &v)| v * ((k as f64 - difference_average) * (k as f64 - difference_average)))
        .sum();
    let difference_entropy = entropy_of(&difference_of);
    let sum_average: f64 = sum_of.iter().enumerate().map(|(k, &v)| (k + 2) as f64 * v).sum();
    let sum_entropy = entropy_of(&sum_of);

    [
        autocorrelation,
        ux,
        prominence,
        shade,
        tendency,
        contrast,
        correlation,
        difference_average,
        difference_entropy,
        difference_variance,
        energy,
        hxy,
        imc1,
        imc2,
        idm,
        maximal_correlation_coefficient(p, &px, &py),
        idmn,
        id,
        idn,
        inverse_variance,
        maximum,
        sum_average,
        sum_entropy,
        variance_x,
    ]
}

/// glcm.py's HXY2 = −Σ_ij px_i py_j log2(px_i py_j + eps), over every cell, by its separable
/// form: log2(px_i py_j + eps) = log2 px_i + log2 py_j + log2(1 + eps / (px_i py_j)), and the
/// last term is eps / (px_i py_j ln 2) to first order, so a cell with px_i py_j > 0 adds
/// px_i py_j (log2 px_i + log2 py_j) + eps / ln 2 (cells with px_i py_j = 0 add 0, as in
/// numpy). The exact x · log2(1 + eps / x) lies between 0 and eps / ln 2, so a cell is off by
/// less than 3.2e-16 whatever its probabilities (under 3.2e-12 over 100 levels), and by a
/// second-order eps² / (2 ln 2 · x) when x ≫ eps. 2n logarithms instead of n² (which were
/// most of GLCM's time).
fn separable_hxy2(px: &[f64], py: &[f64]) -> f64 {
    // Zero probabilities are left out (0 · log2 0 would be NaN); NaN ones are kept, so an
    // empty matrix's NaN comes through.
    let present = |p: &[f64]| -> (f64, f64, f64) {
        p.iter()
            .filter(|&&v| v != 0.0)
            .fold((0.0, 0.0, 0.0), |(sum, weighted_log, count), &v| {
                (sum + v, weighted_log + v * v.log2(), count + 1.0)
            })
    };
    let (sum_x, log_x, count_x) = present(px);
    let (sum_y, log_y, count_y) = present(py);
    -(sum_y * log_x + sum_x * log_y + count_x * count_y * (f64::EPSILON / std::f64::consts::LN_2))
}

/// GLCM MCC of one normalised matrix: √ of the second largest eigenvalue of PyRadiomics'
/// Q_ij = Σ_k p_ik p_jk / (px_i py_k + eps) (0 when that eigenvalue is negative, as the real
/// part of numpy's complex square root).
///
/// Method: Q = Dx⁻¹ P Dy⁻¹ Pᵀ (up to eps) is similar to B = Dx^½ Q Dx^−½, which is symmetric
/// positive semi-definite for any P (B = A Aᵀ, A = Dx^−½ P Dy^−½); levels with px_i = 0 have
/// zero rows and columns in Q and contribute eigenvalues 0. B is built from Q as PyRadiomics
/// computes it (eps included), symmetrised — eps leaves a skew part of relative size
/// ~eps/(px_i py_k), whose first-order effect on a symmetric matrix's eigenvalues is zero — and
/// reduced to tridiagonal form by nalgebra (Householder), whose second largest eigenvalue alone
/// is found by bisection on Sturm counts ([`kth_eigenvalue`]). Expected agreement with
/// numpy.linalg.eigvals on Q: a few ulps of the largest eigenvalue (1) in λ₂, i.e. ~1e-15
/// absolute, ~1e-12 relative in MCC unless λ₂ is itself below ~1e-6. NaN for a NaN matrix.
fn maximal_correlation_coefficient(p: &[f64], px: &[f64], py: &[f64]) -> f64 {
    let n = px.len();
    if n < 2 {
        return 1.0;
    }
    if p.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let eps = f64::EPSILON;
    let live: Vec<usize> = (0..n).filter(|&i| px[i] > 0.0).collect();
    let m = live.len();
    if m < 2 {
        return 0.0; // one live level: its eigenvalue and the zero rows' zeros
    }
    // Q_ij = Σ_k w_ik p_jk with w_ik = p_ik / (px_i py_k + eps): n² divisions instead of n³,
    // and only the k where p_jk is non-zero (a GLCM is mostly zeros), in ascending k. Built a
    // column of B at a time, w stored by k so that each term updates a contiguous column: the
    // same terms in the same order as the sum per cell, a third of MCC's time instead of half.
    let mut w = vec![0.0; n * m];
    for (r, &i) in live.iter().enumerate() {
        for k in 0..n {
            let p_ik = p[i * n + k];
            if p_ik != 0.0 {
                w[k * m + r] = p_ik / (px[i] * py[k] + eps);
            }
        }
    }
    let root: Vec<f64> = live.iter().map(|&i| px[i].sqrt()).collect();
    let mut b = DMatrix::<f64>::zeros(m, m);
    for (c, &j) in live.iter().enumerate() {
        let mut column = b.column_mut(c);
        let q = column.as_mut_slice();
        for k in 0..n {
            let p_jk = p[j * n + k];
            if p_jk != 0.0 {
                for (q_r, &w_rk) in q.iter_mut().zip(&w[k * m..(k + 1) * m]) {
                    *q_r += w_rk * p_jk;
                }
            }
        }
        for (q_r, &root_r) in q.iter_mut().zip(&root) {
            *q_r *= root_r / root[c];
        }
    }
    let symmetric = (&b + b.transpose()) * 0.5;
    let (diagonal, off_diagonal) = SymmetricTridiagonal::new(symmetric).unpack_tridiagonal();
    // The zero rows' eigenvalues (0) rank below B's largest, which is 1: the second largest
    // overall is B's second, or 0 if that is negative — either way its root or 0.
    let second = kth_eigenvalue(diagonal.as_slice(), off_diagonal.as_slice(), m - 2);
    if second > 0.0 { second.sqrt() } else { 0.0 }
}

/// The `k`-th smallest eigenvalue (from 0) of the symmetric tridiagonal matrix with `diagonal`
/// and `off_diagonal`, by bisection on Sturm counts (LAPACK's dstebz): to the last bits of
/// the matrix's scale, as a QR sweep gives them, for a cost linear in its size per step
/// instead of computing every eigenvalue (the QR sweeps were a twentieth of a radiomics run).
/// Three points a step (quadrisection): their counts are independent chains of divisions,
/// which the processor overlaps, so a step costs little more than one point and gains two bits.
fn kth_eigenvalue(diagonal: &[f64], off_diagonal: &[f64], k: usize) -> f64 {
    let coupling: Vec<f64> = std::iter::once(0.0).chain(off_diagonal.iter().map(|e| e * e)).collect();
    // How many eigenvalues are below each x: the negative pivots of T − xI's LDLᵀ.
    let below = |x: [f64; 3]| {
        let mut count = [0usize; 3];
        let mut pivot = [1.0f64; 3];
        for (&d, &e2) in diagonal.iter().zip(&coupling) {
            for p in 0..3 {
                pivot[p] = d - x[p] - e2 / pivot[p];
                if pivot[p] == 0.0 {
                    pivot[p] = -f64::MIN_POSITIVE; // x is an eigenvalue: count it as just above
                }
                count[p] += usize::from(pivot[p] < 0.0);
            }
        }
        count
    };
    // Gershgorin's discs hold every eigenvalue.
    let radius = |i: usize| {
        let before = if i == 0 { 0.0 } else { off_diagonal[i - 1].abs() };
        before + off_diagonal.get(i).map_or(0.0, |e| e.abs())
    };
    let mut low = (0..diagonal.len())
        .map(|i| diagonal[i] - radius(i))
        .fold(f64::INFINITY, f64::min);
    let mut high = (0..diagonal.len())
        .map(|i| diagonal[i] + radius(i))
        .fold(f64::NEG_INFINITY, f64::max);
    let scale = low.abs().max(high.abs());
    // Each step quarters the interval; 100 steps reach any f64 interval's last bit.
    for _ in 0..100 {
        let quarter = 0.25 * (high - low);
        let x = [low + quarter, 0.5 * (low + high), high - quarter];
        if high - low <= 2.0 * f64::EPSILON * scale || !(low < x[0] && x[0] <= x[1] && x[1] <= x[2] && x[2] < high) {
            break;
        }
        // The eigenvalue lies between the last point with at most k below and the next.
        let count = below(x);
        match count.iter().position(|&c| c > k) {
            Some(0) => high = x[0],
            Some(p) => (low, high) = (x[p - 1], x[p]),
            None => low = x[2],
        }
    }
    0.5 * (low + high)
}

/// numpy.nanmean over directions (pairwise sum of the non-NaN values / their count).
pub(crate) fn nanmean(values: &[f64]) -> f64 {
    let count = values.iter().filter(|v| !v.is_nan()).count();
    let zeroed: Vec<f64> = values.iter().map(|&v| if v.is_nan() { 0.0 } else { v }).collect();
    numpy_sum(&zeroed) / count as f64
}

/// numpy's mean (NaN propagates).
fn mean(values: &[f64]) -> f64 {
    numpy_sum(values) / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::phantom;
    use proptest::prelude::*;

    fn texture(weighting: Weighting) -> Texture {
        Texture {
            weighting,
            ..Texture::default()
        }
    }

    fn assert_features(actual: &[f64; 24], expected: &[(&str, f64)], tolerance: f64, what: &str) {
        crate::firstorder::tests::assert_named(&NAMES, actual, expected, tolerance, what);
    }

    #[test]
    fn names_are_twenty_four_and_unique_in_sql() {
        assert_eq!(NAMES.len(), 24);
        let mut sql: Vec<String> = NAMES.iter().map(|n| crate::sql_name("glcm", n)).collect();
        sql.sort();
        sql.dedup();
        assert_eq!(sql.len(), 24);
    }

    /// radiomics.md §1.6, "3D averaged" (PyRadiomics default), and MCC from PyRadiomics 3.0.1
    /// on the phantom (`tests/reference/radiomics/kernels/pyradiomics_phantom.py`; not in IBSI).
    const AVERAGED: [(&str, f64); 24] = [
        ("MaximumProbability", 0.5028111707544143),
        ("JointAverage", 2.1429950060416973),
        ("SumSquares", 3.099320789207615),
        ("JointEntropy", 2.399711278373436),
        ("DifferenceAverage", 1.4309811764537268),
        ("DifferenceVariance", 3.0562826217018046),
        ("DifferenceEntropy", 1.5627332773445468),
        ("SumAverage", 4.285990012083394),
        ("ClusterTendency", 7.072803163045828),
        ("SumEntropy", 1.9226064533586102),
        ("JointEnergy", 0.30297525027879985),
        ("Contrast", 5.32447999378463),
        ("Id", 0.676615133317691),
        ("Idn", 0.8506785598098697),
        ("Idm", 0.6177393637968712),
        ("Idmn", 0.8984432172242565),
        ("InverseVariance", 0.06041630527029385),
        ("Correlation", 0.15735003010076212),
        ("Autocorrelation", 5.055436010129555),
        ("ClusterShade", 16.64409305005415),
        ("ClusterProminence", 144.70338141184217),
        ("Imc1", -0.1568482348015498),
        ("Imc2", 0.519587863115962),
        ("MCC", 0.4405429703401289),
    ];

    #[test]
    fn the_phantom_3d_averaged_matches_ibsi_full_precision() {
        let f = features(&phantom(), &texture(Weighting::None));
        assert_features(&f, &AVERAGED, 1e-9, "3D averaged");
    }

    #[test]
    fn the_phantom_3d_merged_matches_ibsi_full_precision() {
        // radiomics.md §1.6 "3D merged" (weightingNorm: no_weighting); MCC from PyRadiomics.
        let expected = [
            ("MaximumProbability", 0.50853889943074),
            ("JointAverage", 2.148956356736243),
            ("SumSquares", 3.1324609601446016),
            ("JointEntropy", 2.5738963770752648),
            ("DifferenceAverage", 1.3795066413662238),
            ("DifferenceVariance", 3.2146084852500096),
            ("DifferenceEntropy", 1.6408766743670569),
            ("SumAverage", 4.297912713472486),
            ("ClusterTendency", 7.4121967817548775),
            ("SumEntropy", 2.1098633717396216),
            ("JointEnergy", 0.2909508909764555),
            ("Contrast", 5.11764705882353),
            ("Id", 0.6876976597090448),
            ("Idn", 0.8558983710786366),
            ("Idm", 0.6306378630856809),
            ("Idmn", 0.9022103697625519),
            ("InverseVariance", 0.05744465528146743),
            ("Correlation", 0.1831267613647629),
            ("Autocorrelation", 5.191650853889943),
            ("ClusterShade", 17.4192054158866),
            ("ClusterProminence", 147.46389960668301),
            ("Imc1", -0.02879972319326747),
            ("Imc2", 0.26916873088954246),
        ];
        let f = features(&phantom(), &texture(Weighting::NoWeighting));
        assert_features(&f, &expected, 1e-9, "3D merged");
        // Merged over 13 symmetric directions: 2 × 527 pairs; contrast = Σ k² n_k / 1054 is a
        // ratio of integers: 5394 / 1054.
        assert_features(&f, &[("Contrast", 5394.0 / 1054.0)], 1e-12, "exact");
    }

    #[test]
    fn weighting_force2d_distances_and_asymmetry_match_pyradiomics() {
        // PyRadiomics 3.0.1 on the phantom (tests/reference/radiomics/kernels/pyradiomics_phantom.py), with
        // the phantom's 2 mm voxels or (0.5, 0.7, 3.0) mm (x, y, z) to pin the weights' axes.
        let anisotropic = [0.5, 0.7, 3.0];
        let cases: [(Texture, [f64; 3], [f64; 4]); 8] = [
            // (JointEnergy, Correlation, Imc2, MCC)
            (
                texture(Weighting::Euclidean),
                [2.0; 3],
                [
                    0.33874781812968846,
                    0.4327720182128602,
                    0.5744994693891023,
                    0.45625197892017444,
                ],
            ),
            (
                texture(Weighting::Manhattan),
                [2.0; 3],
                [
                    0.34061122302715463,
                    0.4408677480301063,
                    0.5843516808058733,
                    0.46449207859961217,
                ],
            ),
            (
                texture(Weighting::Euclidean),
                anisotropic,
                [
                    0.27621870987755864,
                    0.19214127540622286,
                    0.3128245950331789,
                    0.24717727174107681,
                ],
            ),
            (
                texture(Weighting::Manhattan),
                anisotropic,
                [
                    0.2832178473760451,
                    0.22551814698068884,
                    0.35548261729051284,
                    0.2797388369145163,
                ],
            ),
            (
                texture(Weighting::Infinity),
                anisotropic,
                [
                    0.2733526900985829,
                    0.17806139929181414,
                    0.2966808995924472,
                    0.23330817150768873,
                ],
            ),
            (
                Texture {
                    plane_normal: Some(2),
                    ..Texture::default()
                },
                [2.0; 3],
                [
                    0.28628011065917125,
                    0.17755079603600382,
                    0.48709519891825426,
                    0.400976959556796,
                ],
            ),
            (
                Texture {
                    distances: vec![1, 2],
                    ..Texture::default()
                },
                [2.0; 3],
                [
                    0.24694279877539285,
                    -0.12035327977944937,
                    0.5394317523700198,
                    0.4271384894894602,
                ],
            ),
            (
                Texture {
                    symmetrical_glcm: false,
                    ..Texture::default()
                },
                [2.0; 3],
                [
                    0.3119163812108416,
                    0.18057991305536808,
                    0.5940998423179,
                    0.563747543869743,
                ],
            ),
        ];
        for (t, spacing_mm, expected) in cases {
            let roi = Roi {
                spacing_mm,
                ..phantom()
            };
            let f = features(&roi, &t);
            let named = [
                ("JointEnergy", expected[0]),
                ("Correlation", expected[1]),
                ("Imc2", expected[2]),
                ("MCC", expected[3]),
            ];
            assert_features(&f, &named, 1e-9, &format!("{t:?} {spacing_mm:?}"));
        }
    }

    #[test]
    fn a_single_grey_level_is_a_flat_region() {
        let mut roi = phantom();
        roi.levels
            .iter_mut()
            .zip(&roi.mask)
            .for_each(|(l, m)| *l = u32::from(*m));
        let f = features(&roi, &Texture::default());
        assert_features(
            &f,
            &[
                ("JointEnergy", 1.0),
                ("MaximumProbability", 1.0),
                ("Correlation", 1.0),
                ("MCC", 1.0),
                ("Contrast", 0.0),
            ],
            0.0,
            "flat",
        );
    }

    #[test]
    fn every_reference_value_matches_pyradiomics() {
        // All 8 settings × 2 spacings of tests/reference/radiomics/kernels/pyradiomics_phantom.py.
        use crate::firstorder::tests::{pyradiomics_phantom, texture_of};
        let runs = pyradiomics_phantom("glcm");
        assert_eq!(runs.len(), 16);
        for (spacing_mm, setting, values) in runs {
            assert_eq!(values.len(), 24, "{setting}");
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn padding_and_mirroring_keep_the_features(roi in crate::phantom::small_roi(), axis in 0usize..3, pad in 1usize..3) {
            for weighting in [Weighting::None, Weighting::NoWeighting] {
                let t = texture(weighting);
                let f = features(&roi, &t);
                let padded = features(&crate::phantom::pad(&roi, pad), &t);
                let mirrored = features(&crate::phantom::mirror(&roi, axis), &t);
                for k in 0..24 {
                    for (other, what) in [(padded[k], "padded"), (mirrored[k], "mirrored")] {
                        let same = (f[k].is_nan() && other.is_nan()) || (f[k] - other).abs() <= 1e-9 * f[k].abs().max(1.0);
                        prop_assert!(same, "{what} {} {} {}", NAMES[k], f[k], other);
                    }
                }
            }
        }

        #[test]
        fn bisection_finds_every_eigenvalue_the_qr_solver_finds(
            values in proptest::collection::vec(-1.0f64..1.0, 1..=40),
            duplicate in proptest::bool::ANY,
        ) {
            // A symmetric PSD matrix A·Aᵀ, as MCC's, some with a repeated row (an eigenvalue 0).
            let n = (values.len() as f64).sqrt().ceil() as usize;
            let mut a = DMatrix::<f64>::from_fn(n, n, |r, c| values.get(r * n + c).copied().unwrap_or(0.5));
            if duplicate && n > 1 {
                let first = a.row(0).into_owned();
                a.set_row(n - 1, &first);
            }
            let b = &a * a.transpose();
            let mut expected: Vec<f64> = b.clone().symmetric_eigenvalues().iter().copied().collect();
            expected.sort_unstable_by(f64::total_cmp);
            let (d, e) = SymmetricTridiagonal::new(b).unpack_tridiagonal();
            let scale = expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (k, want) in expected.iter().enumerate() {
                let got = kth_eigenvalue(d.as_slice(), e.as_slice(), k);
                prop_assert!((got - want).abs() <= 1e-13 * scale, "λ{k}: {got} against {want}");
            }
        }

        #[test]
        fn the_matrices_count_every_neighbour_pair(roi in crate::phantom::small_roi(), far in proptest::bool::ANY) {
            let distances = if far { vec![1, 2] } else { vec![1] };
            let bounds = BoundingBox::of_roi(&roi).unwrap();
            let directions = angles(bounds.size, &distances, None, false);
            let levels = Levels::of_roi(&roi, &bounds);
            let counts = co_occurrences(&roi, &bounds, &levels, &directions);
            for (d, matrix) in directions.iter().zip(&counts) {
                // Brute force over the whole box: ordered pairs (voxel, voxel + d) in the ROI.
                let mut pairs = 0usize;
                for z in 0..roi.dims[2] { for y in 0..roi.dims[1] { for x in 0..roi.dims[0] {
                    let (nx, ny, nz) = (x as isize + d[0], y as isize + d[1], z as isize + d[2]);
                    let fits = [nx, ny, nz].iter().zip(roi.dims).all(|(&c, size)| c >= 0 && (c as usize) < size);
                    if roi.mask[roi.index(x, y, z)] && fits && roi.mask[roi.index(nx as usize, ny as usize, nz as usize)] {
                        pairs += 1;
                    }
                }}}
                prop_assert_eq!(matrix.iter().sum::<f64>(), pairs as f64);
            }
        }
    }
}
