//! Tests of association in contingency tables: Pearson's χ² and Fisher's exact test.

use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::factorial::{ln_binomial, ln_factorial};

/// An r × c table of counts, rows from one categorical variable and columns from another.
#[derive(Debug, Clone, PartialEq)]
pub struct ContingencyTable<T> {
    /// Distinct values of the first variable, sorted.
    pub row_levels: Vec<T>,
    /// Distinct values of the second variable, sorted.
    pub column_levels: Vec<T>,
    /// `counts[r][c]`: rows with the r-th first value and the c-th second value.
    pub counts: Vec<Vec<u64>>,
}

impl<T: Ord + Clone> ContingencyTable<T> {
    /// Cross-tabulates two equally long categorical columns (extra values of the longer are
    /// ignored).
    pub fn from_pairs(a: &[T], b: &[T]) -> Self {
        let levels = |v: &[T]| {
            let mut l = v.to_vec();
            l.sort();
            l.dedup();
            l
        };
        let (row_levels, column_levels) = (levels(a), levels(b));
        let mut counts = vec![vec![0; column_levels.len()]; row_levels.len()];
        for (x, y) in a.iter().zip(b) {
            let r = row_levels.binary_search(x).unwrap_or_default();
            let c = column_levels.binary_search(y).unwrap_or_default();
            counts[r][c] += 1;
        }
        Self {
            row_levels,
            column_levels,
            counts,
        }
    }

    /// The counts as a 2 × 2 array, when the table is 2 × 2.
    pub fn as_2x2(&self) -> Option<[[u64; 2]; 2]> {
        match self.counts.as_slice() {
            [a, b] if a.len() == 2 && b.len() == 2 => Some([[a[0], a[1]], [b[0], b[1]]]),
            _ => None,
        }
    }
}

/// Result of Pearson's χ² test of independence.
#[derive(Debug, Clone, PartialEq)]
pub struct Chi2Result {
    /// Σ (O − E)² / E, Yates-corrected on 2 × 2 tables.
    pub statistic: f64,
    /// (r − 1)(c − 1).
    pub dof: usize,
    /// Upper-tail χ² p-value (1 when dof = 0).
    pub p: f64,
}

/// Pearson's χ² test of independence on an r × c table of counts with no empty row or column.
///
/// E = row total · column total / n; when dof = 1 (a 2 × 2 table) each |O − E| is reduced by
/// min(½, |O − E|) (Yates 1934). As `scipy.stats.chi2_contingency(table)` with its defaults.
/// `None` when a row or column total is 0 (scipy raises).
pub fn chi2_contingency(counts: &[Vec<u64>]) -> Option<Chi2Result> {
    let rows: Vec<f64> = counts.iter().map(|r| r.iter().sum::<u64>() as f64).collect();
    let columns = counts.first().map_or(0, Vec::len);
    let cols: Vec<f64> = (0..columns)
        .map(|c| counts.iter().map(|r| r[c]).sum::<u64>() as f64)
        .collect();
    let n: f64 = rows.iter().sum();
    if rows.iter().chain(&cols).any(|&t| t == 0.0) || counts.iter().any(|r| r.len() != columns) {
        return None;
    }
    let dof = (rows.len().saturating_sub(1)) * (columns.saturating_sub(1));
    if dof == 0 {
        return Some(Chi2Result {
            statistic: 0.0,
            dof,
            p: 1.0,
        });
    }
    let mut statistic = 0.0;
    for (r, row) in counts.iter().enumerate() {
        for (c, &o) in row.iter().enumerate() {
            let e = rows[r] * cols[c] / n;
            let mut diff = (o as f64 - e).abs();
            if dof == 1 {
                diff -= diff.min(0.5);
            }
            statistic += diff * diff / e;
        }
    }
    let p = ChiSquared::new(dof as f64).ok()?.sf(statistic);
    Some(Chi2Result { statistic, dof, p })
}

/// Fisher's exact test on a 2 × 2 table, two-sided.
///
/// With the margins fixed, table[0][0] is hypergeometric; p sums the probabilities of every table
/// no more likely than the observed one (relative tolerance 1e-7, as R's `fisher.test`). As
/// `scipy.stats.fisher_exact(table)`: 1 when a row or column total is 0 or the observed table is
/// the most likely one (Fisher 1935; Agresti 2013, §3.5).
pub fn fisher_exact_2x2(table: [[u64; 2]; 2]) -> f64 {
    let [[a, b], [c, d]] = table;
    let (row1, row2, col1) = (a + b, c + d, a + c);
    if row1 == 0 || row2 == 0 || col1 == 0 || b + d == 0 {
        return 1.0;
    }
    let ln_denominator = ln_binomial(row1 + row2, col1);
    let pmf = |x: u64| (ln_binomial(row1, x) + ln_binomial(row2, col1 - x) - ln_denominator).exp();
    let (low, high) = (col1.saturating_sub(row2), col1.min(row1));
    let observed = pmf(a);
    let mode = ((col1 + 1) * (row1 + 1)) / (row1 + row2 + 2);
    let most_likely = pmf(mode);
    if (observed - most_likely).abs() / observed.max(most_likely) <= 1e-14 {
        return 1.0;
    }
    let threshold = observed * (1.0 + 1e-7);
    let p: f64 = (low..=high).map(pmf).filter(|&q| q <= threshold).sum();
    p.min(1.0)
}

