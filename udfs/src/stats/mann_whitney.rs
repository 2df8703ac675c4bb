//! Mann–Whitney U test.

use statrs::function::erf::erfc;

use super::rank::average_ranks;

/// Result of a Mann–Whitney U test.
#[derive(Debug, Clone, PartialEq)]
pub struct MannWhitney {
    /// U statistic of the first sample: R₁ − n₁(n₁+1)/2.
    pub u: f64,
    /// Two-sided asymptotic p-value.
    pub p: f64,
}

/// Two-sided Mann–Whitney U test by the normal approximation with tie and continuity correction.
///
/// U = max(U₁, n₁n₂ − U₁), z = (U − n₁n₂/2 − ½) / σ with
/// σ² = n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1))) over tie blocks t, p = 2·(1 − Φ(z)) clipped to
/// [0, 1] (Mann & Whitney 1947; as `scipy.stats.mannwhitneyu(a, b, method='asymptotic')`).
/// `None` when a sample is empty or every value is tied (σ = 0).
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let all: Vec<f64> = a.iter().chain(b).copied().collect();
    let (ranks, ties) = average_ranks(&all);
    let r1: f64 = ranks[..a.len()].iter().sum();
    let u1 = r1 - n1 * (n1 + 1.0) / 2.0;
    let u = u1.max(n1 * n2 - u1);
    let n = n1 + n2;
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let sigma = (n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    if sigma.is_nan() || sigma <= 0.0 {
        return None;
    }
    let z = (u - n1 * n2 / 2.0 - 0.5) / sigma;
    // 2·Φ(−z) = erfc(z/√2).
    let p = erfc(z / std::f64::consts::SQRT_2).clamp(0.0, 1.0);
    Some(MannWhitney { u: u1, p })
}
