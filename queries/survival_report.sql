-- # Tumour morphology, EBV DNA and progression-free survival in nasopharyngeal carcinoma
-- Does the shape of the tumour on MRI add to plasma EBV DNA in predicting progression? One
-- report from the dataset: the cohort, survival by EBV status and by tumour volume, Cox models
-- of the morphology features, the features' distributions, and a radiomics screen.
-- Run: npcql report queries/survival_report.sql -o report.html (it also runs with npcql -f).
--
-- One row per patient with the T2 tumour's features, standardised for the Cox models.
CREATE OR REPLACE VIEW cohort AS
SELECT p.patient_id, p.sex, p.age, p.ebv_status, p.who_type, p.t_stage, p.n_stage,
       p.clinical_stage, p.pfs_months, p.pfs_event,
       m.volume_mm3 / 1000 AS t2_volume_cm3,
       m.regularity        AS t2_regularity,
       ntile(3) OVER (ORDER BY m.volume_mm3) AS volume_tertile,
       (m.volume_mm3 - avg(m.volume_mm3) OVER ()) / stddev(m.volume_mm3) OVER ()                   AS volume_sd,
       (m.surface_area_mm2 - avg(m.surface_area_mm2) OVER ()) / stddev(m.surface_area_mm2) OVER () AS surface_area_sd,
       (m.max_diameter_mm - avg(m.max_diameter_mm) OVER ()) / stddev(m.max_diameter_mm) OVER ()    AS max_diameter_sd,
       (m.regularity - avg(m.regularity) OVER ()) / stddev(m.regularity) OVER ()                   AS regularity_sd,
       (m.sphericity - avg(m.sphericity) OVER ()) / stddev(m.sphericity) OVER ()                   AS sphericity_sd
FROM patients p JOIN morphology m USING (patient_id)
WHERE m.modality = 'T2';

-- ## Table 1: the cohort by EBV DNA status
-- show: table1 BY ebv_status
SELECT ebv_status, sex, age, who_type, t_stage, n_stage, clinical_stage, t2_volume_cm3, t2_regularity
FROM cohort ORDER BY patient_id;

-- ## Progression-free survival by EBV DNA status
-- show: km months
SELECT pfs_months AS time, pfs_event AS event, ebv_status AS "group"
FROM cohort ORDER BY patient_id;

-- ## Progression-free survival by T2 tumour volume
-- Patients in thirds by T2 mesh volume (1 = smallest).
-- show: km months
SELECT pfs_months AS time, pfs_event AS event, 'volume tertile ' || volume_tertile AS "group"
FROM cohort ORDER BY patient_id;

-- ## Univariable Cox models of the morphology features
-- One model per T2 feature, standardised so the hazard ratio is per standard deviation.
-- show: forest
SELECT label, fit.hr AS hr, fit.hr_lower AS hr_lower, fit.hr_upper AS hr_upper, fit.p AS p, n, events
FROM (
          SELECT 'volume' AS label, cox_ph(pfs_months, pfs_event, volume_sd) AS fit, count(*) AS n, sum(pfs_event) AS events FROM cohort
    UNION ALL SELECT 'surface area', cox_ph(pfs_months, pfs_event, surface_area_sd), count(*), sum(pfs_event) FROM cohort
    UNION ALL SELECT 'max diameter', cox_ph(pfs_months, pfs_event, max_diameter_sd), count(*), sum(pfs_event) FROM cohort
    UNION ALL SELECT 'regularity', cox_ph(pfs_months, pfs_event, regularity_sd), count(*), sum(pfs_event) FROM cohort
    UNION ALL SELECT 'sphericity', cox_ph(pfs_months, pfs_event, sphericity_sd), count(*), sum(pfs_event) FROM cohort
)
ORDER BY label;

-- ## Volume and EBV DNA status together
-- One multivariable Cox model; EBV-negative patients are the reference.
-- show: forest
WITH model AS (
    SELECT cox_ph(pfs_months, pfs_event, named_struct('volume_sd', volume_sd, 'ebv_positive',
                  CASE WHEN ebv_status = 'positive' THEN 1.0 ELSE 0.0 END)) AS fit
    FROM cohort WHERE ebv_status IS NOT NULL
)
SELECT label, hr, hr_lower, hr_upper, p FROM (
              SELECT 1 AS line, 'EBV negative' AS label, CAST(NULL AS DOUBLE) AS hr, CAST(NULL AS DOUBLE) AS hr_lower,
                     CAST(NULL AS DOUBLE) AS hr_upper, CAST(NULL AS DOUBLE) AS p FROM model
    UNION ALL SELECT 2, 'EBV positive', fit.ebv_positive.hr, fit.ebv_positive.hr_lower, fit.ebv_positive.hr_upper,
                     fit.ebv_positive.p FROM model
    UNION ALL SELECT 3, 'volume (per SD)', fit.volume_sd.hr, fit.volume_sd.hr_lower, fit.volume_sd.hr_upper,
                     fit.volume_sd.p FROM model
)
ORDER BY line;

