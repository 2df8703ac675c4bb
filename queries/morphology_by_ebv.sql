-- Does tumour shape differ by EBV DNA status?
-- Tumour volume, surface area, maximum 3D diameter and surface regularity on each MRI modality:
-- median and interquartile range (Q1, Q3) in EBV-negative and EBV-positive patients, and the
-- two-sided Mann–Whitney U test p-value between the two groups.
-- Run: npcql -f queries/morphology_by_ebv.sql

-- One row per mask and feature, in the units reported (volume in cm³, lengths in mm), with the
-- decimals each feature is shown to.
CREATE VIEW shape_by_ebv AS
SELECT m.modality, f.rank, f.feature, f.decimals, p.ebv_status,
       CASE f.rank
           WHEN 1 THEN m.volume_mm3 / 1000
           WHEN 2 THEN m.surface_area_mm2
           WHEN 3 THEN m.max_diameter_mm
           WHEN 4 THEN m.regularity
       END AS value
FROM morphology m
JOIN patients p USING (patient_id)
CROSS JOIN (VALUES (1, 'volume (cm³)', 2), (2, 'surface area (mm²)', 0), (3, 'max diameter (mm)', 1), (4, 'regularity', 3))
    AS f(rank, feature, decimals)
WHERE p.ebv_status IN ('negative', 'positive');

-- Patients per EBV DNA status with a readable mask on each modality.
SELECT modality,
       count(*) FILTER (WHERE ebv_status = 'negative') AS ebv_negative,
       count(*) FILTER (WHERE ebv_status = 'positive') AS ebv_positive
FROM shape_by_ebv
WHERE rank = 1 AND value IS NOT NULL
GROUP BY modality
ORDER BY modality;

-- Median (Q1, Q3) per EBV DNA status, and the Mann–Whitney U test between them.
SELECT modality, feature,
       round(percentile_cont(0.5)  WITHIN GROUP (ORDER BY value) FILTER (WHERE ebv_status = 'negative'), decimals) AS neg_median,
       round(percentile_cont(0.25) WITHIN GROUP (ORDER BY value) FILTER (WHERE ebv_status = 'negative'), decimals) AS neg_q1,
       round(percentile_cont(0.75) WITHIN GROUP (ORDER BY value) FILTER (WHERE ebv_status = 'negative'), decimals) AS neg_q3,
       round(percentile_cont(0.5)  WITHIN GROUP (ORDER BY value) FILTER (WHERE ebv_status = 'positive'), decimals) AS pos_median,
       round(percentile_cont(0.25) WITHIN GROUP (ORDER BY value) FILTER (WHERE ebv_status = 'positive'), decimals) AS pos_q1,
       round(percentile_cont(0.75) WITHIN GROUP (ORDER BY value) FILTER (WHERE ebv_status = 'positive'), decimals) AS pos_q3,
       mann_whitney_p(value, ebv_status) AS p_mann_whitney
FROM shape_by_ebv
GROUP BY modality, rank, feature, decimals
ORDER BY modality, rank;
