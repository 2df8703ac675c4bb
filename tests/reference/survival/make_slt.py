"""Writes tests/slt/survival.slt and tests/slt/stats.slt from reference.json and the cohort CSVs.

The expected cells are the lifelines / scipy numbers rounded to 9 significant digits, as the slt
runner prints floats. Run after make_reference.py:

    python3 tests/reference/survival/make_slt.py
"""

import csv
import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLT = HERE.parent.parent / "slt"
R = json.load(open(HERE / "reference.json"))
D = str(HERE) + "/"
C = R["cohorts"]


def r_cox(cohort, model):
    """R's coxph fit iterated to machine precision (cox_r_reference.csv, cox_reference.R), in
    the reference.json layout: one list per field, one entry per covariate of `model`."""
    rows = [r for r in csv.DictReader(open(D + "cox_r_reference.csv"))
            if r["cohort"] == cohort and r["model"] == model and r["control"] == "eps=1e-14"]
    order = model.split("+")
    rows.sort(key=lambda r: order.index(r["term"]))
    return {k: [float(r[k]) for r in rows] for k in ["coef", "hr", "se", "hr_lower", "hr_upper", "z", "p"]}


def r9(v):
    """A cell as the runner prints it: floats to 9 significant digits, NULL for None."""
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    if v == 0:
        return "0"
    dec = max(0, 9 - 1 - math.floor(math.log10(abs(v))))
    t = f"{v:.{dec}f}"
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return "0" if t == "-0" else t


def query(types, sql, rows, comment=None, sort=False):
    out = f"# {comment}\n" if comment else ""
    out += f"query {types}{' rowsort' if sort else ''}\n{sql}\n----\n"
    return out + "\n".join(" ".join(v if isinstance(v, str) else r9(v) for v in row) for row in rows) + "\n"


def err(sql, msg, comment=None):
    out = f"# {comment}\n" if comment else ""
    return out + f"statement error {msg}\n{sql}\n"


def chunk(vals, k=6):
    return ",\n  ".join(", ".join(vals[i : i + k]) for i in range(0, len(vals), k))

def table(name, tab):
    rows = list(csv.DictReader(open(D + name + '.csv')))
    vals = [f"({float(r['time'])!r}, {r['event']}, '{r['group']}', {float(r['x1'])!r}, {float(r['x2'])!r})" for r in rows]
    body = ',\n  '.join(', '.join(vals[i:i+3]) for i in range(0, len(vals), 3))
    return (f"statement ok\nCREATE TABLE {tab} AS SELECT column1 AS time, column2 AS event, column3 AS grp,\n"
            f"  column4 AS x1, column5 AS x2 FROM (VALUES\n  {body})\n")


# ---- tests/slt/survival.slt
parts = ["""# Survival aggregates (km_*, logrank_test, cox_ph, c_index) over inline cohorts copied from
# tests/reference/survival/*.csv. Expected numbers are lifelines 0.30's (reference.json), rounded to
# 9 significant digits, except Cox: R's coxph at the maximum (cox_r_reference.csv), which lifelines
# stops short of. Structs are read with ['field'].
"""]
for name, tab in [('halves','surv_halves'), ('tied','surv_tied'), ('no_event_group','surv_no_events'), ('single_row_group','surv_single'),
                  ('heavy_censoring','surv_heavy')]:
    parts.append(table(name, tab))

h = C['halves']['km_all']['curve']
rows = list(zip(h['time'], h['at_risk'], h['events'], h['censored'], h['survival'], h['ci_lower'], h['ci_upper']))
parts.append(query('RIIIRRR', "SELECT s['time'], s['at_risk'], s['events'], s['censored'], s['survival'], s['ci_lower'], s['ci_upper']\nFROM (SELECT unnest(km_curve(time, event)) AS s FROM surv_halves)",
  rows, "km_curve: one step per distinct time after a start at 0; log-log 95% CI, [0, 0] once S = 0"))
parts.append(query('R', "SELECT km_median(time, event) FROM surv_halves", [[4.0]],
  "S is exactly 0.5 from t = 4 (7/8·6/7·5/6·4/5); lifelines rounds exp(Σ log) to 0.5000000000000001 and says 6"))

