"""Reference numbers for npcql's survival and statistics kernels.

Builds small cohorts that exercise the awkward cases (tied times, heavy censoring, a group with
no events, a single-row group, S reaching exactly 0.5 and 0) plus a realistic 200-row cohort,
writes each as `<name>.csv`, and writes what lifelines 0.30 and scipy compute on them to
`reference.json`. The Rust tests in `udfs/src/survival/tests.rs` and `udfs/src/stats/tests.rs`
read both; `make_slt.py` turns them into `tests/slt/survival.slt` and `tests/slt/stats.slt`.

    python3 -m venv /root/venv-stats && /root/venv-stats/bin/pip install lifelines==0.30.0 scipy pandas
    /root/venv-stats/bin/python tests/reference/survival/make_reference.py
"""

import json
import warnings
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
import scipy
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceWarning
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import concordance_index
from scipy import stats

HERE = Path(__file__).resolve().parent
warnings.simplefilter("error", ConvergenceWarning)  # a fit that did not converge is no reference
warnings.filterwarnings("ignore", module="pandas")


def cohort_tied():
    """40 rows, whole-month times with many ties, two groups, moderate censoring."""
    rng = np.random.RandomState(1)
    n = 40
    group = np.where(np.arange(n) % 2 == 0, "a", "b")
    x1 = rng.normal(0, 1, n) + (group == "b") * 0.8
    time = np.ceil(rng.exponential(12 * np.exp(-0.5 * x1))).clip(1, 24)
    event = (rng.uniform(size=n) < 0.7).astype(int)
    return time, event, group, x1


def cohort_heavy_censoring():
    """90 rows, three groups, about 80% censored, ties at half-months."""
    rng = np.random.RandomState(2)
    n = 90
    group = np.array(["low", "mid", "high"])[np.arange(n) % 3]
    x1 = rng.gamma(2.0, 1.5, n) + (group == "high") * 1.0
    time = np.round(rng.uniform(0.5, 36, n) * 2) / 2
    event = (rng.uniform(size=n) < 0.2 + 0.05 * (group == "high")).astype(int)
    return time, event, group, x1


def cohort_no_event_group():
    """45 rows, three groups, group 'c' has no events at all."""
    rng = np.random.RandomState(3)
    n = 45
    group = np.array(["a", "b", "c"])[np.arange(n) % 3]
    x1 = rng.normal(5, 2, n)
    time = np.ceil(rng.uniform(1, 30, n))
    event = ((rng.uniform(size=n) < 0.6) & (group != "c")).astype(int)
    return time, event, group, x1


def cohort_single_row_group():
    """31 rows: two groups of 15 and a group 'z' holding one row."""
    rng = np.random.RandomState(4)
    n = 31
    group = np.where(np.arange(n) < 15, "x", "y")
    group[-1] = "z"
    x1 = rng.normal(0, 1, n)
    time = np.ceil(rng.exponential(10, n))
    event = (rng.uniform(size=n) < 0.65).astype(int)
    time[-1], event[-1] = 7.0, 1
    return time, event, group, x1


def cohort_halves():
    """8 rows built so S is exactly 0.5 on [4, 6) and reaches 0 at the last time (CI [0, 0])."""
    time = np.array([1, 2, 3, 4, 5, 6, 7, 7], dtype=float)
    event = np.array([1, 1, 1, 1, 0, 1, 1, 1])
    group = np.array(["p", "q", "p", "q", "p", "q", "p", "q"])
    x1 = np.array([0.3, -1.2, 2.5, 0.1, -0.4, 1.7, 0.9, -0.8])
    return time, event, group, x1


