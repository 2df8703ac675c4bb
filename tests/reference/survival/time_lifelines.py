"""Times lifelines/scipy on the cohort of udfs/benches/survival.rs (same generator, same
100,000 rows), so the Rust figures can be read as ratios against the Python chain.

Run: /root/venv-stats/bin/python tests/reference/survival/time_lifelines.py
"""
import math
import time

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import concordance_index

ROWS = 100_000
MASK = (1 << 64) - 1


class Lcg:
    """The bench's linear congruential generator, bit for bit."""

    def __init__(self, seed):
        self.state = seed

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.state >> 11) / float(1 << 53)


def cohort():
    rng = Lcg(4)
    x = [rng.uniform() * 4.0 - 2.0 for _ in range(ROWS)]
    times = []
    for xi in x:
        hazard = 0.02 * math.exp(0.5 * xi)
        times.append(min(math.ceil(-math.log(rng.uniform()) / hazard), 60.0))
    events = [t < 60.0 and rng.uniform() < 0.7 for t in times]
    group = [i % 3 for i in range(ROWS)]
    return pd.DataFrame({"time": times, "event": events, "x": x, "group": group})


def best_of(runs, f):
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main():
    df = cohort()
    timings = {
        "km_curve": best_of(5, lambda: KaplanMeierFitter().fit(df["time"], df["event"])),
        "logrank_test": best_of(5, lambda: multivariate_logrank_test(df["time"], df["group"], df["event"])),
        "cox_ph": best_of(3, lambda: CoxPHFitter().fit(df[["time", "event", "x"]], "time", "event")),
        "c_index": best_of(3, lambda: concordance_index(df["time"], -df["x"], df["event"])),
    }
    for name, ms in timings.items():
        print(f"{name:<14} {ROWS} rows  {ms:8.2f} ms  (lifelines)")


if __name__ == "__main__":
    main()