t = C['tied']
probe = t['km_all']['survival_at']
parts.append(query('RRRR', "SELECT km_survival_at(time, event, 0.5), km_survival_at(time, event, 7.5), km_survival_at(time, event, 12),\n  km_survival_at(time, event, 1000) FROM surv_tied",
  [[probe['s'][1], probe['s'][3], probe['s'][4], probe['s'][7]]], "S(t) is a step function, flat after the last time"))
g = t['km_by_group']
parts.append(query('TRRI', "SELECT grp, km_median(time, event), km_survival_at(time, event, 12), cardinality(km_curve(time, event))\nFROM surv_tied GROUP BY grp ORDER BY grp",
  [[k, g[k]['median'], g[k]['survival_at']['s'][4], len(g[k]['curve']['time'])] for k in sorted(g)], "per group"))
parts.append(query('RR', "SELECT km_median(time, event = 1), km_median(time, CAST(event AS SMALLINT)) FROM surv_tied",
  [[t['km_all']['median'], t['km_all']['median']]], "event as BOOLEAN or any integer type"))
lr = t['logrank']
parts.append(query('RIR', "SELECT logrank_test(time, event, grp)['chi2'], logrank_test(time, event, grp)['df'],\n  logrank_test(time, event, grp)['p'] FROM surv_tied",
  [[lr['chi2'], lr['df'], lr['p']]], "log-rank with tied times"))
cx = r_cox('tied', 'x1')
f = ['coef','hr','se','hr_lower','hr_upper','z','p']
parts.append(query('RRRRRRR', "SELECT c['coef'], c['hr'], c['se'], c['hr_lower'], c['hr_upper'], c['z'], c['p']\nFROM (SELECT cox_ph(time, event, x1) AS c FROM surv_tied)",
  [[cx[k][0] for k in f]], "univariable Cox, Efron ties, Wald CI and p"))
cm = r_cox('tied', 'x1+x2')
parts.append(query('TRRRR', "SELECT 'x1', c['x1']['coef'], c['x1']['se'], c['x1']['hr_upper'], c['x1']['p']\nFROM (SELECT cox_ph(time, event, named_struct('x1', x1, 'x2', x2)) AS c FROM surv_tied)\nUNION ALL\nSELECT 'x2', c['x2']['coef'], c['x2']['se'], c['x2']['hr_upper'], c['x2']['p']\nFROM (SELECT cox_ph(time, event, named_struct('x1', x1, 'x2', x2)) AS c FROM surv_tied)",
  [['x1', cm['coef'][0], cm['se'][0], cm['hr_upper'][0], cm['p'][0]], ['x2', cm['coef'][1], cm['se'][1], cm['hr_upper'][1], cm['p'][1]]],
  "multivariable Cox: pass the covariates as a named STRUCT, read each by name", sort=True))
parts.append(query('RR', "SELECT c_index(time, event, x1), c_index(time, event, x2) FROM surv_tied",
  [[t['c_index_x1'], t['c_index_x2']]], "Harrell's C: higher risk = earlier event, tied risks count 1/2"))

n = C['no_event_group']
lr = n['logrank']; g = n['km_by_group']
parts.append(query('RIR', "SELECT logrank_test(time, event, grp)['chi2'], logrank_test(time, event, grp)['df'],\n  logrank_test(time, event, grp)['p'] FROM surv_no_events",
  [[lr['chi2'], lr['df'], lr['p']]], "three groups, one of them without any event"))
parts.append(query('TRR', "SELECT grp, km_median(time, event), km_survival_at(time, event, 24) FROM surv_no_events GROUP BY grp ORDER BY grp",
  [[k, g[k]['median'], g[k]['survival_at']['s'][5]] for k in sorted(g)], "the group without events never reaches 0.5"))

s = C['single_row_group']
lr = s['logrank']
parts.append(query('RIR', "SELECT logrank_test(time, event, grp)['chi2'], logrank_test(time, event, grp)['df'],\n  logrank_test(time, event, grp)['p'] FROM surv_single",
  [[lr['chi2'], lr['df'], lr['p']]], "a group of a single row"))
z = s['km_by_group']['z']['curve']
parts.append(query('RIRRR', "SELECT s['time'], s['at_risk'], s['survival'], s['ci_lower'], s['ci_upper']\nFROM (SELECT unnest(km_curve(time, event)) AS s FROM surv_single WHERE grp = 'z')",
  list(zip(z['time'], z['at_risk'], z['survival'], z['ci_lower'], z['ci_upper']))))