def cohort_realistic():
    """200 patients like the NPC cohort: EBV status, tumour volume, age, 5-year PFS in months."""
    rng = np.random.RandomState(2404)
    n = 200
    ebv = np.where(rng.uniform(size=n) < 0.6, "positive", "negative")
    volume_cm3 = np.exp(rng.normal(3.0, 0.7, n)) * np.where(ebv == "positive", 1.25, 1.0)
    age = np.round(rng.normal(48, 11, n))
    hazard = 0.012 * np.exp(0.5 * np.log(volume_cm3 / 20) + 0.015 * (age - 48))
    t_event = rng.exponential(1 / hazard)
    t_censor = np.minimum(rng.uniform(24, 80, n), 60)
    time = np.ceil(np.minimum(t_event, t_censor))
    event = (t_event <= t_censor).astype(int)
    return time, event, ebv, volume_cm3, age


def frame(name):
    builders = {
        "tied": cohort_tied,
        "heavy_censoring": cohort_heavy_censoring,
        "no_event_group": cohort_no_event_group,
        "single_row_group": cohort_single_row_group,
        "halves": cohort_halves,
        "realistic": cohort_realistic,
    }
    parts = builders[name]()
    time, event, group, x1 = parts[:4]
    rng = np.random.RandomState(len(name))
    x2 = parts[4] if len(parts) > 4 else np.round(rng.normal(50, 10, len(time)))
    df = pd.DataFrame({"time": time, "event": event, "group": group, "x1": x1, "x2": x2})
    # Two binary categorical columns for the contingency tests.
    df["cat_a"] = np.where(df["x1"] > df["x1"].median(), "high", "low")
    df["cat_b"] = np.where(df["event"] == 1, "event", "censored")
    return df


def km(time, event):
    kmf = KaplanMeierFitter().fit(time, event)
    table = kmf.event_table
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    curve = {
        "time": list(map(float, table.index)),
        "at_risk": list(map(int, table["at_risk"])),
        "events": list(map(int, table["observed"])),
        "censored": list(map(int, table["censored"])),
        "survival": list(map(float, sf)),
        "ci_lower": list(map(float, ci.iloc[:, 0])),
        "ci_upper": list(map(float, ci.iloc[:, 1])),
    }
    median = float(kmf.median_survival_time_)
    probe = [0.0, 0.5, 3.0, 7.5, 12.0, 24.0, 60.0, 1000.0]
    at = kmf.predict(probe)
    return {
        "curve": curve,
        "median": None if np.isinf(median) else median,
        "survival_at": {"t": probe, "s": list(map(float, at))},
    }


def cox(df, covariates):
    cph = CoxPHFitter().fit(df[["time", "event", *covariates]], "time", "event")
    s = cph.summary
    return {
        "covariates": covariates,
        "log_likelihood": float(cph.log_likelihood_),
        "coef": list(map(float, s["coef"])),
        "hr": list(map(float, s["exp(coef)"])),
        "se": list(map(float, s["se(coef)"])),
        "hr_lower": list(map(float, s["exp(coef) lower 95%"])),
        "hr_upper": list(map(float, s["exp(coef) upper 95%"])),
        "z": list(map(float, s["z"])),
        "p": list(map(float, s["p"])),
    }


def group_tests(df):
    levels = sorted(df["group"].unique())
    a = df.loc[df["group"] == levels[0], "x1"].to_numpy()
    b = df.loc[df["group"] == levels[1], "x1"].to_numpy()
    mw = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    welch = stats.ttest_ind(a, b, equal_var=False)
    return {
        "groups": levels[:2],
        "mann_whitney_u": float(mw.statistic),
        "mann_whitney_p": float(mw.pvalue),
        "welch_t": float(welch.statistic),
        "welch_df": float(welch.df),
        "welch_p": float(welch.pvalue),
    }


