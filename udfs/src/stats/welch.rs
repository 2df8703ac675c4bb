//! Welch's unequal-variance t test.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Result of Welch's t test.
#[derive(Debug, Clone, PartialEq)]
pub struct WelchT {
    /// t = (x̄₁ − x̄₂) / √(s₁²/n₁ + s₂²/n₂).
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch's two-sample t test (unequal variances), two-sided.
///
/// t = (x̄₁ − x̄₂)/√(v₁ + v₂) with vᵢ = sᵢ²/nᵢ (sample variances, n − 1 denominator),
/// df = (v₁ + v₂)² / (v₁²/(n₁−1) + v₂²/(n₂−1)), p = 2·P(T_df > |t|) (Welch, Biometrika 1947; as
/// `scipy.stats.ttest_ind(a, b, equal_var=False)`). `None` when a sample has fewer than two
/// values or both variances are 0.
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Option<WelchT> {
    let (m1, v1) = mean_and_variance_of_mean(a)?;
    let (m2, v2) = mean_and_variance_of_mean(b)?;
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let se2 = v1 + v2;
    if se2.is_nan() || se2 <= 0.0 {
        return None;
    }
    let t = (m1 - m2) / se2.sqrt();
    let df = se2 * se2 / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
    let p = 2.0 * StudentsT::new(0.0, 1.0, df).ok()?.sf(t.abs());
    Some(WelchT { t, df, p })
}

/// Mean and s²/n of a sample of at least two values.
fn mean_and_variance_of_mean(x: &[f64]) -> Option<(f64, f64)> {
    if x.len() < 2 {
        return None;
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let ss: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
    Some((mean, ss / (n - 1.0) / n))
}
