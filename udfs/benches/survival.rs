//! Times the Kaplan–Meier, log-rank and Cox kernels over 100,000 rows (issue 4: each under
//! 100 ms on one core). `cargo bench -p npcql-udfs --bench survival` (a release build: slow the
//! first time, as it compiles DataFusion optimised).
//!
//! The cohort is synthetic and deterministic: whole-month times 1–60 (so heavily tied), about
//! half censored, three groups, one continuous covariate related to the hazard.

use std::hint::black_box;
use std::time::{Duration, Instant};

use npcql_udfs::survival::{cox_ph, harrell_c, kaplan_meier, logrank_test};

const ROWS: usize = 100_000;

/// A small linear congruential generator: reproducible data without a dependency.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Best of `runs` wall-clock timings of `f`.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let mut rng = Lcg(4);
    let x: Vec<f64> = (0..ROWS).map(|_| rng.uniform() * 4.0 - 2.0).collect();
    let time: Vec<f64> = x
        .iter()
        .map(|xi| {
            let hazard = 0.02 * (0.5 * xi).exp();
            (-rng.uniform().ln() / hazard).ceil().min(60.0)
        })
        .collect();
    let event: Vec<bool> = time.iter().map(|&t| t < 60.0 && rng.uniform() < 0.7).collect();
    let group: Vec<u8> = (0..ROWS).map(|i| (i % 3) as u8).collect();
    let covariates = vec![x.clone()];

    let report = |name: &str, d: Duration| println!("{name:<14} {ROWS} rows  {:>8.2} ms", d.as_secs_f64() * 1e3);
    report(
        "km_curve",
        best_of(5, || {
            black_box(kaplan_meier(&time, &event).unwrap());
        }),
    );
    report(
        "logrank_test",
        best_of(5, || {
            black_box(logrank_test(&time, &event, &group).unwrap());
        }),
    );
    report(
        "cox_ph",
        best_of(5, || {
            black_box(cox_ph(&time, &event, &covariates).unwrap());
        }),
    );
    report(
        "c_index",
        best_of(5, || {
            black_box(harrell_c(&time, &event, &x).unwrap());
        }),
    );
}
