//! The survival and statistics aggregates through a DataFusion session: GROUP BY, two-phase
//! aggregation, NULL and error handling. (The root crate runs `tests/slt/{survival,stats}.slt`.)

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::sql::{FunctionContext, register_all};
use crate::survival::tests::{RCox, cohort, r_reference, reference};

/// A session with npcql's functions, cutting work into `partitions` so aggregates run in two
/// phases (partial states merged in a final step).
fn session(partitions: usize) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions);
    let ctx = SessionContext::new_with_config(config);
    register_all(&ctx, Arc::new(FunctionContext::default())).unwrap();
    ctx
}

/// Registers a reference cohort as table `name`, its rows dealt round-robin over `partitions`
/// batches, with `event` as BIGINT and `event_b` as BOOLEAN.
fn register_cohort(ctx: &SessionContext, name: &str, partitions: usize) {
    let c = cohort(name);
    let schema = Arc::new(Schema::new(vec![
        Field::new("time", DataType::Float64, true),
        Field::new("event", DataType::Int64, true),
        Field::new("event_b", DataType::Boolean, true),
        Field::new("grp", DataType::Utf8, true),
        Field::new("x1", DataType::Float64, true),
        Field::new("x2", DataType::Float64, true),
    ]));
    let batches = (0..partitions).map(|part| {
        let rows: Vec<usize> = (part..c.time.len()).step_by(partitions).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(rows.iter().map(|&i| c.time[i]).collect::<Float64Array>()),
            Arc::new(rows.iter().map(|&i| i64::from(c.event[i])).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|&i| Some(c.event[i])).collect::<BooleanArray>()),
            Arc::new(rows.iter().map(|&i| Some(c.group[i].as_str())).collect::<StringArray>()),
            Arc::new(rows.iter().map(|&i| c.x1[i]).collect::<Float64Array>()),
            Arc::new(rows.iter().map(|&i| c.x2[i]).collect::<Float64Array>()),
        ];
        vec![RecordBatch::try_new(schema.clone(), columns).unwrap()]
    });
    let table = MemTable::try_new(schema.clone(), batches.collect()).unwrap();
    ctx.register_table(name, Arc::new(table)).unwrap();
}

/// The rows of a query as text, as the root crate's slt runner prints them.
async fn rows(ctx: &SessionContext, sql: &str) -> datafusion::common::Result<Vec<Vec<String>>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(batches.iter().flat_map(rows_as_text).collect())
}

fn rows_as_text(batch: &RecordBatch) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let formatters: Vec<ArrayFormatter> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
        .collect();
    (0..batch.num_rows())
        .map(|r| {
            batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(column, formatter)| match float_cell(column.as_ref(), r) {
                    Some(v) => round_significant(v, 9),
                    None => formatter.value(r).to_string(),
                })
                .collect()
        })
        .collect()
}

fn float_cell(column: &dyn Array, row: usize) -> Option<f64> {
    if column.is_null(row) {
        return None;
    }
    if let Some(a) = column.as_any().downcast_ref::<Float64Array>() {
        return Some(a.value(row));
    }
    let a = column.as_any().downcast_ref::<Float32Array>()?;
    Some(f64::from(a.value(row)))
}

/// `v` to `digits` significant digits without trailing zeros (the root runner's rule).
fn round_significant(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { v.to_string() };
    }
    let decimals = (digits - 1 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".into() } else { text }
}

fn float(ctx_rows: &[Vec<String>], row: usize, column: usize) -> f64 {
    ctx_rows[row][column].parse().unwrap()
}

#[tokio::test]
async fn two_phase_aggregation_matches_one_partition() {
    let queries = [
        "SELECT grp, km_median(time, event), km_survival_at(time, event, 12), \
         c_index(time, event, x1), cox_ph(time, event, x1)['coef'], \
         cardinality(km_curve(time, event)) FROM tied GROUP BY grp ORDER BY grp",
        "SELECT logrank_test(time, event, grp)['chi2'], cox_ph(time, event, x1)['se'], \
         cox_ph(time, event, named_struct('a', x1, 'b', x2))['b']['p'], \
         mann_whitney_p(x1, grp), welch_t_p(x1, grp), spearman_rho(x1, x2), \
         chi2_p(grp, event), fisher_exact_p(grp, event_b) FROM tied",
    ];
    let (one, four) = (session(1), session(4));
    register_cohort(&one, "tied", 1);
    register_cohort(&four, "tied", 4);
    for sql in queries {
        assert_eq!(rows(&one, sql).await.unwrap(), rows(&four, sql).await.unwrap(), "{sql}");
    }
    let plan = rows(&four, &format!("EXPLAIN {}", queries[1])).await.unwrap();
    assert!(format!("{plan:?}").contains("mode=Partial"), "{plan:?}");
}

/// R's `coxph` numbers (default control) for one covariate of one model.
fn r_cox<'a>(reference: &'a [RCox], cohort: &str, model: &str, term: &str) -> &'a RCox {
    reference
        .iter()
        .find(|r| r.cohort == cohort && r.model == model && r.term == term && r.control == "default")
        .unwrap_or_else(|| panic!("no R fit {cohort} {model} {term}"))
}

/// |v − e| ≤ 1e-8·|e|; the cells are rounded to 9 significant digits (≤ 5e-9).
#[track_caller]
fn assert_within_1e8(v: f64, e: f64, what: &str) {
    assert!((v - e).abs() <= 1e-8 * e.abs(), "{what}: {v} vs {e}");
}