cx = r_cox('single_row_group', 'x1')
parts.append(query('RR', "SELECT cox_ph(time, event, x1)['hr'], cox_ph(time, event, x1)['p'] FROM surv_single", [[cx['hr'][0], cx['p'][0]]]))

hc = C['heavy_censoring']
lr = hc['logrank']; g = hc['km_by_group']
parts.append(query('RIR', "SELECT logrank_test(time, event, grp)['chi2'], logrank_test(time, event, grp)['df'],\n  logrank_test(time, event, grp)['p'] FROM surv_heavy",
  [[lr['chi2'], lr['df'], lr['p']]], "heavy censoring: about 75% censored, ties at half-months, three groups"))
parts.append(query('TRRRI', "SELECT grp, km_median(time, event), km_survival_at(time, event, 12), km_survival_at(time, event, 24),\n  cardinality(km_curve(time, event)) FROM surv_heavy GROUP BY grp ORDER BY grp",
  [[k, g[k]['median'], g[k]['survival_at']['s'][4], g[k]['survival_at']['s'][5], len(g[k]['curve']['time'])] for k in sorted(g)]))
cx = r_cox('heavy_censoring', 'x1')
parts.append(query('RRRRR', "SELECT cox_ph(time, event, x1)['coef'], cox_ph(time, event, x1)['se'], cox_ph(time, event, x1)['p'],\n  c_index(time, event, x1), c_index(time, event, x2) FROM surv_heavy",
  [[cx['coef'][0], cx['se'][0], cx['p'][0], hc['c_index_x1'], hc['c_index_x2']]]))

parts.append(query('RI', "SELECT km_median(t, e), logrank_test(t, e, g)['df'] FROM (VALUES\n  (1.0, 1, 'a'), (2.0, NULL, 'a'), (NULL, 1, 'b'), (3.0, 1, NULL), (4.0, 1, 'b'), (5.0, 0, 'b')) AS v(t, e, g)",
  [[3.0, 1]], "rows with a NULL in any argument are skipped (km_median does not read g)"))
parts.append(query('RRRRR', "SELECT km_median(time, event), km_survival_at(time, event, 1), logrank_test(time, event, grp)['p'],\n  cox_ph(time, event, x1)['hr'], c_index(time, event, x1) FROM surv_tied WHERE time < 0",
  [[None]*5], "no rows: NULL"))
parts.append(err("SELECT km_median(time - 5, event) FROM surv_tied", "km_median: time must be a finite non-negative number, got -4", "bad input fails the query and names the function"))
parts.append(err("SELECT km_curve(time, event + 1) FROM surv_tied", "km_curve: event must be BOOLEAN or 0/1, got 2"))
parts.append(err("SELECT logrank_test(time, event, 'all') FROM surv_tied", "logrank_test: needs at least two groups, found 1"))
parts.append(err("SELECT km_survival_at(time, event, time) FROM surv_tied", "km_survival_at: t must be the same on every row of a group"))
parts.append(err("SELECT cox_ph(time, event, time) FROM surv_halves", "cox_ph: Newton–Raphson did not converge", "perfect separation: an error, never a number"))
parts.append(err("SELECT cox_ph(time, event, 1.0) FROM surv_halves", "cox_ph: information matrix is singular"))
parts.append(err("SELECT km_median(grp, event) FROM surv_tied", "km_median: argument 1"))
(SLT / 'survival.slt').write_text('\n'.join(parts))

# ---- tests/slt/stats.slt
parts = ["""# Group comparison and association aggregates over inline samples and tables copied from
# tests/reference/survival/reference.json. Expected numbers are scipy 1.17's, rounded to 9
# significant digits.
"""]
S = R['samples']
vals = []
for i, s in enumerate(S):
    vals += [f"({i}, 'a', {v!r})" for v in s['a']] + [f"({i}, 'b', {v!r})" for v in s['b']]
parts.append("statement ok\nCREATE TABLE stats_samples AS SELECT column1 AS sample, column2 AS grp, column3 AS value FROM (VALUES\n  "
             + chunk(vals) + ")\n")
parts.append(query('IRR', "SELECT sample, mann_whitney_p(value, grp), welch_t_p(value, grp) FROM stats_samples\nGROUP BY sample ORDER BY sample",
    [[i, s['mann_whitney_p'], s['welch_p']] for i, s in enumerate(S)],
    "Mann-Whitney: asymptotic, tie and continuity corrected; Welch: unequal variances; both two-sided"))
