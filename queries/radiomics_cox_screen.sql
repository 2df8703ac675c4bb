-- Which intensity and texture features predict progression, on which sequence?
-- A univariable Cox model of 5-year PFS on every radiomics feature of every sequence (the
-- `radiomics_long` view, PyRadiomics 3.0.1 default settings), the feature standardised so the
-- hazard ratio is per standard deviation, with Harrell's concordance, and the Wald p-value
-- adjusted over the whole screen (Benjamini–Hochberg, R's p.adjust(p, "BH")).
-- Run: npcql -f queries/radiomics_cox_screen.sql

-- Each feature standardised over the patients who have it. Features with fewer than 10
-- distinct values over the cohort (a constant, or IVH's few grey levels on a small cohort) are
-- left out: a Cox model of a near-binary covariate on few events has no finite maximum (perfect
-- separation), which cox_ph reports as an error rather than a number.
CREATE VIEW standardised AS
SELECT modality, class, feature, pfs_months, pfs_event, (value - mean) / sd AS z
FROM (
    SELECT r.modality, r.class, r.feature, r.value, p.pfs_months, p.pfs_event,
           avg(r.value) OVER (PARTITION BY r.modality, r.class, r.feature) AS mean,
           stddev(r.value) OVER (PARTITION BY r.modality, r.class, r.feature) AS sd,
           count(DISTINCT r.value) OVER (PARTITION BY r.modality, r.class, r.feature) AS distinct_values
    FROM radiomics_long r
    JOIN patients p USING (patient_id)
    WHERE r.value IS NOT NULL AND p.pfs_months IS NOT NULL AND p.pfs_event IS NOT NULL
)
WHERE distinct_values >= 10;

CREATE VIEW screen AS
SELECT modality, class, feature, fit, c, p_adjust(fit.p, 'BH') OVER () AS p_bh
FROM (
    SELECT modality, class, feature,
           cox_ph(pfs_months, pfs_event, z) AS fit,
           c_index(pfs_months, pfs_event, z) AS c
    FROM standardised
    GROUP BY modality, class, feature
);

-- How many features predict PFS per sequence, before and after the adjustment.
SELECT modality,
       count(*) AS features,
       count(*) FILTER (WHERE fit.p < 0.05) AS p_below_005,
       count(*) FILTER (WHERE p_bh < 0.05) AS p_bh_below_005
FROM screen
GROUP BY modality
ORDER BY modality;

-- The 20 strongest, over all sequences. Features equal on every patient (GLSZM's and GLDZM's
-- grey level non-uniformity count the same zones) tie; p is rounded for the order so that such
-- ties do not depend on the order in which partitions were summed.
SELECT modality, class, feature,
       round(fit.hr, 3)       AS hr_per_sd,
       round(fit.hr_lower, 3) AS ci95_lower,
       round(fit.hr_upper, 3) AS ci95_upper,
       round(fit.p, 5)        AS p,
       round(p_bh, 5)         AS p_bh,
       round(c, 3)            AS c_index
FROM screen
ORDER BY round(fit.p, 12), modality, class, feature
LIMIT 20;