/// Tables a Freeman–Halton test enumerates at most before giving up (a second or so).
pub const MAX_FISHER_TABLES: u64 = 20_000_000;

/// Fisher's exact test on an r × c table (Freeman–Halton), two-sided, as R's `fisher.test`:
/// with the margins fixed, p sums the probabilities of every table no more likely than the
/// observed one (relative tolerance 1e-7). Tables are enumerated outright, which suffices for a
/// clinical cohort's categories; `None` when more than [`MAX_FISHER_TABLES`] tables share the
/// margins (use χ² then), or when the table has no cells.
pub fn fisher_exact_rxc(counts: &[Vec<u64>]) -> Option<f64> {
    let columns = counts.first()?.len();
    if columns == 0 || counts.iter().any(|row| row.len() != columns) {
        return None;
    }
    let row_sums: Vec<u64> = counts.iter().map(|row| row.iter().sum()).collect();
    let col_sums: Vec<u64> = (0..columns).map(|j| counts.iter().map(|row| row[j]).sum()).collect();
    let total: u64 = row_sums.iter().sum();
    // ln P(table) = ln(∏ Rᵢ! ∏ Cⱼ! / N!) − Σ ln nᵢⱼ!
    let constant = row_sums.iter().chain(&col_sums).map(|&n| ln_factorial(n)).sum::<f64>() - ln_factorial(total);
    let observed: f64 = counts.iter().flatten().map(|&n| ln_factorial(n)).sum();
    let threshold = (constant - observed).exp() * (1.0 + 1e-7);
    let mut search = Search {
        row_sums: &row_sums,
        constant,
        threshold,
        p: 0.0,
        tables: 0,
    };
    let mut remaining = col_sums.clone();
    search.row(0, &mut remaining, 0.0).then_some(search.p.min(1.0))
}

/// The enumeration of tables with fixed margins, row by row.
struct Search<'a> {
    row_sums: &'a [u64],
    constant: f64,
    threshold: f64,
    p: f64,
    tables: u64,
}

impl Search<'_> {
    /// Fills row `i` onwards from the column totals still `remaining`; `ln_cells` is Σ ln nᵢⱼ! so
    /// far. `false` once the table limit is passed.
    fn row(&mut self, i: usize, remaining: &mut [u64], ln_cells: f64) -> bool {
        if i + 1 == self.row_sums.len() {
            // The last row is what the columns have left.
            self.tables += 1;
            let ln_last: f64 = remaining.iter().map(|&n| ln_factorial(n)).sum();
            let probability = (self.constant - ln_cells - ln_last).exp();
            if probability <= self.threshold {
                self.p += probability;
            }
            return self.tables <= MAX_FISHER_TABLES;
        }
        self.cell(i, 0, self.row_sums[i], remaining, ln_cells)
    }

    /// Chooses cell (i, j) given `left` of row i's total still to place.
    fn cell(&mut self, i: usize, j: usize, left: u64, remaining: &mut [u64], ln_cells: f64) -> bool {
        if j + 1 == remaining.len() {
            if left > remaining[j] {
                return true;
            }
            remaining[j] -= left;
            let go_on = self.row(i + 1, remaining, ln_cells + ln_factorial(left));
            remaining[j] += left;
            return go_on;
        }
        let after: u64 = remaining[j + 1..].iter().sum();
        for x in left.saturating_sub(after)..=left.min(remaining[j]) {
            remaining[j] -= x;
            let go_on = self.cell(i, j + 1, left - x, remaining, ln_cells + ln_factorial(x));
            remaining[j] += x;
            if !go_on {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// data-sample's T stage (T1–T4) by EBV status (negative, positive); R 4.2.2's
    /// `fisher.test(matrix(c(9, 0, 7, 6, 5, 11, 0, 10), ncol = 2, byrow = TRUE))$p.value`.
    const R_T_STAGE_BY_EBV: f64 = 2.2036386996065487e-05;

    #[test]
    fn freeman_halton_is_fisher_on_2x2_and_matches_r() {
        for table in [[[3, 1], [1, 3]], [[10, 2], [3, 15]], [[0, 5], [4, 1]]] {
            let rxc = fisher_exact_rxc(table.map(|r| r.to_vec()).as_ref()).unwrap();
            let p = fisher_exact_2x2(table);
            assert!((rxc - p).abs() <= 1e-12 * p, "{table:?}: {rxc} vs {p}");
        }
        let p = fisher_exact_rxc(&[vec![9, 0], vec![7, 6], vec![5, 11], vec![0, 10]]).unwrap();
        assert!((p - R_T_STAGE_BY_EBV).abs() <= 1e-9 * R_T_STAGE_BY_EBV, "{p}");
    }

    #[test]
    fn tea_tasting() {
        // Fisher's lady tasting tea: p = 0.4857 two-sided.
        let p = fisher_exact_2x2([[3, 1], [1, 3]]);
        assert!((p - 34.0 / 70.0).abs() < 1e-12, "{p}");
    }

    #[test]
    fn cross_tabulates() {
        let t = ContingencyTable::from_pairs(&["x", "y", "x"], &["1", "1", "2"]);
        assert_eq!(t.counts, vec![vec![1, 1], vec![1, 0]]);
        assert_eq!(t.as_2x2(), Some([[1, 1], [1, 0]]));
    }
}
