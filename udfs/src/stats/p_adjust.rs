//! Adjusting p-values for multiple comparisons, as R's `p.adjust`.
//!
//! Each method is R 4.2's `stats/R/p.adjust.R` step for step: the same orderings, the same
//! running maxima/minima and the same arithmetic order, so results agree with R to the last few
//! bits (`tests/reference/p_adjust/`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A method of R's `p.adjust` (`p.adjust.methods`; `fdr` is an alias of `BH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PAdjustMethod {
    /// Holm 1979, step-down family-wise error control.
    Holm,
    /// Hochberg 1988, step-up family-wise error control (independent or positively dependent tests).
    Hochberg,
    /// Hommel 1988, family-wise error control, more powerful than Hochberg's (O(n²) in time).
    Hommel,
    /// Bonferroni: n·p.
    Bonferroni,
    /// Benjamini & Hochberg 1995, false discovery rate (R's `BH` and `fdr`).
    BenjaminiHochberg,
    /// Benjamini & Yekutieli 2001, false discovery rate under any dependence.
    BenjaminiYekutieli,
    /// No adjustment.
    None,
}

impl PAdjustMethod {
    /// The names R accepts, with R's spelling and case.
    pub const NAMES: [&'static str; 8] = ["holm", "hochberg", "hommel", "bonferroni", "BH", "BY", "fdr", "none"];
}

impl FromStr for PAdjustMethod {
    type Err = PAdjustError;

    /// A method by its R name, case-sensitive as in R (R's partial matching is not taken up).
    fn from_str(name: &str) -> Result<Self, PAdjustError> {
        Ok(match name {
            "holm" => Self::Holm,
            "hochberg" => Self::Hochberg,
            "hommel" => Self::Hommel,
            "bonferroni" => Self::Bonferroni,
            "BH" | "fdr" => Self::BenjaminiHochberg,
            "BY" => Self::BenjaminiYekutieli,
            "none" => Self::None,
            _ => return Err(PAdjustError::UnknownMethod(name.to_string())),
        })
    }
}

/// Why p-values cannot be adjusted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PAdjustError {
    /// A method name that is none of [`PAdjustMethod::NAMES`].
    UnknownMethod(String),
    /// A p-value outside [0, 1], or NaN (R would adjust it anyway, or treat NaN as NA).
    NotAProbability(f64),
}

impl fmt::Display for PAdjustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownMethod(name) => {
                let names: Vec<String> = PAdjustMethod::NAMES.iter().map(|n| format!("'{n}'")).collect();
                write!(
                    f,
                    "unknown method '{name}'; the methods are {} (R's p.adjust.methods, case-sensitive)",
                    names.join(", ")
                )
            }
            Self::NotAProbability(p) => write!(f, "p = {p} is not a probability in [0, 1]"),
        }
    }
}

impl std::error::Error for PAdjustError {}

/// `p` adjusted by `method`, as R's `p.adjust(p, method)`: a `None` (R's NA) stays `None` and is
/// not counted in n, the number of tests.
///
/// Unlike R, a value outside [0, 1] or NaN is an error rather than a result.
pub fn p_adjust(p: &[Option<f64>], method: PAdjustMethod) -> Result<Vec<Option<f64>>, PAdjustError> {
    if let Some(&bad) = p.iter().flatten().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(PAdjustError::NotAProbability(bad));
    }
    let present: Vec<f64> = p.iter().flatten().copied().collect();
    let mut adjusted = adjust(&present, method).into_iter();
    Ok(p.iter().map(|v| v.and_then(|_| adjusted.next())).collect())
}

/// `p.adjust` over n = `p.len()` valid p-values.
fn adjust(p: &[f64], method: PAdjustMethod) -> Vec<f64> {
    let n = p.len();
    if n <= 1 {
        return p.to_vec();
    }
    // As R: with two tests Hommel's procedure is Hochberg's.
    let method = if n == 2 && method == PAdjustMethod::Hommel {
        PAdjustMethod::Hochberg
    } else {
        method
    };
    let nf = n as f64;
    match method {
        PAdjustMethod::None => p.to_vec(),
        PAdjustMethod::Bonferroni => p.iter().map(|&v| (nf * v).min(1.0)).collect(),
        // pmin(1, cummax((n + 1 - i) * p[o]))[ro], o = order(p)
        PAdjustMethod::Holm => {
            let mut out = vec![0.0; n];
            let mut running = f64::NEG_INFINITY;
            for (k, &at) in order(p, false).iter().enumerate() {
                running = running.max((n - k) as f64 * p[at]);
                out[at] = running.min(1.0);
            }
            out
        }
        PAdjustMethod::Hochberg => step_up(p, |i| (n + 1 - i) as f64),
        PAdjustMethod::BenjaminiHochberg => step_up(p, |i| nf / i as f64),
        PAdjustMethod::BenjaminiYekutieli => {
            let q: f64 = (1..=n).map(|j| 1.0 / j as f64).sum();
            step_up(p, |i| q * nf / i as f64)
        }
        PAdjustMethod::Hommel => hommel(p),
    }
}

