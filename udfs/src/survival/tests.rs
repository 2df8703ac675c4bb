//! Agreement with lifelines 0.30 on the cohorts of `tests/reference/survival/`.

use std::cell::Cell;
use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::Value;

use super::*;

/// One reference cohort as read from its CSV.
pub(crate) struct Cohort {
    pub time: Vec<f64>,
    pub event: Vec<bool>,
    pub group: Vec<String>,
    pub x1: Vec<f64>,
    pub x2: Vec<f64>,
    pub cat_a: Vec<String>,
    pub cat_b: Vec<String>,
}

impl Cohort {
    /// The rows of one group.
    pub fn only(&self, group: &str) -> (Vec<f64>, Vec<bool>) {
        let rows = (0..self.time.len()).filter(|&i| self.group[i] == group);
        rows.map(|i| (self.time[i], self.event[i])).unzip()
    }
}

pub(crate) fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/reference/survival")
}

pub(crate) fn reference() -> Value {
    let text = std::fs::read_to_string(reference_dir().join("reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub(crate) fn cohort(name: &str) -> Cohort {
    let text = std::fs::read_to_string(reference_dir().join(format!("{name}.csv"))).unwrap();
    let mut c = Cohort {
        time: vec![],
        event: vec![],
        group: vec![],
        x1: vec![],
        x2: vec![],
        cat_a: vec![],
        cat_b: vec![],
    };
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        c.time.push(f[0].parse().unwrap());
        c.event.push(f[1] == "1");
        c.group.push(f[2].to_string());
        c.x1.push(f[3].parse().unwrap());
        c.x2.push(f[4].parse().unwrap());
        c.cat_a.push(f[5].to_string());
        c.cat_b.push(f[6].to_string());
    }
    c
}

pub(crate) const COHORTS: [&str; 6] = [
    "tied",
    "heavy_censoring",
    "no_event_group",
    "single_row_group",
    "halves",
    "realistic",
];

thread_local! {
    static WORST: Cell<f64> = const { Cell::new(0.0) };
}

/// Asserts |a − e| ≤ 1e-6·|e| (or ≤ 1e-9 near zero) and records the worst relative error.
#[track_caller]
pub(crate) fn assert_close(actual: f64, expected: &Value, what: &str) {
    let expected = expected.as_f64().unwrap_or_else(|| panic!("{what}: {expected}"));
    let diff = (actual - expected).abs();
    assert!(
        diff <= 1e-9 || diff <= 1e-6 * expected.abs(),
        "{what}: got {actual}, lifelines/scipy {expected}"
    );
    if expected != 0.0 {
        WORST.with(|w| w.set(w.get().max(diff / expected.abs())));
    }
}

/// Prints (run with --nocapture) and resets the worst relative error of this test's checks.
pub(crate) fn report_worst(test: &str) {
    eprintln!("{test}: worst relative error {:.1e}", WORST.with(|w| w.replace(0.0)));
}

fn check_km(time: &[f64], event: &[bool], expected: &Value, name: &str) {
    let curve = kaplan_meier(time, event).unwrap();
    let e = &expected["curve"];
    assert_eq!(curve.len(), e["time"].as_array().unwrap().len(), "{name}: steps");
    for (i, step) in curve.iter().enumerate() {
        let what = |field: &str| format!("{name} step {i} {field}");
        assert_close(step.time, &e["time"][i], &what("time"));
        assert_eq!(step.at_risk, e["at_risk"][i].as_u64().unwrap(), "{}", what("at_risk"));
        assert_eq!(step.events, e["events"][i].as_u64().unwrap(), "{}", what("events"));
        assert_eq!(
            step.censored,
            e["censored"][i].as_u64().unwrap(),
            "{}",
            what("censored")
        );
        assert_close(step.survival, &e["survival"][i], &what("survival"));
        assert_close(step.ci_lower, &e["ci_lower"][i], &what("ci_lower"));
        assert_close(step.ci_upper, &e["ci_upper"][i], &what("ci_upper"));
    }
    let probes = expected["survival_at"]["t"].as_array().unwrap();
    for (t, s) in probes.iter().zip(expected["survival_at"]["s"].as_array().unwrap()) {
        let t = t.as_f64().unwrap();
        assert_close(km_survival_at(&curve, t).unwrap(), s, &format!("{name} S({t})"));
    }
    if name == "halves/all" {
        // S = 7/8·6/7·5/6·4/5 is exactly 0.5 at t = 4; lifelines' exp(Σ log) rounds it to
        // 0.5000000000000001 and reports 6, we report the definition's 4.
        assert_eq!(km_median(&curve), Some(4.0));
        assert_eq!(expected["median"].as_f64(), Some(6.0));
    } else {
        assert_eq!(km_median(&curve), expected["median"].as_f64(), "{name}: median");
    }
}

#[test]
fn kaplan_meier_agrees_with_lifelines() {
    let reference = reference();
    for name in COHORTS {
        let c = cohort(name);
        let r = &reference["cohorts"][name];
        check_km(&c.time, &c.event, &r["km_all"], &format!("{name}/all"));
        for (group, expected) in r["km_by_group"].as_object().unwrap() {
            let (time, event) = c.only(group);
            check_km(&time, &event, expected, &format!("{name}/{group}"));
        }
    }
    report_worst("kaplan_meier_agrees_with_lifelines");
}

#[test]
fn logrank_agrees_with_lifelines() {
    let reference = reference();
    for name in COHORTS {
        let c = cohort(name);
        let e = &reference["cohorts"][name]["logrank"];
        let r = logrank_test(&c.time, &c.event, &c.group).unwrap();
        assert_close(r.chi2, &e["chi2"], &format!("{name} logrank chi2"));
        assert_close(r.p, &e["p"], &format!("{name} logrank p"));
        assert_eq!(r.df as u64, e["df"].as_u64().unwrap());
    }
    report_worst("logrank_agrees_with_lifelines");
}

#[test]
fn cox_agrees_with_lifelines() {
    let reference = reference();
    for name in COHORTS {
        let c = cohort(name);
        for (key, covariates) in [
            ("cox_x1", vec![c.x1.clone()]),
            ("cox_x1_x2", vec![c.x1.clone(), c.x2.clone()]),
        ] {
            let e = &reference["cohorts"][name][key];
            let fit = cox_ph(&c.time, &c.event, &covariates).unwrap();
            assert_close(fit.log_likelihood, &e["log_likelihood"], &format!("{name} {key} ll"));
            for (j, k) in fit.coefficients.iter().enumerate() {
                let what = |f: &str| format!("{name} {key}[{j}] {f}");
                assert_close(k.coef, &e["coef"][j], &what("coef"));
                assert_close(k.hr, &e["hr"][j], &what("hr"));
                assert_close(k.se, &e["se"][j], &what("se"));
                assert_close(k.hr_lower, &e["hr_lower"][j], &what("hr_lower"));
                assert_close(k.hr_upper, &e["hr_upper"][j], &what("hr_upper"));
                assert_close(k.z, &e["z"][j], &what("z"));
                assert_close(k.p, &e["p"][j], &what("p"));
            }
        }
    }
    report_worst("cox_agrees_with_lifelines");
}

#[test]
fn concordance_agrees_with_lifelines() {
    let reference = reference();
    for name in COHORTS {
        let c = cohort(name);
        let r = &reference["cohorts"][name];
        let c1 = harrell_c(&c.time, &c.event, &c.x1).unwrap().unwrap();
        assert_close(c1, &r["c_index_x1"], &format!("{name} c x1"));
        let c2 = harrell_c(&c.time, &c.event, &c.x2).unwrap().unwrap();
        assert_close(c2, &r["c_index_x2"], &format!("{name} c x2"));
    }
    report_worst("concordance_agrees_with_lifelines");
}

/// Harrell's C by its O(n²) definition.
fn harrell_c_by_pairs(time: &[f64], event: &[bool], risk: &[f64]) -> Option<f64> {
    let (mut score, mut pairs) = (0.0, 0.0);
    for i in 0..time.len() {
        for j in 0..time.len() {
            let comparable = event[i] && (time[i] < time[j] || (time[i] == time[j] && !event[j]));
            if comparable {
                pairs += 1.0;
                score += if risk[i] > risk[j] {
                    1.0
                } else if risk[i] == risk[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    (pairs > 0.0).then(|| score / pairs)
}

fn cohorts() -> impl Strategy<Value = (Vec<f64>, Vec<bool>, Vec<f64>)> {
    (1usize..40).prop_flat_map(|n| {
        (
            prop::collection::vec((0u8..12).prop_map(f64::from), n),
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec((0u8..5).prop_map(f64::from), n),
        )
    })
}

proptest! {
    #[test]
    fn fenwick_concordance_matches_pair_count((time, event, risk) in cohorts()) {
        let fast = harrell_c(&time, &event, &risk).unwrap();
        let slow = harrell_c_by_pairs(&time, &event, &risk);
        prop_assert_eq!(fast.is_some(), slow.is_some());
        if let (Some(a), Some(b)) = (fast, slow) {
            prop_assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn km_is_monotone_and_bracketed((time, event, _risk) in cohorts()) {
        let curve = kaplan_meier(&time, &event).unwrap();
        let mut previous = 1.0;
        for s in &curve {
            prop_assert!(s.survival <= previous && s.survival >= 0.0);
            prop_assert!(s.ci_lower <= s.survival + 1e-15 && s.survival <= s.ci_upper + 1e-15);
            previous = s.survival;
        }
        let events: u64 = curve.iter().map(|s| s.events + s.censored).sum();
        prop_assert_eq!(events as usize, time.len());
    }

    #[test]
    fn logrank_does_not_depend_on_group_labels((time, event, risk) in cohorts()) {
        let labels: Vec<u8> = risk.iter().map(|&r| r as u8 % 3).collect();
        let renamed: Vec<u8> = labels.iter().map(|&l| 2 - l).collect();
        if let (Ok(a), Ok(b)) = (logrank_test(&time, &event, &labels), logrank_test(&time, &event, &renamed)) {
            prop_assert!((a.chi2 - b.chi2).abs() <= 1e-9 * (1.0 + a.chi2));
        }
    }

    #[test]
    fn cox_coefficient_scales_with_the_covariate((time, event, risk) in cohorts(), factor in 0.1f64..10.0) {
        let scaled: Vec<f64> = risk.iter().map(|r| r * factor).collect();
        if let (Ok(a), Ok(b)) = (cox_ph(&time, &event, std::slice::from_ref(&risk)), cox_ph(&time, &event, &[scaled])) {
            let (a, b) = (&a.coefficients[0], &b.coefficients[0]);
            prop_assert!((a.coef - b.coef * factor).abs() <= 1e-7 * (1.0 + a.coef.abs()));
            prop_assert!((a.p - b.p).abs() <= 1e-7);
        }
    }
}
