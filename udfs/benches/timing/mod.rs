//! What the benchmarks share: a median of repeated wall-clock timings.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Median wall time of `runs` calls.
pub fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}
