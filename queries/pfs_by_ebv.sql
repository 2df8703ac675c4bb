-- Does EBV DNA status separate progression-free survival?
-- Kaplan–Meier PFS at 1, 3 and 5 years and the median per EBV DNA status, then the log-rank test.
-- Run: npcql -f queries/pfs_by_ebv.sql

SELECT ebv_status,
       count(*)                                                AS patients,
       sum(pfs_event)                                          AS progressed,
       round(km_survival_at(pfs_months, pfs_event, 12), 3)     AS pfs_1y,
       round(km_survival_at(pfs_months, pfs_event, 36), 3)     AS pfs_3y,
       round(km_survival_at(pfs_months, pfs_event, 60), 3)     AS pfs_5y,
       km_median(pfs_months, pfs_event)                        AS median_pfs_months
FROM patients
WHERE ebv_status IS NOT NULL
GROUP BY ebv_status
ORDER BY ebv_status;

-- Log-rank test of PFS by EBV DNA status.
SELECT round(test.chi2, 3) AS chi2, test.df AS df, round(test.p, 4) AS p
FROM (SELECT logrank_test(pfs_months, pfs_event, ebv_status) AS test FROM patients WHERE ebv_status IS NOT NULL);
