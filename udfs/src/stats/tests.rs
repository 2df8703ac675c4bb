//! Agreement with scipy 1.17 on the cohorts and tables of `tests/reference/survival/`.

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::survival::tests::{COHORTS, assert_close, cohort, reference, report_worst};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn counts(v: &Value) -> Vec<Vec<u64>> {
    let rows = v.as_array().unwrap().iter();
    rows.map(|r| r.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect())
        .collect()
}

#[test]
fn tables_agree_with_scipy() {
    for case in reference()["tables"].as_array().unwrap() {
        let table = counts(&case["table"]);
        let what = format!("{table:?}");
        let chi2 = chi2_contingency(&table).unwrap();
        assert_close(chi2.statistic, &case["chi2"], &format!("{what} chi2"));
        assert_close(chi2.p, &case["chi2_p"], &format!("{what} chi2 p"));
        if let [a, b] = table.as_slice()
            && a.len() == 2
        {
            let p = fisher_exact_2x2([[a[0], a[1]], [b[0], b[1]]]);
            assert_close(p, &case["fisher_p"], &format!("{what} fisher p"));
        }
    }
    report_worst("tables_agree_with_scipy");
}

#[test]
fn samples_agree_with_scipy() {
    for case in reference()["samples"].as_array().unwrap() {
        let (a, b) = (floats(&case["a"]), floats(&case["b"]));
        let what = format!("{a:?} vs {b:?}");
        let mw = mann_whitney_u(&a, &b).unwrap();
        assert_close(mw.u, &case["mann_whitney_u"], &format!("{what} U"));
        assert_close(mw.p, &case["mann_whitney_p"], &format!("{what} MW p"));
        let welch = welch_t_test(&a, &b).unwrap();
        assert_close(welch.t, &case["welch_t"], &format!("{what} t"));
        assert_close(welch.p, &case["welch_p"], &format!("{what} Welch p"));
        let n = a.len().min(b.len());
        let rho = spearman_rho(&a[..n], &b[..n]).unwrap();
        assert_close(rho, &case["spearman_prefix"], &format!("{what} rho"));
    }
    report_worst("samples_agree_with_scipy");
}

#[test]
fn cohorts_agree_with_scipy() {
    let reference = reference();
    for name in COHORTS {
        let c = cohort(name);
        let r = &reference["cohorts"][name];
        let table = ContingencyTable::from_pairs(&c.cat_a, &c.cat_b);
        let chi2 = chi2_contingency(&table.counts).unwrap();
        assert_close(chi2.statistic, &r["chi2_cat"]["statistic"], &format!("{name} chi2"));
        assert_close(chi2.p, &r["chi2_cat"]["p"], &format!("{name} chi2 p"));
        let fisher = fisher_exact_2x2(table.as_2x2().unwrap());
        assert_close(fisher, &r["fisher_cat_p"], &format!("{name} fisher"));
        let rho = spearman_rho(&c.x1, &c.x2).unwrap();
        assert_close(rho, &r["spearman_x1_x2"], &format!("{name} rho x1 x2"));
        let rho = spearman_rho(&c.time, &c.x1).unwrap();
        assert_close(rho, &r["spearman_time_x1"], &format!("{name} rho time x1"));
        let e = &r["two_group"];
        let groups: Vec<&str> = e["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        let sample = |g: &str| -> Vec<f64> { (0..c.x1.len()).filter(|&i| c.group[i] == g).map(|i| c.x1[i]).collect() };
        let (a, b) = (sample(groups[0]), sample(groups[1]));
        let mw = mann_whitney_u(&a, &b).unwrap();
        assert_close(mw.p, &e["mann_whitney_p"], &format!("{name} MW p"));
        let welch = welch_t_test(&a, &b).unwrap();
        assert_close(welch.t, &e["welch_t"], &format!("{name} t"));
        assert_close(welch.df, &e["welch_df"], &format!("{name} df"));
        assert_close(welch.p, &e["welch_p"], &format!("{name} Welch p"));
    }
    report_worst("cohorts_agree_with_scipy");
}

proptest! {
    #[test]
    fn fisher_is_a_probability_and_symmetric(a in 0u64..15, b in 0u64..15, c in 0u64..15, d in 0u64..15) {
        let p = fisher_exact_2x2([[a, b], [c, d]]);
        prop_assert!((0.0..=1.0).contains(&p));
        // Swapping rows or transposing leaves the two-sided p unchanged.
        prop_assert!((p - fisher_exact_2x2([[c, d], [a, b]])).abs() < 1e-12);
        prop_assert!((p - fisher_exact_2x2([[a, c], [b, d]])).abs() < 1e-12);
    }

    #[test]
    fn mann_whitney_is_symmetric(a in prop::collection::vec(0u8..6, 1..20), b in prop::collection::vec(0u8..6, 1..20)) {
        let (a, b): (Vec<f64>, Vec<f64>) = (a.into_iter().map(f64::from).collect(), b.into_iter().map(f64::from).collect());
        let (x, y) = (mann_whitney_u(&a, &b), mann_whitney_u(&b, &a));
        prop_assert_eq!(x.is_some(), y.is_some());
        if let (Some(x), Some(y)) = (x, y) {
            prop_assert!((x.p - y.p).abs() < 1e-12 && (0.0..=1.0).contains(&x.p));
        }
    }
}