-- ## Tumour volume and regularity by EBV DNA status, per modality
-- ### T1
-- show: box BY ebv_status
SELECT p.ebv_status, m.volume_mm3 / 1000 AS volume_cm3, m.regularity
FROM patients p JOIN morphology m USING (patient_id) WHERE m.modality = 'T1' ORDER BY patient_id;

-- ### T2
-- show: box BY ebv_status
SELECT p.ebv_status, m.volume_mm3 / 1000 AS volume_cm3, m.regularity
FROM patients p JOIN morphology m USING (patient_id) WHERE m.modality = 'T2' ORDER BY patient_id;

-- ### CE-T1
-- show: box BY ebv_status
SELECT p.ebv_status, m.volume_mm3 / 1000 AS volume_cm3, m.regularity
FROM patients p JOIN morphology m USING (patient_id) WHERE m.modality = 'CE-T1' ORDER BY patient_id;

-- ## Distribution of T2 tumour volume
-- show: histogram
SELECT t2_volume_cm3 FROM cohort ORDER BY patient_id;

-- ## Summary by EBV DNA status
SELECT ebv_status, count(*) AS patients, sum(pfs_event) AS progressed,
       km_survival_at(pfs_months, pfs_event, 36) AS pfs_3y,
       km_survival_at(pfs_months, pfs_event, 60) AS pfs_5y,
       km_median(pfs_months, pfs_event) AS median_pfs_months
FROM cohort GROUP BY ebv_status ORDER BY ebv_status;

-- ## Radiomics: the intensity and texture features that predict progression
-- A univariable Cox model of every T2 and CE-T1 radiomics feature (PyRadiomics 3.0.1 default
-- settings; features with at least 10 distinct values), standardised so the hazard ratio is per
-- standard deviation: the eight with the smallest p-value. The label gives the p-value adjusted
-- over all those models (Benjamini–Hochberg); queries/radiomics_cox_screen.sql has the whole screen.
-- show: forest
WITH standardised AS (
    SELECT modality, class, feature, pfs_months, pfs_event, (value - mean) / sd AS z
    FROM (
        SELECT r.modality, r.class, r.feature, r.value, p.pfs_months, p.pfs_event,
               avg(r.value) OVER (PARTITION BY r.modality, r.class, r.feature) AS mean,
               stddev(r.value) OVER (PARTITION BY r.modality, r.class, r.feature) AS sd,
               count(DISTINCT r.value) OVER (PARTITION BY r.modality, r.class, r.feature) AS distinct_values
        FROM radiomics_long r JOIN patients p USING (patient_id)
        WHERE r.modality IN ('T2', 'CE-T1') AND r.value IS NOT NULL
          AND p.pfs_months IS NOT NULL AND p.pfs_event IS NOT NULL
    )
    WHERE distinct_values >= 10
),
fits AS (
    SELECT modality, class, feature, cox_ph(pfs_months, pfs_event, z) AS fit
    FROM standardised GROUP BY modality, class, feature
)
SELECT modality || ' ' || class || ' ' || feature || ' (BH p ' || CAST(round(p_bh, 4) AS VARCHAR) || ')' AS label,
       fit.hr AS hr, fit.hr_lower AS hr_lower, fit.hr_upper AS hr_upper, fit.p AS p
FROM (SELECT *, p_adjust(fit.p, 'BH') OVER () AS p_bh FROM fits)
ORDER BY p, label
LIMIT 8;

-- ## Typical tumours
-- In each EBV group, the patient whose T2 tumour volume is nearest the group's median, on the T2
-- slice of the tumour's largest area (outline in yellow).
-- show: slices
WITH t2 AS (
    SELECT p.patient_id, p.ebv_status, s.series_dir, f.path, f.volume_mm3
    FROM morphology f
    JOIN patients p USING (patient_id)
    JOIN scans s USING (patient_id, modality)
    WHERE f.modality = 'T2' AND p.ebv_status IS NOT NULL AND f.volume_mm3 IS NOT NULL
),
medians AS (SELECT ebv_status, median(volume_mm3) AS median_mm3 FROM t2 GROUP BY ebv_status),
ranked AS (
    SELECT t2.*, m.median_mm3,
           row_number() OVER (PARTITION BY t2.ebv_status ORDER BY abs(t2.volume_mm3 - m.median_mm3), t2.patient_id) AS n
    FROM t2 JOIN medians m USING (ebv_status)
)
SELECT series_dir, path,
       'EBV ' || ebv_status || ': patient ' || patient_id || ', T2 ' || CAST(round(volume_mm3 / 1000, 1) AS VARCHAR)
           || ' cm³ (group median ' || CAST(round(median_mm3 / 1000, 1) AS VARCHAR) || ' cm³)' AS caption,
       'Typical tumours' AS "group"
FROM ranked WHERE n = 1
ORDER BY ebv_status;
