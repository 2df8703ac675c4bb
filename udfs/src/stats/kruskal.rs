//! Kruskal–Wallis H test.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::rank::average_ranks;

/// Result of a Kruskal–Wallis test.
#[derive(Debug, Clone, PartialEq)]
pub struct KruskalWallis {
    /// H, corrected for ties.
    pub h: f64,
    /// Degrees of freedom: groups − 1.
    pub df: usize,
    /// p from the χ² distribution with `df` degrees of freedom.
    pub p: f64,
}

/// Kruskal–Wallis H test of two or more samples, as `scipy.stats.kruskal`:
/// H = 12/(N(N+1)) · Σ Rᵢ²/nᵢ − 3(N+1), divided by 1 − Σ(t³−t)/(N³−N) over tie blocks t.
/// `None` with fewer than two non-empty samples or when every value is tied.
pub fn kruskal_wallis(samples: &[&[f64]]) -> Option<KruskalWallis> {
    let samples: Vec<&[f64]> = samples.iter().copied().filter(|s| !s.is_empty()).collect();
    if samples.len() < 2 {
        return None;
    }
    let all: Vec<f64> = samples.iter().flat_map(|s| s.iter().copied()).collect();
    let n = all.len() as f64;
    let (ranks, ties) = average_ranks(&all);
    let mut start = 0;
    let mut sum = 0.0;
    for sample in &samples {
        let rank_sum: f64 = ranks[start..start + sample.len()].iter().sum();
        sum += rank_sum * rank_sum / sample.len() as f64;
        start += sample.len();
    }
    let h = 12.0 / (n * (n + 1.0)) * sum - 3.0 * (n + 1.0);
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let correction = 1.0 - tie_term / (n * n * n - n);
    if correction <= 0.0 {
        return None;
    }
    let h = h / correction;
    let df = samples.len() - 1;
    let p = ChiSquared::new(df as f64).ok()?.sf(h);
    Some(KruskalWallis { h, df, p })
}
