-- Which tumour shape features predict progression?
-- Univariable Cox models of PFS on each T2 morphology feature, standardised so the hazard ratio
-- is per standard deviation, with Harrell's concordance of the feature as a risk score.
-- Run: npcql -f queries/cox_morphology.sql

CREATE VIEW t2_features AS
SELECT p.pfs_months, p.pfs_event, p.ebv_status,
       (m.volume_mm3 - avg(m.volume_mm3) OVER ()) / stddev(m.volume_mm3) OVER ()                   AS volume,
       (m.surface_area_mm2 - avg(m.surface_area_mm2) OVER ()) / stddev(m.surface_area_mm2) OVER () AS surface_area,
       (m.max_diameter_mm - avg(m.max_diameter_mm) OVER ()) / stddev(m.max_diameter_mm) OVER ()    AS max_diameter,
       (m.regularity - avg(m.regularity) OVER ()) / stddev(m.regularity) OVER ()                   AS regularity,
       (m.sphericity - avg(m.sphericity) OVER ()) / stddev(m.sphericity) OVER ()                   AS sphericity,
       (m.elongation - avg(m.elongation) OVER ()) / stddev(m.elongation) OVER ()                   AS elongation
FROM patients p JOIN morphology m USING (patient_id)
WHERE m.modality = 'T2' AND p.pfs_months IS NOT NULL AND p.pfs_event IS NOT NULL;

SELECT feature,
       round(fit.hr, 3)       AS hr_per_sd,
       round(fit.hr_lower, 3) AS ci95_lower,
       round(fit.hr_upper, 3) AS ci95_upper,
       round(fit.p, 4)        AS p,
       round(c, 3)            AS c_index
FROM (
          SELECT 'volume' AS feature, cox_ph(pfs_months, pfs_event, volume) AS fit, c_index(pfs_months, pfs_event, volume) AS c FROM t2_features
    UNION ALL SELECT 'surface area', cox_ph(pfs_months, pfs_event, surface_area), c_index(pfs_months, pfs_event, surface_area) FROM t2_features
    UNION ALL SELECT 'max diameter', cox_ph(pfs_months, pfs_event, max_diameter), c_index(pfs_months, pfs_event, max_diameter) FROM t2_features
    UNION ALL SELECT 'regularity', cox_ph(pfs_months, pfs_event, regularity), c_index(pfs_months, pfs_event, regularity) FROM t2_features
    UNION ALL SELECT 'sphericity', cox_ph(pfs_months, pfs_event, sphericity), c_index(pfs_months, pfs_event, sphericity) FROM t2_features
    UNION ALL SELECT 'elongation', cox_ph(pfs_months, pfs_event, elongation), c_index(pfs_months, pfs_event, elongation) FROM t2_features
)
ORDER BY p, feature;

-- Volume and EBV DNA status together (multivariable Cox; hazard ratio per SD of volume).
SELECT round(fit.volume.hr, 3) AS volume_hr_per_sd, round(fit.volume.p, 4) AS volume_p,
       round(fit.ebv_positive.hr, 3) AS ebv_positive_hr, round(fit.ebv_positive.p, 4) AS ebv_positive_p
FROM (
    SELECT cox_ph(pfs_months, pfs_event,
                  named_struct('volume', volume, 'ebv_positive', CASE WHEN ebv_status = 'positive' THEN 1.0 ELSE 0.0 END)) AS fit
    FROM t2_features
    WHERE ebv_status IS NOT NULL
);
