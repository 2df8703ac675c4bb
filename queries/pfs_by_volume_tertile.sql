-- Do larger tumours progress sooner?
-- Patients split into thirds by T2 tumour volume (mesh volume, cm³): Kaplan–Meier PFS per
-- third, then the log-rank test across the three.
-- Run: npcql -f queries/pfs_by_volume_tertile.sql

CREATE VIEW t2_volume AS
SELECT p.patient_id, p.pfs_months, p.pfs_event,
       m.volume_mm3 / 1000                        AS volume_cm3,
       ntile(3) OVER (ORDER BY m.volume_mm3)      AS tertile
FROM patients p JOIN morphology m USING (patient_id)
WHERE m.modality = 'T2' AND m.volume_mm3 IS NOT NULL AND p.pfs_months IS NOT NULL;

SELECT tertile,
       count(*)                                                AS patients,
       round(min(volume_cm3), 1)                               AS min_cm3,
       round(max(volume_cm3), 1)                               AS max_cm3,
       sum(pfs_event)                                          AS progressed,
       round(km_survival_at(pfs_months, pfs_event, 36), 3)     AS pfs_3y,
       round(km_survival_at(pfs_months, pfs_event, 60), 3)     AS pfs_5y,
       km_median(pfs_months, pfs_event)                        AS median_pfs_months
FROM t2_volume
GROUP BY tertile
ORDER BY tertile;

-- Log-rank test across the volume thirds (2 degrees of freedom).
SELECT round(test.chi2, 3) AS chi2, test.df AS df, round(test.p, 4) AS p
FROM (SELECT logrank_test(pfs_months, pfs_event, tertile) AS test FROM t2_volume);
