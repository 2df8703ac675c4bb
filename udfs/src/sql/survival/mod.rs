//! SQL registration of the survival and statistics functions.
//!
//! Every function is an aggregate over rows; rows with a NULL in any argument are skipped, and an
//! input no group of rows can hold (negative time, event not 0/1) fails the query with an error
//! that names the function. Results follow lifelines 0.30 / scipy 1.17, Cox R's `coxph` (see the
//! kernels). `event` is BOOLEAN or 0/1; `group`, `a`, `b` may be of any type (compared as text).
//! Over no rows every function returns NULL. What each returns is documented in [`aggregates`].

use datafusion::logical_expr::AggregateUDF;

use super::docs::{SURVIVAL, document};

mod results;
mod rows;
mod stats_results;
#[cfg(test)]
mod tests;

use rows::{Arg, RowsAggregate};

/// The survival and statistics aggregates with their documentation, in the README's order.
pub fn aggregates() -> Vec<AggregateUDF> {
    use Arg::{Event, Label, Number, Numbers, Time};
    use results as sv;
    use stats_results as st;
    let doc = |syntax: &str, returns: &str| document(SURVIVAL, syntax, returns);
    let functions = [
        RowsAggregate::new("km_survival_at", &[Time, Event, Number], sv::double, sv::km_survival_at)
            .with_documentation(doc("km_survival_at(time, event, t)", "Kaplan–Meier S(t)")),
        RowsAggregate::new("km_median", &[Time, Event], sv::double, sv::km_median).with_documentation(doc(
            "km_median(time, event)",
            "smallest t with S(t) ≤ 0.5; NULL when not reached",
        )),
        RowsAggregate::new("km_curve", &[Time, Event], sv::km_curve_type, sv::km_curve).with_documentation(doc(
            "km_curve(time, event)",
            "LIST of STRUCT {time, at_risk, events, censored, survival, ci_lower, ci_upper}; 95% CI as \
             lifelines reports it (exponential Greenwood, \"log-log\")",
        )),
        RowsAggregate::new("logrank_test", &[Time, Event, Label], sv::logrank_type, sv::logrank).with_documentation(
            doc(
                "logrank_test(time, event, group)",
                "STRUCT {chi2, df, p} over 2+ groups",
            ),
        ),
        RowsAggregate::new("cox_ph", &[Time, Event, Numbers], sv::cox_type, sv::cox).with_documentation(doc(
            "cox_ph(time, event, x)",
            "STRUCT {coef, hr, se, hr_lower, hr_upper, z, p}: Cox proportional hazards, Efron ties, Wald CI \
             and p; with `x` a `named_struct('a', a, 'b', b, ...)`, a multivariable fit: one such STRUCT \
             per covariate, read as `cox_ph(...)['b']['hr']`",
        )),
        RowsAggregate::new("c_index", &[Time, Event, Number], sv::double, sv::c_index).with_documentation(doc(
            "c_index(time, event, risk)",
            "Harrell's concordance; higher risk = earlier event",
        )),
        RowsAggregate::new("mann_whitney_p", &[Number, Label], sv::double, st::mann_whitney_p).with_documentation(doc(
            "mann_whitney_p(value, group)",
            "two-sided Mann–Whitney U p (asymptotic, tie and continuity corrected)",
        )),
        RowsAggregate::new("kruskal_wallis_p", &[Number, Label], sv::double, st::kruskal_wallis_p).with_documentation(
            doc(
                "kruskal_wallis_p(value, group)",
                "Kruskal–Wallis H test p over 2+ groups (tie corrected), as `scipy.stats.kruskal`",
            ),
        ),
        RowsAggregate::new("welch_t_p", &[Number, Label], sv::double, st::welch_t_p)
            .with_documentation(doc("welch_t_p(value, group)", "two-sided Welch t-test p")),
        RowsAggregate::new("chi2_p", &[Label, Label], sv::double, st::chi2_p).with_documentation(doc(
            "chi2_p(a, b)",
            "χ² test of independence (Yates on 2×2), as `scipy.stats.chi2_contingency`",
        )),
        RowsAggregate::new("fisher_exact_p", &[Label, Label], sv::double, st::fisher_exact_p).with_documentation(doc(
            "fisher_exact_p(a, b)",
            "two-sided Fisher exact test on a 2×2 table",
        )),
        RowsAggregate::new("spearman_rho", &[Number, Number], sv::double, st::spearman_rho)
            .with_documentation(doc("spearman_rho(x, y)", "Spearman rank correlation")),
    ];
    functions.into_iter().map(AggregateUDF::from).collect()
}
