#!/usr/bin/env python3
"""Kruskal-Wallis reference values from scipy.stats.kruskal.

Usage (from anywhere): python3 kruskal.py
Writes, next to this file:
  kruskal_cases.csv  case,value,group   (the input data of every case)
  kruskal.csv        case,h,p           (tie-corrected H and its chi-square
                                         p with k-1 df, 15 significant digits)

scipy.stats.kruskal always applies the tie correction
H / (1 - sum(t^3 - t) / (N^3 - N)).
Case "two_groups" is also checked against scipy.stats.mannwhitneyu
(method="asymptotic", use_continuity=False, two-sided): for two groups
the Kruskal-Wallis p equals that Mann-Whitney p and H equals z^2.
Data-sample case: age by t_stage from ../../../data-sample/clinical.csv,
rows with an empty age or t_stage skipped, groups compared as text.
"""
import csv
import math
import os

from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
CLINICAL = os.path.join(HERE, "..", "..", "..", "data-sample", "clinical.csv")


def g15(x):
    return "%.15g" % x


def data_sample_case():
    rows = []
    with open(CLINICAL, newline="") as f:
        for r in csv.DictReader(f):
            if r["age"].strip() == "" or r["t_stage"].strip() == "":
                continue
            rows.append((r["age"].strip(), r["t_stage"].strip()))
    return rows


# Each case: list of (value_as_text, group). Values are parsed with float().
CASES = {
    # three groups, many ties within and across groups
    "three_groups_ties": [(v, "g1") for v in "1 2 2 3 3 3 5".split()]
    + [(v, "g2") for v in "2 3 3 4 5 5 5 6".split()]
    + [(v, "g3") for v in "3 5 6 6 7 7 8 8 9".split()],
    # four groups of unequal sizes (3, 5, 7, 10), a few ties
    "four_groups_unequal": [(v, "A") for v in "2.1 3.4 1.8".split()]
    + [(v, "B") for v in "4.2 3.4 5.0 6.1 2.9".split()]
    + [(v, "C") for v in "7.3 5.0 6.6 8.1 4.4 9.0 6.1".split()]
    + [(v, "D") for v in "1.2 0.5 3.3 2.2 4.8 0.9 2.1 1.7 3.9 5.5".split()],
    # two groups (KW == Mann-Whitney without continuity correction)
    "two_groups": [(v, "p") for v in "12 15 15 18 21 22 30".split()]
    + [(v, "q") for v in "9 11 12 14 15 16 17 20".split()],
    "data_sample_age_by_t_stage": data_sample_case(),
}


def groups_of(rows):
    order, by = [], {}
    for v, g in rows:
        if g not in by:
            by[g] = []
            order.append(g)
        by[g].append(float(v))
    return [by[g] for g in sorted(order)], sorted(order)


def main():
    results = []
    for name, rows in CASES.items():
        groups, labels = groups_of(rows)
        res = stats.kruskal(*groups)
        results.append((name, res.statistic, res.pvalue))
        print(f"{name}: groups={labels} sizes={[len(g) for g in groups]} "
              f"H={g15(res.statistic)} p={g15(res.pvalue)}")
        if name == "two_groups":
            mw = stats.mannwhitneyu(groups[0], groups[1], method="asymptotic",
                                    use_continuity=False,
                                    alternative="two-sided")
            z = stats.norm.isf(mw.pvalue / 2)
            print(f"  mann-whitney U={mw.statistic} p={g15(mw.pvalue)} "
                  f"z^2={g15(z * z)}")
            assert math.isclose(mw.pvalue, res.pvalue, rel_tol=1e-9)
            assert math.isclose(z * z, res.statistic, rel_tol=1e-9)

    with open(os.path.join(HERE, "kruskal_cases.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "value", "group"])
        for name, rows in CASES.items():
            for v, g in rows:
                w.writerow([name, v, g])
    with open(os.path.join(HERE, "kruskal.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "h", "p"])
        for name, h, p in results:
            w.writerow([name, g15(h), g15(p)])
    print("wrote kruskal_cases.csv, kruskal.csv")


if __name__ == "__main__":
    main()
