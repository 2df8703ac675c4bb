"""Progression-free survival by EBV DNA status: the analysis a notebook would hold, as a script.

    python python/examples/survival_analysis.py [--data DIR] [--out DIR]

Opens the dataset, builds the cohort in SQL, prints the Kaplan–Meier medians and the log-rank
test, fits a Cox model on tumour volume, and writes the Kaplan–Meier figure (the renderer
`npcql report` uses) to OUT/pfs_by_ebv.svg. The same steps as a Quarto document:
survival_analysis.qmd.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import npcql


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset folder (default: $NPCQL_DATA, else ./data-sample)")
    parser.add_argument("--out", default=".", help="folder for the figure (default: .)")
    args = parser.parse_args()

    con = npcql.connect(args.data)

    # One row per patient: follow-up, event, EBV status and the T1 tumour volume in cm³.
    con.sql("""
        CREATE OR REPLACE VIEW cohort AS
        SELECT p.patient_id, p.pfs_months, p.pfs_event, p.ebv_status,
               tumor_volume(m.path) / 1000 AS volume_cm3
        FROM patients p JOIN masks m ON m.patient_id = p.patient_id AND m.modality = 'T1'
        WHERE p.ebv_status IS NOT NULL
    """)

    medians = con.sql("""
        SELECT ebv_status, count(*) AS patients, sum(pfs_event) AS progressed,
               km_median(pfs_months, pfs_event) AS median_pfs_months,
               round(km_survival_at(pfs_months, pfs_event, 60), 3) AS pfs_5y
        FROM cohort GROUP BY ebv_status ORDER BY ebv_status
    """)
    print(medians)

    test = con.sql("SELECT logrank_test(pfs_months, pfs_event, ebv_status) AS t FROM cohort").fetchall()[0][0]
    print(f"log-rank p = {test['p']:.4g} (chi2 = {test['chi2']:.3f}, df = {test['df']})")

    cox = con.sql("SELECT cox_ph(pfs_months, pfs_event, volume_cm3) AS fit FROM cohort").fetchall()[0][0]
    print(f"Cox HR per cm³ of tumour: {cox['hr']:.3f} ({cox['hr_lower']:.3f}–{cox['hr_upper']:.3f}), p = {cox['p']:.4g}")

    # The same rows as a pandas DataFrame, for whatever comes next.
    frame = con.sql("SELECT * FROM cohort").to_pandas()
    print(f"{len(frame)} patients; mean T1 tumour volume {frame['volume_cm3'].mean():.1f} cm³")

    figure = npcql.km_plot(con.sql('SELECT pfs_months AS time, pfs_event AS event, ebv_status AS "group" FROM cohort'))
    out = Path(args.out) / "pfs_by_ebv.svg"
    figure.save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
