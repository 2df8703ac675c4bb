-- Do the tumour's intensity and texture differ by EBV DNA status, on each MRI sequence?
-- Every radiomics feature of the `radiomics_long` view (PyRadiomics 3.0.1 settings: binWidth 25,
-- bins anchored at 0; IBSI's GLDZM, IVH and local intensity) on T1, T2 and CE-T1: the median in
-- EBV-negative and EBV-positive patients, the two-sided Mann–Whitney U p-value, and that p-value
-- adjusted over all features of the sequence (Benjamini–Hochberg, R's p.adjust(p, "BH")).
-- Run: npcql -f queries/radiomics_by_ebv.sql

CREATE VIEW feature_tests AS
SELECT r.modality, r.class, r.feature,
       count(*) AS patients,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.value) FILTER (WHERE p.ebv_status = 'negative') AS neg_median,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.value) FILTER (WHERE p.ebv_status = 'positive') AS pos_median,
       mann_whitney_p(r.value, p.ebv_status) AS p
FROM radiomics_long r
JOIN patients p USING (patient_id)
WHERE p.ebv_status IN ('negative', 'positive') AND r.value IS NOT NULL
GROUP BY r.modality, r.class, r.feature;

-- How many features differ per sequence, before and after the adjustment.
SELECT modality,
       count(*) AS features,
       count(*) FILTER (WHERE p < 0.05) AS p_below_005,
       count(*) FILTER (WHERE p_bh < 0.05) AS p_bh_below_005
FROM (SELECT modality, p, p_adjust(p, 'BH') OVER (PARTITION BY modality) AS p_bh FROM feature_tests)
GROUP BY modality
ORDER BY modality;

-- The 20 features that differ most, over all sequences.
SELECT modality, class, feature, patients,
       round(neg_median, 4) AS neg_median,
       round(pos_median, 4) AS pos_median,
       round(p, 4) AS p,
       round(p_bh, 4) AS p_bh
FROM (SELECT *, p_adjust(p, 'BH') OVER (PARTITION BY modality) AS p_bh FROM feature_tests)
ORDER BY p, modality, class, feature
LIMIT 20;