#[tokio::test]
async fn sql_agrees_with_lifelines_and_r() {
    let reference = reference();
    let r_fits = r_reference();
    let ctx = session(2);
    for name in ["tied", "no_event_group", "single_row_group", "realistic"] {
        register_cohort(&ctx, name, 3);
        let r = &reference["cohorts"][name];
        let sql = format!(
            "SELECT logrank_test(time, event, grp)['p'], cox_ph(time, event, x1)['hr'], \
             cox_ph(time, event, named_struct('x1', x1, 'x2', x2))['x2']['hr_upper'], \
             c_index(time, event, x2), km_median(time, event_b) FROM {name}"
        );
        let got = rows(&ctx, &sql).await.unwrap();
        let lifelines = |column: usize, e: &serde_json::Value, what: &str| {
            assert_within_1e8(float(&got, 0, column), e.as_f64().unwrap(), &format!("{name} {what}"));
        };
        lifelines(0, &r["logrank"]["p"], "logrank p");
        lifelines(3, &r["c_index_x2"], "c x2");
        lifelines(4, &r["km_all"]["median"], "median");
        // Cox is R's maximum; lifelines stops short of it (survival/tests.rs).
        let hr = r_cox(&r_fits, name, "x1", "x1").values[1];
        assert_within_1e8(float(&got, 0, 1), hr, &format!("{name} cox hr (R)"));
        let hr_upper = r_cox(&r_fits, name, "x1+x2", "x2").values[6];
        assert_within_1e8(float(&got, 0, 2), hr_upper, &format!("{name} cox x2 hr_upper (R)"));
    }
}

#[tokio::test]
async fn nulls_are_skipped_and_bad_rows_are_errors() {
    let ctx = session(2);
    let got = rows(
        &ctx,
        "SELECT km_median(t, e), logrank_test(t, e, g)['df'] FROM (VALUES \
         (1.0, 1, 'a'), (2.0, NULL, 'a'), (NULL, 1, 'b'), (3.0, 1, NULL), (4.0, 1, 'b'), \
         (5.0, 0, 'b')) AS v(t, e, g)",
    )
    .await
    .unwrap();
    // km_median ignores g, so (3, 1, NULL) counts for it but not for logrank_test.
    assert_eq!(got, vec![vec!["3".to_string(), "1".to_string()]]);
    for (sql, message) in [
        (
            "SELECT km_median(-1.0, 1)",
            "km_median: time must be a finite non-negative",
        ),
        (
            "SELECT km_curve(1.0, 2)",
            "km_curve: event must be BOOLEAN or 0/1, got 2",
        ),
        (
            "SELECT logrank_test(1.0, 1, 'a')",
            "logrank_test: needs at least two groups, found 1",
        ),
        (
            "SELECT mann_whitney_p(1.0, 'a')",
            "mann_whitney_p: needs exactly two groups, found 1",
        ),
        (
            "SELECT km_median('x', 1)",
            "km_median: argument 1 (time) must be numeric",
        ),
        (
            "SELECT km_median(1.0, 'x')",
            "km_median: argument 2 (event) must be BOOLEAN or 0/1",
        ),
        ("SELECT cox_ph(1.0, 1)", "cox_ph takes 3 arguments, got 2"),
        (
            "SELECT cox_ph(t, 1, t) FROM (VALUES (1.0), (2.0), (3.0)) AS v(t)",
            "cox_ph: Newton–Raphson did not converge",
        ),
    ] {
        let err = rows(&ctx, sql).await.unwrap_err().to_string();
        assert!(err.contains(message), "{sql}: {err}");
    }
}

#[tokio::test]
async fn empty_input_gives_null() {
    let ctx = session(1);
    let got = rows(
        &ctx,
        "SELECT km_median(t, e), km_survival_at(t, e, 1), logrank_test(t, e, g)['p'], \
         cox_ph(t, e, t)['hr'], c_index(t, e, t), chi2_p(g, g), spearman_rho(t, t) \
         FROM (VALUES (1.0, 1, 'a')) AS v(t, e, g) WHERE t > 5",
    )
    .await
    .unwrap();
    assert_eq!(got, vec![vec!["NULL".to_string(); 7]]);
}

#[tokio::test]
async fn hundred_thousand_rows_through_sql() {
    let ctx = session(4);
    let started = std::time::Instant::now();
    let got = rows(
        &ctx,
        "SELECT cardinality(km_curve(t, e)), logrank_test(t, e, g)['df'], \
         cox_ph(t, e, x)['hr'], c_index(t, e, x) FROM ( \
           SELECT ceil((value * 7919 % 600) / 10.0) AS t, value % 3 <> 0 AS e, value % 4 AS g, \
                  (value * 7919 % 600) / -100.0 + (value % 7) AS x \
           FROM generate_series(1, 100000))",
    )
    .await
    .unwrap();
    assert_eq!(got[0][..2], ["61", "3"]);
    // R's coxph (tests/reference/survival/cox_reference.R) and lifelines' concordance_index.
    let hr = r_cox(&r_reference(), "series_100k", "x", "x").values[1];
    assert_within_1e8(float(&got, 0, 2), hr, "cox hr (R)");
    assert_within_1e8(float(&got, 0, 3), 0.730_140_574_237_247_3, "c (lifelines)");
    eprintln!("100,000 rows, four aggregates: {:?}", started.elapsed());
}
