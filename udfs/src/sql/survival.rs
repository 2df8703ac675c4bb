//! SQL registration of the survival and statistics functions.
//!
//! Every function is an aggregate over rows; rows with a NULL in any argument are skipped, and an
//! input no group of rows can hold (negative time, event not 0/1) fails the query with an error
//! that names the function. Results follow lifelines 0.30 / scipy 1.17, Cox R's `coxph` (see the kernels).
//!
//! | function | result |
//! |---|---|
//! | `km_survival_at(time, event, t)` | DOUBLE: Kaplan–Meier S(t) (`t` constant within a group) |
//! | `km_median(time, event)` | DOUBLE: smallest t with S(t) ≤ 0.5, NULL when not reached |
//! | `km_curve(time, event)` | LIST of STRUCT {time, at_risk, events, censored, survival, ci_lower, ci_upper} |
//! | `logrank_test(time, event, group)` | STRUCT {chi2, df, p}; 2+ groups |
//! | `cox_ph(time, event, x)` | STRUCT {coef, hr, se, hr_lower, hr_upper, z, p} (Efron ties) |
//! | `cox_ph(time, event, named_struct('a', a, 'b', b, ...))` | multivariable fit: STRUCT {a: STRUCT {coef, ...}, b: ...} |
//! | `c_index(time, event, risk)` | DOUBLE: Harrell's C, higher risk = earlier event |
//! | `mann_whitney_p(value, group)` | DOUBLE: two-sided asymptotic p; exactly two groups |
//! | `welch_t_p(value, group)` | DOUBLE: two-sided Welch t-test p; exactly two groups |
//! | `chi2_p(a, b)` | DOUBLE: χ² test of independence of two categorical columns |
//! | `fisher_exact_p(a, b)` | DOUBLE: two-sided Fisher exact p on their 2 × 2 table |
//! | `spearman_rho(x, y)` | DOUBLE: Spearman rank correlation |
//!
//! `event` is BOOLEAN or 0/1; `group`, `a`, `b` may be of any type (compared as text). Over no
//! rows every function returns NULL.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::logical_expr::AggregateUDF;
use datafusion::prelude::SessionContext;

use super::FunctionContext;

#[path = "survival_rows.rs"]
mod rows;
#[path = "stats_results.rs"]
mod stats_results;
#[path = "survival_results.rs"]
mod survival_results;
#[cfg(test)]
#[path = "survival_tests.rs"]
mod tests;

use rows::{Arg, RowsAggregate};

/// The survival and statistics aggregates, ready to register.
pub fn aggregates() -> Vec<AggregateUDF> {
    use Arg::{Event, Label, Number, Numbers, Time};
    use stats_results as st;
    use survival_results as sv;
    let functions = [
        RowsAggregate::new("km_survival_at", &[Time, Event, Number], sv::double, sv::km_survival_at),
        RowsAggregate::new("km_median", &[Time, Event], sv::double, sv::km_median),
        RowsAggregate::new("km_curve", &[Time, Event], sv::km_curve_type, sv::km_curve),
        RowsAggregate::new("logrank_test", &[Time, Event, Label], sv::logrank_type, sv::logrank),
        RowsAggregate::new("cox_ph", &[Time, Event, Numbers], sv::cox_type, sv::cox),
        RowsAggregate::new("c_index", &[Time, Event, Number], sv::double, sv::c_index),
        RowsAggregate::new("mann_whitney_p", &[Number, Label], sv::double, st::mann_whitney_p),
        RowsAggregate::new("welch_t_p", &[Number, Label], sv::double, st::welch_t_p),
        RowsAggregate::new("chi2_p", &[Label, Label], sv::double, st::chi2_p),
        RowsAggregate::new("fisher_exact_p", &[Label, Label], sv::double, st::fisher_exact_p),
        RowsAggregate::new("spearman_rho", &[Number, Number], sv::double, st::spearman_rho),
    ];
    functions.into_iter().map(AggregateUDF::from).collect()
}

/// Registers the survival and statistics functions.
pub fn register(ctx: &SessionContext, _functions: Arc<FunctionContext>) -> Result<()> {
    for function in aggregates() {
        ctx.register_udaf(function);
    }
    Ok(())
}
