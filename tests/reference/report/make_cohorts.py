#!/usr/bin/env python3
"""Write the small survival cohorts used as reference inputs.

Deterministic: ties.csv and single.csv are hand-written; three_groups.csv
uses random.Random with a fixed seed (Random.random / expovariate are
stable across CPython 3 versions), plus hand-placed rows.

Usage: python3 make_cohorts.py   (writes into ./cohorts next to this file)
"""
import csv
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cohorts")

# (time, event, group); event 1 = event, 0 = censored.
# Integer times 0..60, many ties, events and censorings at the same time,
# and events/censorings exactly at the ticks 0, 12, 24, 36, 48, 60.
TIES = [
    # group a (20 rows)
    (0, 1, "a"), (0, 0, "a"), (5, 1, "a"), (5, 1, "a"), (5, 0, "a"),
    (12, 1, "a"), (12, 0, "a"), (12, 0, "a"), (18, 1, "a"), (24, 1, "a"),
    (24, 1, "a"), (24, 0, "a"), (30, 0, "a"), (36, 1, "a"), (36, 0, "a"),
    (40, 1, "a"), (48, 0, "a"), (48, 1, "a"), (55, 1, "a"), (60, 0, "a"),
    # group b (20 rows)
    (0, 0, "b"), (3, 1, "b"), (12, 1, "b"), (12, 1, "b"), (12, 0, "b"),
    (20, 0, "b"), (20, 1, "b"), (24, 0, "b"), (24, 0, "b"), (24, 1, "b"),
    (33, 1, "b"), (36, 0, "b"), (36, 0, "b"), (36, 1, "b"), (45, 1, "b"),
    (48, 1, "b"), (48, 0, "b"), (52, 0, "b"), (60, 1, "b"), (60, 0, "b"),
]

# Single group; time-0 event and time-0 censoring; last observation censored.
SINGLE = [
    (0, 1), (0, 0), (2.5, 1), (7, 1), (7, 0), (12, 0), (15, 1), (20, 1),
    (24, 1), (30, 0), (33, 1), (41, 0), (50, 1), (58, 0), (66, 0),
]


def km_median_reached(rows):
    """True if the KM curve of rows [(time, event)] reaches <= 0.5."""
    times = sorted({t for t, _ in rows})
    s = 1.0
    for t in times:
        n = sum(1 for u, _ in rows if u >= t)
        d = sum(1 for u, e in rows if u == t and e == 1)
        s *= 1.0 - d / n
        if s <= 0.5:
            return True
    return False


def three_groups():
    rng = random.Random(20240601)
    rows = []
    # x: short survival, mostly events; y: longer; z: few events (no median).
    spec = {"x": (18.0, 0.85), "y": (35.0, 0.70), "z": (60.0, 0.0)}
    for g, (mean, p_event) in spec.items():
        for _ in range(17):
            t = round(rng.expovariate(1.0 / mean), 1)
            t = min(t, 80.0)
            e = 1 if rng.random() < p_event else 0
            rows.append((t, e, g))
    # hand-placed rows: censorings at ticks 12 and 24 in every group,
    # an event at tick 12 in x, and a few early events in z.
    for g in ("x", "y", "z"):
        rows.append((12.0, 0, g))
        rows.append((24.0, 0, g))
    rows.append((12.0, 1, "x"))
    rows += [(3.4, 1, "z"), (9.8, 1, "z"), (15.2, 1, "z"), (40.1, 1, "z")]
    rows.sort(key=lambda r: (r[2], r[0], -r[1]))
    z = [(t, e) for t, e, g in rows if g == "z"]
    assert not km_median_reached(z), "group z must not reach median"
    for g in ("x", "y"):
        assert km_median_reached([(t, e) for t, e, h in rows if h == g]), g
    return rows


def write(name, rows, fmt):
    path = os.path.join(OUT, name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["time", "event", "group"])
        for t, e, g in rows:
            w.writerow([fmt(t), e, g])
    print(f"wrote {path} ({len(rows)} rows)")


def fmt_plain(t):
    return repr(t) if isinstance(t, float) else str(t)


def main():
    os.makedirs(OUT, exist_ok=True)
    write("ties.csv", TIES, str)
    write("three_groups.csv", three_groups(), lambda t: f"{t:.1f}")
    write("single.csv", [(t, e, "all") for t, e in SINGLE], fmt_plain)


if __name__ == "__main__":
    main()
