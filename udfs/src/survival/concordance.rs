//! Harrell's concordance index.

use super::{SurvivalError, check_times, order_by_time};

/// Harrell's C for a risk score where a higher risk means an earlier event.
///
/// A pair (i, j) is comparable when subject i had an event and tᵢ < tⱼ, or tᵢ = tⱼ and j was
/// censored; pairs with equal times and two events are not. It is concordant when riskᵢ > riskⱼ
/// and counts ½ when the risks tie. C = (concordant + ½·tied) / comparable (Harrell et al., Stat
/// Med 1996), equal to lifelines' `concordance_index(time, -risk, event)`. `Ok(None)` when no pair
/// is comparable. O(n log n) with a Fenwick tree over the risk ranks.
pub fn harrell_c(time: &[f64], event: &[bool], risk: &[f64]) -> Result<Option<f64>, SurvivalError> {
    check_times(time, event)?;
    if risk.len() != time.len() {
        return Err(SurvivalError::LengthMismatch);
    }
    if let Some(&r) = risk.iter().find(|r| !r.is_finite()) {
        return Err(SurvivalError::InvalidCovariate(r));
    }
    let mut levels = risk.to_vec();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let rank = |r: f64| levels.partition_point(|&l| l < r);
    // Fenwick tree counting the subjects with a later time, by risk rank.
    let mut later = vec![0u64; levels.len() + 1];
    let count_below = |tree: &[u64], rank: usize| {
        let (mut i, mut total) = (rank, 0);
        while i > 0 {
            total += tree[i];
            i &= i - 1;
        }
        total
    };
    let (mut concordant, mut tied, mut comparable) = (0.0_f64, 0.0_f64, 0.0_f64);
    let mut inserted = 0u64;
    let order = order_by_time(time);
    let mut end = order.len();
    while end > 0 {
        let t = time[order[end - 1]];
        let start = order[..end].partition_point(|&i| time[i] < t);
        let group = &order[start..end];
        let mut censored: Vec<f64> = group.iter().filter(|&&i| !event[i]).map(|&i| risk[i]).collect();
        censored.sort_by(f64::total_cmp);
        for &i in group.iter().filter(|&&i| event[i]) {
            let r = rank(risk[i]);
            let below = count_below(&later, r);
            let equal = count_below(&later, r + 1) - below;
            let censored_below = censored.partition_point(|&c| c < risk[i]);
            let censored_equal = censored.partition_point(|&c| c <= risk[i]) - censored_below;
            concordant += (below + censored_below as u64) as f64;
            tied += (equal + censored_equal as u64) as f64;
            comparable += (inserted + censored.len() as u64) as f64;
        }
        for &i in group {
            let mut k = rank(risk[i]) + 1;
            while k < later.len() {
                later[k] += 1;
                k += k & k.wrapping_neg();
            }
        }
        inserted += group.len() as u64;
        end = start;
    }
    Ok((comparable > 0.0).then(|| (concordant + 0.5 * tied) / comparable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_reversed_ordering() {
        let time = [1.0, 2.0, 3.0];
        let event = [true, true, false];
        assert_eq!(harrell_c(&time, &event, &[3.0, 2.0, 1.0]), Ok(Some(1.0)));
        assert_eq!(harrell_c(&time, &event, &[1.0, 2.0, 3.0]), Ok(Some(0.0)));
        assert_eq!(harrell_c(&time, &event, &[1.0, 1.0, 1.0]), Ok(Some(0.5)));
        assert_eq!(harrell_c(&time, &[false; 3], &[1.0, 2.0, 3.0]), Ok(None));
    }
}
