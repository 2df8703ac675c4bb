//! Cox proportional-hazards regression with Efron's tie handling.

use statrs::function::erf::erfc;

use super::linalg::{cholesky, cholesky_inverse, cholesky_solve};
use super::{SurvivalError, Z_95, check_times, order_by_time};

/// Newton–Raphson converges quadratically (about 5 iterations); the limit only stops a runaway fit.
const MAX_ITERATIONS: usize = 100;
/// A Newton step that would raise the log-likelihood by less than this, relative to it, is at the
/// maximum to machine precision; the fit takes that step and stops.
const LL_PRECISION: f64 = f64::EPSILON;
/// How much lower than the current point a trial step's log-likelihood may be and still count as
/// no lower: the rounding of a sum over the rows, relative to the log-likelihood.
const LL_ROUNDING: f64 = 1e-12;
/// A converged step longer than this (per standard deviation of a covariate) is a likelihood that
/// keeps rising towards infinity, not a maximum: at a true maximum the last step is ~1e-7.
const FLAT_STEP: f64 = 1e-2;
/// A coefficient per standard deviation this large means the likelihood has no finite maximum.
const DIVERGENCE_LIMIT: f64 = 30.0;
/// Largest standard error of a coefficient per SD of its covariate at a maximum: a fit with more
/// has converged only because the likelihood flattened out towards infinity (the property test
/// found one at 4·10⁷); any real one is a few SDs at most (an HR interval of e^±2000 per SD is
/// none).
const MAX_STANDARD_ERROR: f64 = 1e3;

/// Estimate of one covariate's effect, with its Wald statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxCoefficient {
    /// log hazard ratio per unit of the covariate.
    pub coef: f64,
    /// Hazard ratio exp(coef).
    pub hr: f64,
    /// Standard error of `coef`: √ of the diagonal of the inverse observed information.
    pub se: f64,
    /// Lower 95% bound of the hazard ratio, exp(coef − z·se).
    pub hr_lower: f64,
    /// Upper 95% bound of the hazard ratio, exp(coef + z·se).
    pub hr_upper: f64,
    /// Wald statistic coef / se.
    pub z: f64,
    /// Two-sided Wald p-value 2·(1 − Φ(|z|)).
    pub p: f64,
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxFit {
    /// One entry per covariate, in input order.
    pub coefficients: Vec<CoxCoefficient>,
    /// Efron partial log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Newton–Raphson iterations used.
    pub iterations: usize,
}

/// Fits a Cox proportional-hazards model h(t|x) = h₀(t)·exp(βᵀx) by maximising the partial
/// likelihood with Efron's approximation for tied event times (Efron, JASA 1977; Therneau &
/// Grambsch 2000, §3.3).
///
/// `covariates` holds one column per covariate, each as long as `time`. The estimate is the
/// maximum itself, as R's `survival::coxph` computes it (the reference: it iterates to
/// convergence, where lifelines' default stop is 1e-6 to 4e-4 short): Newton–Raphson from β = 0 on centred and
/// scaled covariates, halving a step that would lower the log-likelihood, until a step would
/// change the log-likelihood by less than its machine precision. Standard errors come from the
/// inverse observed information, CIs and p-values are Wald ones (no penalty). A likelihood without
/// a finite maximum (perfect separation) or a singular information matrix is an error, never a
/// number.
pub fn cox_ph(time: &[f64], event: &[bool], covariates: &[Vec<f64>]) -> Result<CoxFit, SurvivalError> {
    check_times(time, event)?;
    let n = time.len();
    let p = covariates.len();
    if covariates.iter().any(|c| c.len() != n) {
        return Err(SurvivalError::LengthMismatch);
    }
    if let Some(&x) = covariates.iter().flatten().find(|x| !x.is_finite()) {
        return Err(SurvivalError::InvalidCovariate(x));
    }
    if !event.iter().any(|&e| e) {
        return Err(SurvivalError::NoEvents);
    }
    if p == 0 {
        return Ok(CoxFit {
            coefficients: vec![],
            log_likelihood: f64::NAN,
            iterations: 0,
        });
    }
    // Centring and scaling (sample sd, as lifelines) keeps exp(βᵀx) in range.
    let mut scales = Vec::with_capacity(p);
    let order = descending_time_order(time);
    let mut x = vec![0.0; n * p];
    for (j, column) in covariates.iter().enumerate() {
        let mean = column.iter().sum::<f64>() / n as f64;
        let ss = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
        let sd = (ss / (n as f64 - 1.0)).sqrt();
        if sd.is_nan() || sd <= 0.0 {
            return Err(SurvivalError::Singular);
        }
        scales.push(sd);
        for (row, &i) in order.iter().enumerate() {
            x[row * p + j] = (column[i] - mean) / sd;
        }
    }
    let sorted_time: Vec<f64> = order.iter().map(|&i| time[i]).collect();
    let sorted_event: Vec<bool> = order.iter().map(|&i| event[i]).collect();
    let data = Sorted {
        time: &sorted_time,
        event: &sorted_event,
        x: &x,
        p,
    };
    newton_raphson(&data, &scales)
}