/// pmin(1, cummin(factor(i) * p[o]))[ro] with o = order(p, decreasing = TRUE), i = n..1: the
/// shape shared by Hochberg, BH and BY (`factor` keeps R's order of operations).
fn step_up(p: &[f64], factor: impl Fn(usize) -> f64) -> Vec<f64> {
    let n = p.len();
    let mut out = vec![0.0; n];
    let mut running = f64::INFINITY;
    for (k, &at) in order(p, true).iter().enumerate() {
        running = running.min(factor(n - k) * p[at]);
        out[at] = running.min(1.0);
    }
    out
}

/// Hommel's procedure, R's loop transcribed with 0-based indices over the sorted p-values.
fn hommel(p: &[f64]) -> Vec<f64> {
    let n = p.len();
    let o = order(p, false);
    let s: Vec<f64> = o.iter().map(|&at| p[at]).collect();
    let nf = n as f64;
    // q <- pa <- rep.int(min(n * p / i), n)
    let start = s
        .iter()
        .enumerate()
        .map(|(k, &v)| nf * v / (k + 1) as f64)
        .fold(f64::INFINITY, f64::min);
    let mut q = vec![start; n];
    let mut pa = vec![start; n];
    for j in (2..n).rev() {
        let jf = j as f64;
        // i2 = (n - j + 2):n in R, q1 = min(j * p[i2] / (2:j))
        let q1 = s[n - j + 1..]
            .iter()
            .enumerate()
            .map(|(k, &v)| jf * v / (k + 2) as f64)
            .fold(f64::INFINITY, f64::min);
        // ij = 1:(n - j + 1) in R
        for k in 0..=n - j {
            q[k] = (jf * s[k]).min(q1);
        }
        let last = q[n - j];
        for value in &mut q[n - j + 1..] {
            *value = last;
        }
        for (a, &b) in pa.iter_mut().zip(&q) {
            *a = a.max(b);
        }
    }
    let mut out = vec![0.0; n];
    for (k, &at) in o.iter().enumerate() {
        out[at] = pa[k].max(s[k]);
    }
    out
}

/// R's `order(p)` (or `decreasing = TRUE`): indices sorted by value, ties in input order.
fn order(p: &[f64], decreasing: bool) -> Vec<usize> {
    let mut o: Vec<usize> = (0..p.len()).collect();
    let by_value = |a: &usize, b: &usize| p[*a].partial_cmp(&p[*b]).unwrap_or(Ordering::Equal);
    if decreasing {
        o.sort_by(|a, b| by_value(b, a));
    } else {
        o.sort_by(by_value);
    }
    o
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The p-values of one case and R's adjustment of them (`None` for NA).
    type Case = (Vec<Option<f64>>, Vec<Option<f64>>);

    /// (case, method) → case, from `tests/reference/p_adjust/cases.csv`.
    fn reference() -> BTreeMap<(String, String), Case> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/reference/p_adjust/cases.csv");
        let text = std::fs::read_to_string(path).unwrap();
        let cell = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
        let mut cases: BTreeMap<_, Case> = BTreeMap::new();
        for line in text.lines().skip(1) {
            let [case, method, _, p, adjusted] = line.split(',').collect::<Vec<_>>()[..] else {
                panic!("bad line {line}");
            };
            let entry = cases.entry((case.to_string(), method.to_string())).or_default();
            entry.0.push(cell(p));
            entry.1.push(cell(adjusted));
        }
        cases
    }

    #[test]
    fn agrees_with_r() {
        let cases = reference();
        assert_eq!(cases.len(), 11 * PAdjustMethod::NAMES.len());
        let mut worst: f64 = 0.0;
        for ((case, method), (p, expected)) in &cases {
            let actual = p_adjust(p, method.parse().unwrap()).unwrap();
            assert_eq!(actual.len(), expected.len());
            for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
                let what = format!("{case} {method} [{}]", i + 1);
                match (a, e) {
                    (Some(a), Some(e)) => {
                        let diff = (a - e).abs();
                        assert!(diff <= 1e-12 * e.abs(), "{what}: got {a}, R gives {e}");
                        if *e != 0.0 {
                            worst = worst.max(diff / e.abs());
                        }
                    }
                    (None, None) => {}
                    _ => panic!("{what}: got {a:?}, R gives {e:?}"),
                }
            }
        }
        eprintln!("p_adjust: worst relative error against R {worst:.1e}");
    }

    #[test]
    fn ties_and_input_order_do_not_change_results() {
        let p = [0.02, 0.01, 0.02, 0.04, 0.01, 0.02, 0.5, 0.04];
        let reversed: Vec<Option<f64>> = p.iter().rev().map(|&v| Some(v)).collect();
        let forward: Vec<Option<f64>> = p.iter().map(|&v| Some(v)).collect();
        for name in PAdjustMethod::NAMES {
            let method = name.parse().unwrap();
            let mut back = p_adjust(&reversed, method).unwrap();
            back.reverse();
            assert_eq!(p_adjust(&forward, method).unwrap(), back, "{name}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_probability() {
        for bad in [1.5, -0.1, f64::NAN] {
            let err = p_adjust(&[Some(0.1), Some(bad)], PAdjustMethod::BenjaminiHochberg).unwrap_err();
            assert!(err.to_string().contains(&format!("p = {bad}")), "{err}");
        }
        let err = "bh".parse::<PAdjustMethod>().unwrap_err().to_string();
        assert!(
            err.contains("'bh'") && err.contains("'BH'") && err.contains("'hommel'"),
            "{err}"
        );
    }
}
