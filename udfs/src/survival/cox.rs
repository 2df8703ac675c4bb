//! Cox proportional-hazards regression with Efron's tie handling.

use statrs::function::erf::erfc;

use super::linalg::{cholesky, cholesky_inverse, cholesky_solve};
use super::{SurvivalError, Z_95, check_times, order_by_time};

/// lifelines' Newton–Raphson settings (`CoxPHFitter.fit` defaults), followed so the iterates and
/// the stopping point match it: stopping 1e-7 short of the optimum moves the estimate by ~1e-6.
const MAX_ITERATIONS: usize = 500;
const PRECISION: f64 = 1e-7;
const RELATIVE_PRECISION: f64 = 1e-9;
const INITIAL_STEP: f64 = 0.95;
/// A coefficient per standard deviation this large means the likelihood has no finite maximum.
const DIVERGENCE_LIMIT: f64 = 30.0;

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
/// `covariates` holds one column per covariate, each as long as `time`. Newton–Raphson from β = 0
/// on centred and scaled covariates with lifelines' step sizes and stopping rules (so the numbers
/// match lifelines, whose estimate stops ~1e-7 short of the exact optimum), halving a step that
/// would lower the log-likelihood. Standard errors come from the inverse observed information,
/// CIs and p-values are Wald ones, as lifelines' `CoxPHFitter` (no penalty). A likelihood without
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

/// lifelines' damped Newton–Raphson (`_newton_raphson_for_efron_model`), plus step halving when
/// a step would lower the likelihood. Stops when ‖Δ‖ < 1e-7, the relative log-likelihood change
/// is below 1e-9, or the Newton decrement gᵀΔ/2 is below 1e-7; the estimate is the last point
/// evaluated, and a step still larger than 0.1 there means the maximum is at infinity.
fn newton_raphson(data: &Sorted, scales: &[f64]) -> Result<CoxFit, SurvivalError> {
    let p = scales.len();
    let mut beta = vec![0.0; p];
    let mut delta = vec![0.0; p];
    let mut step_sizer = StepSizer::new(INITIAL_STEP);
    let mut previous: Option<Efron> = None;
    for iteration in 1..=MAX_ITERATIONS {
        let mut step = step_sizer.step;
        let (candidate, current) = loop {
            let candidate: Vec<f64> = beta.iter().zip(&delta).map(|(b, d)| b + step * d).collect();
            let eval = data.efron(&candidate);
            let floor = previous
                .as_ref()
                .map_or(f64::NEG_INFINITY, |e| e.log_likelihood - 1e-12 * e.log_likelihood.abs());
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
        let Some(l) = cholesky(&current.information, p) else {
            return Err(if iteration == 1 {
                SurvivalError::Singular
            } else {
                not_converged(iteration, "information matrix became singular")
            });
        };
        delta = cholesky_solve(&l, &current.gradient);
        let norm_delta = delta.iter().map(|d| d * d).sum::<f64>().sqrt();
        let decrement = current.gradient.iter().zip(&delta).map(|(g, d)| g * d).sum::<f64>() / 2.0;
        let ll = current.log_likelihood;
        let relative_change = previous
            .as_ref()
            .filter(|e| e.log_likelihood != 0.0)
            .map_or(f64::INFINITY, |e| (ll - e.log_likelihood).abs() / -e.log_likelihood);
        if norm_delta < PRECISION || relative_change < RELATIVE_PRECISION || decrement < PRECISION {
            if norm_delta > 0.1 {
                return Err(not_converged(
                    iteration,
                    "the likelihood has no finite maximum (perfect separation?)",
                ));
            }
            return wald(&beta, scales, &current, iteration);
        }
        if ll.abs() < 1e-4 && norm_delta > 1.0 {
            return Err(not_converged(
                iteration,
                "log-likelihood near 0 with large steps (perfect separation?)",
            ));
        }
        step_sizer.update(norm_delta);
        if step_sizer.step <= 1e-5 {
            return Err(not_converged(iteration, "step size collapsed"));
        }
        previous = Some(current);
    }
    Err(not_converged(MAX_ITERATIONS, "iteration limit reached"))
}

/// lifelines' `utils.StepSizer`: shrink the step after large Newton steps, grow it back while the
/// step norms keep falling.
struct StepSizer {
    initial: f64,
    step: f64,
    temper_back_up: bool,
    norms: Vec<f64>,
}

impl StepSizer {
    fn new(initial: f64) -> Self {
        Self {
            initial,
            step: initial,
            temper_back_up: false,
            norms: Vec::new(),
        }
    }

    fn update(&mut self, norm_delta: f64) {
        self.norms.push(norm_delta);
        if self.temper_back_up {
            self.step = (self.step * 1.3).min(self.initial);
        }
        if norm_delta >= 15.0 {
            self.step *= 0.1;
            self.temper_back_up = true;
        } else if norm_delta > 5.0 {
            self.step *= 0.25;
            self.temper_back_up = true;
        }
        if let [.., a, b, c] = self.norms[..] {
            if b < a && c < b {
                self.step = (self.step * 1.3).min(1.0);
            } else {
                self.step *= 0.98;
            }
        }
    }
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