/// Newton–Raphson with step halving. At each point the full Newton step δ = I⁻¹g would raise
/// the log-likelihood by about gᵀδ/2; once that is below machine precision (ε·|ℓ|) the fit takes
/// the step (leaving an error of order |δ|², far below 1e-12) and stops there. A step that lowers
/// ℓ is halved until it does not. The likelihood has no finite maximum (an error) when a
/// coefficient passes 30 per standard deviation, or when ℓ is flat to machine precision along a
/// step that is still long.
fn newton_raphson(data: &Sorted, scales: &[f64]) -> Result<CoxFit, SurvivalError> {
    let p = scales.len();
    let mut beta = vec![0.0; p];
    let mut current = data.efron(&beta);
    for iteration in 1..=MAX_ITERATIONS {
        let Some(l) = cholesky(&current.information, p) else {
            return Err(if iteration == 1 {
                SurvivalError::Singular
            } else {
                not_converged(iteration, "information matrix became singular")
            });
        };
        let delta = cholesky_solve(&l, &current.gradient);
        let norm_delta = delta.iter().map(|d| d * d).sum::<f64>().sqrt();
        let gain = current.gradient.iter().zip(&delta).map(|(g, d)| g * d).sum::<f64>() / 2.0;
        let ll = current.log_likelihood;
        let scale = ll.abs().max(1.0);
        let floor = ll - LL_ROUNDING * scale;
        if gain <= LL_PRECISION * scale {
            if norm_delta > FLAT_STEP {
                return Err(not_converged(
                    iteration,
                    "the likelihood has no finite maximum (perfect separation?)",
                ));
            }
            // The last, tiny step; kept unless rounding made it worse.
            let candidate: Vec<f64> = beta.iter().zip(&delta).map(|(b, d)| b + d).collect();
            let last = data.efron(&candidate);
            return if last.log_likelihood.is_finite() && last.log_likelihood >= floor {
                wald(&candidate, scales, &last, iteration)
            } else {
                wald(&beta, scales, &current, iteration - 1)
            };
        }
        if ll.abs() < 1e-4 && norm_delta > 1.0 {
            return Err(not_converged(
                iteration,
                "log-likelihood near 0 with large steps (perfect separation?)",
            ));
        }
        let mut step = 1.0;
        let (candidate, next) = loop {
            let candidate: Vec<f64> = beta.iter().zip(&delta).map(|(b, d)| b + step * d).collect();
            let eval = data.efron(&candidate);
            if eval.log_likelihood.is_finite() && eval.log_likelihood >= floor {
                break (candidate, eval);
            }
            step /= 2.0;
            if step < 1e-10 {
                return Err(not_converged(iteration, "step halving failed"));
            }
        };
        beta = candidate;
        if beta.iter().any(|b| b.abs() > DIVERGENCE_LIMIT) {
            return Err(not_converged(
                iteration,
                "a coefficient is diverging (perfect separation?)",
            ));
        }
        current = next;
    }
    Err(not_converged(MAX_ITERATIONS, "iteration limit reached"))
}

fn not_converged(iterations: usize, reason: &'static str) -> SurvivalError {
    SurvivalError::NotConverged { iterations, reason }
}

/// Rows by descending time, so a single pass grows the risk set.
fn descending_time_order(time: &[f64]) -> Vec<usize> {
    let mut order = order_by_time(time);
    order.reverse();
    order
}

/// Wald statistics on the original covariate scale.
fn wald(beta: &[f64], scales: &[f64], at: &Efron, iterations: usize) -> Result<CoxFit, SurvivalError> {
    let p = beta.len();
    let l = cholesky(&at.information, p).ok_or(SurvivalError::Singular)?;
    let covariance = cholesky_inverse(&l, p);
    if (0..p).any(|j| covariance[j * p + j].sqrt() > MAX_STANDARD_ERROR) {
        return Err(not_converged(
            iterations,
            "the likelihood has no finite maximum: it flattens out as a coefficient grows (perfect separation?)",
        ));
    }
    let coefficients = (0..p)
        .map(|j| {
            let coef = beta[j] / scales[j];
            let se = covariance[j * p + j].sqrt() / scales[j];
            let z = coef / se;
            CoxCoefficient {
                coef,
                hr: coef.exp(),
                se,
                hr_lower: (coef - Z_95 * se).exp(),
                hr_upper: (coef + Z_95 * se).exp(),
                z,
                p: erfc(z.abs() / std::f64::consts::SQRT_2),
            }
        })
        .collect();
    Ok(CoxFit {
        coefficients,
        log_likelihood: at.log_likelihood,
        iterations,
    })
}

