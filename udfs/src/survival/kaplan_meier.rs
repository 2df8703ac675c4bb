//! Kaplan–Meier product-limit estimator with lifelines' default confidence interval.

use super::{SurvivalError, Z_95, check_times, order_by_time};

/// One row of a Kaplan–Meier curve: the state just after `time`.
#[derive(Debug, Clone, PartialEq)]
pub struct KmStep {
    /// Time of this step (same unit as the input, e.g. months).
    pub time: f64,
    /// Subjects still at risk just before `time` (censored at `time` count as at risk).
    pub at_risk: u64,
    /// Events observed at `time`.
    pub events: u64,
    /// Subjects censored at `time`.
    pub censored: u64,
    /// S(time) = ∏_{tᵢ ≤ time} (1 − dᵢ/nᵢ).
    pub survival: f64,
    /// Lower bound of the 95% exponential-Greenwood ("log-log") interval.
    pub ci_lower: f64,
    /// Upper bound of the 95% exponential-Greenwood ("log-log") interval.
    pub ci_upper: f64,
}

/// Kaplan–Meier estimate of the survival function with its 95% pointwise confidence interval.
///
/// One step per distinct observed time (event or censoring), preceded by a step at time 0 when no
/// observation is at 0, as lifelines' `KaplanMeierFitter.survival_function_` lays it out.
/// S(t) = ∏_{tᵢ ≤ t} (1 − dᵢ/nᵢ) (Kaplan & Meier, JASA 1958). The interval is the exponential
/// Greenwood ("log-log") one lifelines reports by default: with V = Σ dᵢ/(nᵢ(nᵢ − dᵢ)) (terms with
/// nᵢ = dᵢ count 0), bounds exp(−exp(log(−log S) ± z·√V / |log S|)), z = Φ⁻¹(0.975); the bounds
/// are [1, 1] while S = 1 and [0, 0] once S = 0 (Kalbfleisch & Prentice 2002, §1.4).
pub fn kaplan_meier(time: &[f64], event: &[bool]) -> Result<Vec<KmStep>, SurvivalError> {
    check_times(time, event)?;
    let order = order_by_time(time);
    let mut curve = Vec::new();
    if order.first().is_some_and(|&i| time[i] > 0.0) {
        // lifelines starts its timeline at 0 so the curve starts at S = 1.
        curve.push(KmStep {
            time: 0.0,
            at_risk: order.len() as u64,
            events: 0,
            censored: 0,
            survival: 1.0,
            ci_lower: 1.0,
            ci_upper: 1.0,
        });
    }
    let (mut survival, mut greenwood) = (1.0_f64, 0.0_f64);
    let mut at_risk = order.len() as u64;
    let mut start = 0;
    while start < order.len() {
        let t = time[order[start]];
        let end = start + order[start..].partition_point(|&i| time[i] == t);
        let events = order[start..end].iter().filter(|&&i| event[i]).count() as u64;
        let censored = (end - start) as u64 - events;
        if events > 0 {
            let (n, d) = (at_risk as f64, events as f64);
            survival *= 1.0 - d / n;
            if at_risk > events {
                greenwood += d / (n * (n - d));
            }
        }
        let (ci_lower, ci_upper) = log_log_interval(survival, greenwood);
        curve.push(KmStep {
            time: t,
            at_risk,
            events,
            censored,
            survival,
            ci_lower,
            ci_upper,
        });
        at_risk -= end as u64 - start as u64;
        start = end;
    }
    Ok(curve)
}

/// Exponential Greenwood bounds for S with cumulative Greenwood sum V.
fn log_log_interval(survival: f64, greenwood: f64) -> (f64, f64) {
    if survival <= 0.0 {
        return (0.0, 0.0);
    }
    if survival >= 1.0 || greenwood == 0.0 {
        return (1.0, 1.0);
    }
    let log_s = survival.ln();
    let centre = (-log_s).ln();
    let half_width = Z_95 * greenwood.sqrt() / -log_s;
    let bound = |c: f64| (-c.exp()).exp();
    (bound(centre + half_width), bound(centre - half_width))
}

/// Kaplan–Meier S(t): the survival of the last step at or before `t` (1 before the first step).
///
/// Same as lifelines' `KaplanMeierFitter.predict(t)`; beyond the last observed time it stays at
/// the last value. `None` when the curve is empty.
pub fn km_survival_at(curve: &[KmStep], t: f64) -> Option<f64> {
    curve.first()?;
    let steps_before = curve.partition_point(|s| s.time <= t);
    Some(match steps_before {
        0 => 1.0,
        k => curve[k - 1].survival,
    })
}

/// Median survival time: the smallest time with S(t) ≤ 0.5, `None` when S never reaches 0.5.
///
/// As lifelines' `median_survival_time_` (which reports inf when not reached); unlike R it takes
/// no midpoint when S is exactly 0.5 over a flat stretch.
pub fn km_median(curve: &[KmStep]) -> Option<f64> {
    // A product that is exactly 0.5 in exact arithmetic may round just above it.
    curve.iter().find(|s| s.survival <= 0.5 + 1e-12).map(|s| s.time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_curve() {
        // Two events at 2 among 5, censor at 3, event at 4, censor at 5.
        let time = [2.0, 2.0, 3.0, 4.0, 5.0];
        let event = [true, true, false, true, false];
        let curve = kaplan_meier(&time, &event).unwrap();
        let s: Vec<f64> = curve.iter().map(|s| s.survival).collect();
        assert_eq!(s, vec![1.0, 0.6, 0.6, 0.3, 0.3]);
        assert_eq!(curve[1].at_risk, 5);
        assert_eq!(curve[3].at_risk, 2);
        assert_eq!(km_median(&curve), Some(4.0));
        assert_eq!(km_survival_at(&curve, 3.9), Some(0.6));
        assert_eq!(km_survival_at(&curve, -1.0), Some(1.0));
    }

    #[test]
    fn rejects_negative_time() {
        assert_eq!(kaplan_meier(&[-1.0], &[true]), Err(SurvivalError::InvalidTime(-1.0)));
    }
}
