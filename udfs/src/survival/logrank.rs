//! Log-rank test over k groups.

use std::collections::HashMap;
use std::hash::Hash;

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::linalg::psd_quadratic_form;
use super::{SurvivalError, check_times, order_by_time};

/// Result of a log-rank test.
#[derive(Debug, Clone, PartialEq)]
pub struct LogrankResult {
    /// Test statistic, χ²-distributed under the null of equal survival.
    pub chi2: f64,
    /// Degrees of freedom: number of groups − 1.
    pub df: usize,
    /// Upper-tail χ² p-value.
    pub p: f64,
}

/// Multivariate (k-group) unweighted log-rank test of equal survival.
///
/// At each event time t with nⱼ at risk and dⱼ events in group j (n, d the totals):
/// Eⱼ = d·nⱼ/n and Vⱼₗ = d(n−d)/(n²(n−1))·(n·nⱼ·δⱼₗ − nⱼnₗ). With Z = Σ(O − E) over the first
/// k−1 groups, χ² = Zᵀ V⁻ Z on k−1 df (Mantel 1966; Klein & Moeschberger 2003, §7.3), as
/// lifelines' `multivariate_logrank_test` (which uses a pseudo-inverse for V).
pub fn logrank_test<G: Eq + Hash>(time: &[f64], event: &[bool], group: &[G]) -> Result<LogrankResult, SurvivalError> {
    check_times(time, event)?;
    if group.len() != time.len() {
        return Err(SurvivalError::LengthMismatch);
    }
    let mut codes: HashMap<&G, usize> = HashMap::new();
    let group: Vec<usize> = group
        .iter()
        .map(|g| {
            let next = codes.len();
            *codes.entry(g).or_insert(next)
        })
        .collect();
    let k = codes.len();
    if k < 2 {
        return Err(SurvivalError::TooFewGroups(k));
    }
    let m = k - 1;
    let mut at_risk = vec![0.0_f64; k];
    for &g in &group {
        at_risk[g] += 1.0;
    }
    let (mut observed_minus_expected, mut variance) = (vec![0.0; m], vec![0.0; m * m]);
    let mut deaths = vec![0.0_f64; k];
    let order = order_by_time(time);
    let mut start = 0;
    while start < order.len() {
        let t = time[order[start]];
        let end = start + order[start..].partition_point(|&i| time[i] == t);
        deaths.iter_mut().for_each(|d| *d = 0.0);
        for &i in &order[start..end] {
            if event[i] {
                deaths[group[i]] += 1.0;
            }
        }
        let d: f64 = deaths.iter().sum();
        if d > 0.0 {
            let n: f64 = at_risk.iter().sum();
            // With one subject at risk the hypergeometric variance is 0 (lifelines: factor 1 × 0).
            let factor = if n > 1.0 {
                d * (n - d) / (n * n * (n - 1.0))
            } else {
                0.0
            };
            for j in 0..m {
                observed_minus_expected[j] += deaths[j] - d * at_risk[j] / n;
                for l in 0..m {
                    let diagonal = if j == l { n * at_risk[j] } else { 0.0 };
                    variance[j * m + l] += factor * (diagonal - at_risk[j] * at_risk[l]);
                }
            }
        }
        for &i in &order[start..end] {
            at_risk[group[i]] -= 1.0;
        }
        start = end;
    }
    let chi2 = psd_quadratic_form(&variance, &observed_minus_expected);
    let p = ChiSquared::new(m as f64).map_or(f64::NAN, |dist| dist.sf(chi2));
    Ok(LogrankResult { chi2, df: m, p })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_groups_give_zero() {
        let time = [1.0, 2.0, 1.0, 2.0];
        let event = [true, true, true, true];
        let r = logrank_test(&time, &event, &["a", "a", "b", "b"]).unwrap();
        assert!(r.chi2.abs() < 1e-12 && (r.p - 1.0).abs() < 1e-12 && r.df == 1);
    }

    #[test]
    fn one_group_is_an_error() {
        let err = logrank_test(&[1.0], &[true], &["a"]).unwrap_err();
        assert_eq!(err, SurvivalError::TooFewGroups(1));
    }
}
