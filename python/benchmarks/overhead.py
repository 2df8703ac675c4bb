"""What Python adds to a query: `con.sql(q).to_arrow()` against the same query run in Rust.

    python python/benchmarks/overhead.py [--data DIR] [--runs N]

Both sides run in this process on the same connection, interleaved so that the shared machine's
noise hits them alike: the Rust side is `Connection.time_in_rust` (plan, execute, collect the
batches), the Python side adds the call, the GIL hand-off, the result object and the Arrow C
stream into a pyarrow.Table. Prints the median of each and the difference; the goal is < 1 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import npcql

QUERIES = {
    "count": "SELECT count(*) FROM patients",
    "patients": "SELECT * FROM patients",
    "km_median by EBV": "SELECT ebv_status, km_median(pfs_months, pfs_event) FROM patients GROUP BY 1",
    "km_curve (nested)": "SELECT km_curve(pfs_months, pfs_event) FROM patients",
    "morphology (cached)": "SELECT patient_id, modality, tumor_volume(path), surface_area(path) FROM masks",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset folder (default: $NPCQL_DATA, else ./data-sample)")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    con = npcql.connect(args.data)
    print(f"{'query':<22} {'Rust ms':>9} {'Python ms':>10} {'added ms':>9}")
    worst = 0.0
    for name, sql in QUERIES.items():
        con.sql(sql).to_arrow()  # warm: headers read, masks meshed and cached
        rust, python = [], []
        for _ in range(args.runs):
            rust.extend(con._native.time_in_rust(sql, 1))
            start = time.perf_counter()
            con.sql(sql).to_arrow()
            python.append(time.perf_counter() - start)
        r, p = statistics.median(rust) * 1e3, statistics.median(python) * 1e3
        worst = max(worst, p - r)
        print(f"{name:<22} {r:>9.3f} {p:>10.3f} {p - r:>9.3f}")
    print(f"largest median overhead: {worst:.3f} ms (goal < 1 ms)")


if __name__ == "__main__":
    main()