vals = []
for i, s in enumerate(S):
    n = min(len(s['a']), len(s['b']))
    vals += [f"({i}, {x!r}, {y!r})" for x, y in zip(s['a'][:n], s['b'][:n])]
parts.append("statement ok\nCREATE TABLE stats_pairs AS SELECT column1 AS sample, column2 AS x, column3 AS y FROM (VALUES\n  "
             + chunk(vals) + ")\n")
parts.append(query('IR', "SELECT sample, spearman_rho(x, y) FROM stats_pairs GROUP BY sample ORDER BY sample",
    [[i, s['spearman_prefix']] for i, s in enumerate(S)], "Spearman: Pearson correlation of mid-ranks"))

T = R['tables']
vals = []
for i, t in enumerate(T):
    for r, row in enumerate(t['table']):
        for c, n in enumerate(row):
            vals.append(f"({i}, 'r{r}', 'c{c}', {n})")
parts.append("# Each table as rows: one row per counted (a, b) pair.\nstatement ok\nCREATE TABLE stats_tables AS SELECT tab, a, b FROM (VALUES\n  " + chunk(vals) +
             ") AS t(tab, a, b, n)\nJOIN generate_series(1, 1000) AS g ON g.value <= t.n\n")
parts.append(query('IIR', "SELECT tab, count(*), chi2_p(a, b) FROM stats_tables GROUP BY tab ORDER BY tab",
    [[i, sum(map(sum, t['table'])), t['chi2_p']] for i, t in enumerate(T)], "chi2: Yates correction on 2 x 2 tables only"))
two = [i for i, t in enumerate(T) if 'fisher_p' in t]
parts.append(query('IR', f"SELECT tab, fisher_exact_p(a, b) FROM stats_tables WHERE tab <= {max(two)} GROUP BY tab ORDER BY tab",
    [[i, T[i]['fisher_p']] for i in two], "Fisher exact, two-sided as scipy; a zero cell is fine"))
parts.append(query('RRR', "SELECT fisher_exact_p(a = 'r0', b), chi2_p(a, CAST(b = 'c0' AS INT)), fisher_exact_p(b, a) FROM stats_tables WHERE tab = 1",
    [[T[1]['fisher_p'], T[1]['chi2_p'], T[1]['fisher_p']]], "categories of any type; the p-value does not depend on which argument is rows"))

parts.append(query('RRR', "SELECT mann_whitney_p(v, g), welch_t_p(v, g), spearman_rho(v, w) FROM (VALUES\n  (1.0, 'a', 1.0), (2.0, 'a', 3.0), (NULL, 'b', 2.0), (3.0, NULL, 4.0), (4.0, 'b', NULL), (6.0, 'b', 5.0),\n  (5.0, 'b', 7.0)) AS t(v, g, w)",
    [[0.14891467317876572, 0.021273413535480065, 0.8999999999999998]],
    "a row is skipped by a function when one of that function's arguments is NULL (scipy on a=[1, 2], b=[4, 6, 5])"))
parts.append(query('RRR', "SELECT mann_whitney_p(value, grp), welch_t_p(value, grp), spearman_rho(value, value) FROM stats_samples WHERE sample < 0",
    [[None, None, None]], "no rows: NULL"))
parts.append(query('RR', "SELECT welch_t_p(v, g), spearman_rho(v, w) FROM (VALUES (1.0, 'a', 1.0), (2.0, 'b', 1.0), (3.0, 'b', 1.0)) AS t(v, g, w)",
    [[None, None]], "undefined where scipy gives NaN (a one-value sample, a constant column): NULL"))
parts.append(err("SELECT mann_whitney_p(value, sample) FROM stats_samples", "mann_whitney_p: needs exactly two groups, found 4", "misuse fails the query and names the function"))
parts.append(err("SELECT welch_t_p(value, 'one') FROM stats_samples", "welch_t_p: needs exactly two groups, found 1"))
parts.append(err("SELECT fisher_exact_p(a, b) FROM stats_tables WHERE tab = 10", "fisher_exact_p: needs a 2 × 2 table"))
parts.append(err("SELECT chi2_p(a, 'same') FROM stats_tables", "chi2_p: needs at least two distinct values in each argument"))
parts.append(err("SELECT spearman_rho(grp, value) FROM stats_samples", "spearman_rho: argument 1 must be numeric"))
(SLT / 'stats.slt').write_text('\n'.join(parts))
