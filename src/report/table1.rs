//! "Table 1": the cohort's characteristics per group and overall, as gtsummary's `tbl_summary`
//! with `add_p` lays them out. Numeric columns: median (Q1–Q3) by R's default quantiles (type 7);
//! categorical columns: n (%) of the non-missing values; a "Missing" row where values are
//! missing. p-values: Mann–Whitney U for two groups, Kruskal–Wallis for more; for categories
//! Pearson's χ² (Yates' correction on 2 × 2, as scipy), or Fisher's exact test (Freeman–Halton
//! beyond 2 × 2, as R's `fisher.test`) when an expected count is below 5.

use std::collections::BTreeMap;

use npcql_udfs::stats::{ContingencyTable, chi2_contingency, fisher_exact_rxc, kruskal_wallis, mann_whitney_u};

use super::ReportFault;
use super::figures::distribution::quantile;
use super::figures::format::{compact, p_digits};
use super::rows::{ColumnName, Rows};

/// The test behind a p-value, footnoted under the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Test {
    MannWhitney,
    KruskalWallis,
    ChiSquared,
    /// χ² although an expected count is below 5: the table has too many possible arrangements
    /// for the exact test to enumerate.
    ChiSquaredSmall,
    Fisher,
}

impl Test {
    fn name(self) -> &'static str {
        match self {
            Test::MannWhitney => "Wilcoxon rank-sum (Mann–Whitney U) test",
            Test::KruskalWallis => "Kruskal–Wallis rank-sum test",
            Test::ChiSquared => "Pearson's χ² test (Yates' correction on 2 × 2 tables)",
            Test::ChiSquaredSmall => {
                "Pearson's χ² test; an expected count is below 5, but the table is too large for Fisher's exact test"
            }
            Test::Fisher => "Fisher's exact test (Freeman–Halton beyond 2 × 2, as R's fisher.test)",
        }
    }
}

/// One row of the table: a variable's heading, a level, or its missing count.
#[derive(Debug, Clone, PartialEq)]
pub struct Table1Row {
    pub label: String,
    /// Indented under its variable (a level or "Missing").
    pub level: bool,
    /// The overall cell, then one per group.
    pub cells: Vec<String>,
    pub p: Option<(f64, Test)>,
}

/// The table's groups and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table1 {
    pub by: String,
    /// Group names with their sizes, in sorted order.
    pub groups: Vec<(String, usize)>,
    pub total: usize,
    pub rows: Vec<Table1Row>,
    /// Rows left out because the BY column is NULL.
    pub without_group: usize,
}

/// Summarises every column of `rows` but `by`, per value of `by` and overall.
pub fn table1(rows: &Rows, by: &ColumnName) -> Result<Table1, ReportFault> {
    let by_index = rows.position("table1", by)?;
    let groups_of = Rows::labels(rows.batch().column(by_index));
    let keep: Vec<usize> = (0..rows.len()).filter(|&i| groups_of[i].is_some()).collect();
    let group: Vec<&str> = keep
        .iter()
        .map(|&i| groups_of[i].as_deref().unwrap_or_default())
        .collect();
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &group {
        *sizes.entry(g).or_default() += 1;
    }
    let names: Vec<&str> = sizes.keys().copied().collect();
    let mut out = Vec::new();
    for (i, (name, array)) in rows.names().into_iter().zip(rows.batch().columns()).enumerate() {
        if i == by_index {
            continue;
        }
        if Rows::is_numeric(array) {
            let all = Rows::numbers(&name, array)?;
            let values: Vec<Option<f64>> = keep.iter().map(|&i| all[i]).collect();
            out.extend(numeric_rows(&name, &values, &group, &names));
        } else {
            let all = Rows::labels(array);
            let values: Vec<Option<&str>> = keep.iter().map(|&i| all[i].as_deref()).collect();
            out.extend(categorical_rows(&name, &values, &group, &names));
        }
    }
    Ok(Table1 {
        by: rows.names()[by_index].clone(),
        groups: sizes.into_iter().map(|(g, n)| (g.to_string(), n)).collect(),
        total: keep.len(),
        rows: out,
        without_group: rows.len() - keep.len(),
    })
}

