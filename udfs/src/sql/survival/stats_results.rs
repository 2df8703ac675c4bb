//! The calls from the statistics aggregates into the `stats` kernels.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};

use super::rows::Column;
use crate::stats;

/// The values of `(value, group)` rows per group, groups in sorted order.
fn samples(columns: &[Column]) -> BTreeMap<&str, Vec<f64>> {
    let mut groups: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (v, g) in columns[0].numbers().iter().zip(columns[1].labels()) {
        groups.entry(g).or_default().push(*v);
    }
    groups
}

/// Splits `(value, group)` rows into exactly two samples (groups in sorted order), `None` for no
/// rows.
fn two_samples(name: &str, columns: &[Column]) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let groups = samples(columns);
    match groups.len() {
        0 => Ok(None),
        2 => {
            let mut samples = groups.into_values();
            Ok(samples.next().zip(samples.next()))
        }
        k => exec_err!("{name}: needs exactly two groups, found {k}"),
    }
}

pub(super) fn mann_whitney_p(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let p = two_samples(name, columns)?
        .and_then(|(a, b)| stats::mann_whitney_u(&a, &b))
        .map(|r| r.p);
    Ok(ScalarValue::Float64(p))
}

pub(super) fn kruskal_wallis_p(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let groups = samples(columns);
    if groups.len() == 1 {
        return exec_err!("{name}: needs at least two groups, found 1");
    }
    let samples: Vec<&[f64]> = groups.values().map(Vec::as_slice).collect();
    Ok(ScalarValue::Float64(stats::kruskal_wallis(&samples).map(|r| r.p)))
}

pub(super) fn welch_t_p(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let p = two_samples(name, columns)?
        .and_then(|(a, b)| stats::welch_t_test(&a, &b))
        .map(|r| r.p);
    Ok(ScalarValue::Float64(p))
}

/// The contingency table of two label columns, `None` for no rows; each side needs two levels.
fn table(name: &str, columns: &[Column]) -> Result<Option<stats::ContingencyTable<String>>> {
    let (a, b) = (columns[0].labels(), columns[1].labels());
    if a.is_empty() {
        return Ok(None);
    }
    let table = stats::ContingencyTable::from_pairs(a, b);
    let (r, c) = (table.row_levels.len(), table.column_levels.len());
    if r < 2 || c < 2 {
        return exec_err!("{name}: needs at least two distinct values in each argument, found {r} × {c}");
    }
    Ok(Some(table))
}

pub(super) fn chi2_p(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let p = table(name, columns)?
        .and_then(|t| stats::chi2_contingency(&t.counts))
        .map(|r| r.p);
    Ok(ScalarValue::Float64(p))
}

pub(super) fn fisher_exact_p(name: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let Some(table) = table(name, columns)? else {
        return Ok(ScalarValue::Float64(None));
    };
    match table.as_2x2() {
        Some(counts) => Ok(ScalarValue::Float64(Some(stats::fisher_exact_2x2(counts)))),
        None => exec_err!(
            "{name}: needs a 2 × 2 table (two values in each argument), found {} × {}",
            table.row_levels.len(),
            table.column_levels.len()
        ),
    }
}

pub(super) fn spearman_rho(_: &str, _: &[DataType], columns: &[Column]) -> Result<ScalarValue> {
    let rho = stats::spearman_rho(columns[0].numbers(), columns[1].numbers());
    Ok(ScalarValue::Float64(rho))
}