/// Rows sorted by descending time with standardized covariates (row-major, `p` per row).
struct Sorted<'a> {
    time: &'a [f64],
    event: &'a [bool],
    x: &'a [f64],
    p: usize,
}

/// Efron log-likelihood, its gradient and the observed information (−Hessian) at some β.
struct Efron {
    log_likelihood: f64,
    gradient: Vec<f64>,
    information: Vec<f64>,
}

impl Sorted<'_> {
    /// Efron partial likelihood: for a time with d tied events, the l-th (l = 0..d−1) term's
    /// denominator is Σ_risk w − (l/d)·Σ_tied w, with w = exp(βᵀx).
    fn efron(&self, beta: &[f64]) -> Efron {
        let p = self.p;
        let mut out = Efron {
            log_likelihood: 0.0,
            gradient: vec![0.0; p],
            information: vec![0.0; p * p],
        };
        // Risk-set sums S0 = Σw, S1 = Σw·x, S2 = Σw·xxᵀ, and the same over the tied events.
        let (mut s0, mut s1, mut s2) = (0.0, vec![0.0; p], vec![0.0; p * p]);
        let (mut e1, mut e2) = (vec![0.0; p], vec![0.0; p * p]);
        let (mut num1, mut num2) = (vec![0.0; p], vec![0.0; p * p]);
        let n = self.time.len();
        let mut start = 0;
        while start < n {
            let t = self.time[start];
            let mut end = start;
            let mut d = 0usize;
            let mut e0 = 0.0;
            e1.iter_mut().for_each(|v| *v = 0.0);
            e2.iter_mut().for_each(|v| *v = 0.0);
            while end < n && self.time[end] == t {
                let xi = &self.x[end * p..(end + 1) * p];
                let eta: f64 = xi.iter().zip(beta).map(|(a, b)| a * b).sum();
                let w = eta.exp();
                s0 += w;
                accumulate(&mut s1, &mut s2, xi, w);
                if self.event[end] {
                    d += 1;
                    e0 += w;
                    accumulate(&mut e1, &mut e2, xi, w);
                    out.log_likelihood += eta;
                    out.gradient.iter_mut().zip(xi).for_each(|(g, v)| *g += v);
                }
                end += 1;
            }
            for l in 0..d {
                let f = l as f64 / d as f64;
                let den = s0 - f * e0;
                out.log_likelihood -= den.ln();
                for a in 0..p {
                    num1[a] = (s1[a] - f * e1[a]) / den;
                    out.gradient[a] -= num1[a];
                }
                for a in 0..p * p {
                    num2[a] = (s2[a] - f * e2[a]) / den;
                }
                for a in 0..p {
                    for b in 0..p {
                        out.information[a * p + b] += num2[a * p + b] - num1[a] * num1[b];
                    }
                }
            }
            start = end;
        }
        out
    }
}

/// Adds w·x to `s1` and w·xxᵀ to `s2`.
fn accumulate(s1: &mut [f64], s2: &mut [f64], x: &[f64], w: f64) {
    let p = x.len();
    for a in 0..p {
        s1[a] += w * x[a];
        for b in 0..p {
            s2[a * p + b] += w * x[a] * x[b];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_separation_is_an_error() {
        // Every high-x subject fails before every low-x subject.
        let time = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let event = [true; 6];
        let x = vec![vec![6.0, 5.0, 4.0, 3.0, 2.0, 1.0]];
        let err = cox_ph(&time, &event, &x).unwrap_err();
        assert!(matches!(err, SurvivalError::NotConverged { .. }), "{err}");
    }

    #[test]
    fn constant_covariate_is_singular() {
        let err = cox_ph(&[1.0, 2.0], &[true, true], &[vec![1.0, 1.0]]).unwrap_err();
        assert_eq!(err, SurvivalError::Singular);
    }

    #[test]
    fn collinear_covariates_are_singular() {
        let time = [1.0, 2.0, 3.0, 4.0];
        let x1 = vec![0.5, 0.1, 0.9, 0.3];
        let x2: Vec<f64> = x1.iter().map(|v| 2.0 * v + 1.0).collect();
        let err = cox_ph(&time, &[true; 4], &[x1, x2]).unwrap_err();
        assert_eq!(err, SurvivalError::Singular);
    }

    #[test]
    fn no_events_is_an_error() {
        let err = cox_ph(&[1.0, 2.0], &[false, false], &[vec![1.0, 2.0]]).unwrap_err();
        assert_eq!(err, SurvivalError::NoEvents);
    }
}