fn numeric_rows(name: &str, values: &[Option<f64>], group: &[&str], names: &[&str]) -> Vec<Table1Row> {
    let sample = |g: Option<&str>| -> Vec<f64> {
        let mut v: Vec<f64> = values
            .iter()
            .zip(group)
            .filter(|(_, gi)| g.is_none_or(|g| g == **gi))
            .filter_map(|(v, _)| *v)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let summary = |v: &[f64]| -> String {
        if v.is_empty() {
            return "–".into();
        }
        let [q1, median, q3] = [0.25, 0.5, 0.75].map(|q| compact(quantile(v, q)));
        format!("{median} ({q1}–{q3})")
    };
    let samples: Vec<Vec<f64>> = names.iter().map(|g| sample(Some(g))).collect();
    let p = match names.len() {
        2 => mann_whitney_u(&samples[0], &samples[1]).map(|r| (r.p, Test::MannWhitney)),
        k if k > 2 => {
            let slices: Vec<&[f64]> = samples.iter().map(Vec::as_slice).collect();
            kruskal_wallis(&slices).map(|r| (r.p, Test::KruskalWallis))
        }
        _ => None,
    };
    let mut cells = vec![summary(&sample(None))];
    cells.extend(samples.iter().map(|s| summary(s)));
    let mut rows = vec![Table1Row {
        label: format!("{name}, median (IQR)"),
        level: false,
        cells,
        p,
    }];
    rows.extend(missing_row(values.iter().map(Option::is_none), group, names));
    rows
}

fn categorical_rows(name: &str, values: &[Option<&str>], group: &[&str], names: &[&str]) -> Vec<Table1Row> {
    // Levels × groups of the non-missing values: the cells and the test read the same counts.
    let (levels, groups): (Vec<&str>, Vec<&str>) =
        values.iter().zip(group).filter_map(|(v, g)| Some(((*v)?, *g))).unzip();
    let table = ContingencyTable::from_pairs(&levels, &groups);
    let group_totals: Vec<u64> = (0..table.column_levels.len())
        .map(|j| table.counts.iter().map(|row| row[j]).sum())
        .collect();
    let total: u64 = group_totals.iter().sum();
    let cell = |n: u64, of: u64| {
        if of == 0 {
            "0".into()
        } else {
            format!("{n} ({:.0}%)", 100.0 * n as f64 / of as f64)
        }
    };
    let mut rows = vec![Table1Row {
        label: format!("{name}, n (%)"),
        level: false,
        cells: vec![String::new(); names.len() + 1],
        p: categorical_p(&table.counts),
    }];
    for (level, counts) in table.row_levels.iter().zip(&table.counts) {
        let mut cells = vec![cell(counts.iter().sum(), total)];
        // A group whose values are all missing has no column in the table.
        cells.extend(
            names
                .iter()
                .map(|g| match table.column_levels.iter().position(|c| c == g) {
                    Some(j) => cell(counts[j], group_totals[j]),
                    None => cell(0, 0),
                }),
        );
        rows.push(Table1Row {
            label: level.to_string(),
            level: true,
            cells,
            p: None,
        });
    }
    rows.extend(missing_row(values.iter().map(Option::is_none), group, names));
    rows
}

/// χ², or Fisher's exact test (any r × c) when an expected count is below 5.
fn categorical_p(counts: &[Vec<u64>]) -> Option<(f64, Test)> {
    let (r, c) = (counts.len(), counts.first().map_or(0, Vec::len));
    if r < 2 || c < 2 {
        return None;
    }
    let total: u64 = counts.iter().flatten().sum();
    let row_sums: Vec<u64> = counts.iter().map(|row| row.iter().sum()).collect();
    let col_sums: Vec<u64> = (0..c).map(|j| counts.iter().map(|row| row[j]).sum()).collect();
    let small = row_sums
        .iter()
        .any(|&ri| col_sums.iter().any(|&cj| (ri * cj) as f64 / (total as f64) < 5.0));
    if !small {
        return chi2_contingency(counts).map(|r| (r.p, Test::ChiSquared));
    }
    match fisher_exact_rxc(counts) {
        Some(p) => Some((p, Test::Fisher)),
        None => chi2_contingency(counts).map(|r| (r.p, Test::ChiSquaredSmall)),
    }
}

/// "Missing" with its count per group, when any value is missing.
fn missing_row(missing: impl Iterator<Item = bool>, group: &[&str], names: &[&str]) -> Option<Table1Row> {
    let missing: Vec<bool> = missing.collect();
    let total = missing.iter().filter(|m| **m).count();
    if total == 0 {
        return None;
    }
    let mut cells = vec![total.to_string()];
    cells.extend(names.iter().map(|g| {
        missing
            .iter()
            .zip(group)
            .filter(|(m, gi)| **m && *gi == g)
            .count()
            .to_string()
    }));
    Some(Table1Row {
        label: "Missing".into(),
        level: true,
        cells,
        p: None,
    })
}

/// The table as HTML, with the tests footnoted.
pub fn to_html(table: &Table1) -> String {
    use super::figures::svg::escape;
    let mut tests: Vec<Test> = table.rows.iter().filter_map(|r| r.p.map(|(_, t)| t)).collect();
    tests.sort();
    tests.dedup();
    let mark = |t: Test| tests.iter().position(|x| *x == t).map_or(0, |i| i + 1);
    let mut html = String::from("<table class=\"table1\"><thead><tr><th>Characteristic</th>");
    html.push_str(&format!("<th>Overall<br>N = {}</th>", table.total));
    for (g, n) in &table.groups {
        html.push_str(&format!("<th>{}<br>N = {n}</th>", escape(g)));
    }
    html.push_str("<th>p-value</th></tr></thead><tbody>");
    for row in &table.rows {
        let class = if row.level { " class=\"level\"" } else { "" };
        html.push_str(&format!("<tr{class}><td>{}</td>", escape(&row.label)));
        for cell in &row.cells {
            html.push_str(&format!("<td class=\"num\">{}</td>", escape(cell)));
        }
        match row.p {
            Some((p, test)) => html.push_str(&format!(
                "<td class=\"num\">{}<sup>{}</sup></td>",
                escape(&p_digits(p)),
                mark(test)
            )),
            None => html.push_str("<td></td>"),
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table><p class=\"footnote\">");
    html.push_str(&format!(
        "Grouped by {}; median (IQR) is median (Q1–Q3); n (%) of the non-missing values.",
        escape(&table.by)
    ));
    if table.without_group > 0 {
        html.push_str(&format!(
            " {} rows without a {} value are left out.",
            table.without_group,
            escape(&table.by)
        ));
    }
    for (i, test) in tests.iter().enumerate() {
        html.push_str(&format!("<br><sup>{}</sup> {}", i + 1, test.name()));
    }
    html.push_str("</p>");
    html
}