def cohort_reference(name):
    df = frame(name)
    df.to_csv(HERE / f"{name}.csv", index=False, float_format="%.17g")
    lr = multivariate_logrank_test(df["time"], df["group"], df["event"])
    table = pd.crosstab(df["cat_a"], df["cat_b"]).to_numpy()
    chi2 = stats.chi2_contingency(table)
    out = {
        "n": len(df),
        "km_all": km(df["time"], df["event"]),
        "km_by_group": {g: km(d["time"], d["event"]) for g, d in df.groupby("group")},
        "logrank": {"chi2": float(lr.test_statistic), "df": int(lr.degrees_of_freedom), "p": float(lr.p_value)},
        "cox_x1": cox(df, ["x1"]),
        "cox_x1_x2": cox(df, ["x1", "x2"]),
        # lifelines expects a score where higher = longer survival, so the risk is negated.
        "c_index_x1": float(concordance_index(df["time"], -df["x1"], df["event"])),
        "c_index_x2": float(concordance_index(df["time"], -df["x2"], df["event"])),
        "chi2_cat": {"statistic": float(chi2.statistic), "dof": int(chi2.dof), "p": float(chi2.pvalue)},
        "fisher_cat_p": float(stats.fisher_exact(table).pvalue),
        "spearman_x1_x2": float(stats.spearmanr(df["x1"], df["x2"]).statistic),
        "spearman_time_x1": float(stats.spearmanr(df["time"], df["x1"]).statistic),
    }
    if df["group"].nunique() >= 2:
        out["two_group"] = group_tests(df)
    return out


def tables_reference():
    """Contingency tables chosen for the edge cases: zeros, symmetry, r × c, large counts."""
    tables = [
        [[3, 1], [1, 3]],
        [[8, 2], [1, 5]],
        [[0, 5], [6, 2]],
        [[10, 10], [10, 10]],
        [[1, 9], [11, 3]],
        [[5, 0], [0, 5]],
        [[20, 15], [15, 20]],
        [[2, 7], [8, 2]],
        [[120, 80], [60, 140]],
        [[0, 12], [1, 13]],
    ]
    out = []
    for t in tables:
        chi2 = stats.chi2_contingency(t)
        out.append({"table": t, "chi2": float(chi2.statistic), "chi2_p": float(chi2.pvalue),
                    "fisher_p": float(stats.fisher_exact(t).pvalue)})
    for t in ([[10, 20, 30], [20, 15, 5]], [[4, 1], [2, 6], [7, 3]], [[12, 5, 9, 4], [3, 8, 2, 10], [6, 6, 6, 1]]):
        chi2 = stats.chi2_contingency(t)
        out.append({"table": t, "chi2": float(chi2.statistic), "chi2_p": float(chi2.pvalue), "dof": int(chi2.dof)})
    return out


def samples_reference():
    """Two-sample tests on hand-made samples with ties and unequal sizes."""
    pairs = [
        ([1, 2, 2, 3, 5, 5, 5, 8], [2, 4, 4, 6, 7, 9]),
        ([0.5, 1.5, 2.5], [10.0, 11.0, 12.0, 13.0]),
        ([3, 3, 3, 4], [3, 3, 5, 5, 5]),
        (list(np.round(np.random.RandomState(7).normal(10, 3, 30), 1)),
         list(np.round(np.random.RandomState(8).normal(12, 5, 25), 1))),
    ]
    out = []
    for a, b in pairs:
        mw = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
        welch = stats.ttest_ind(a, b, equal_var=False)
        rho = stats.spearmanr(a[: min(len(a), len(b))], b[: min(len(a), len(b))]).statistic
        out.append({"a": list(map(float, a)), "b": list(map(float, b)), "mann_whitney_p": float(mw.pvalue),
                    "mann_whitney_u": float(mw.statistic), "welch_t": float(welch.statistic),
                    "welch_p": float(welch.pvalue), "spearman_prefix": float(rho)})
    return out


def main():
    names = ["tied", "heavy_censoring", "no_event_group", "single_row_group", "halves", "realistic"]
    reference = {
        "versions": {"lifelines": lifelines.__version__, "scipy": scipy.__version__,
                     "numpy": np.__version__, "pandas": pd.__version__},
        "cohorts": {name: cohort_reference(name) for name in names},
        "tables": tables_reference(),
        "samples": samples_reference(),
    }
    with open(HERE / "reference.json", "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
