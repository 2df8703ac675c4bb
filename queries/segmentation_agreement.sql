-- How well do the models' tumour masks agree with the radiologists', and where do they fail?
-- For each model under predictions/: Dice and the 95th-percentile Hausdorff distance (HD95, mm)
-- against the radiologist's mask on each modality, by EBV DNA status and by tumour-volume
-- tertile; the ten worst cases; then how far apart the radiologists' own T1, CE-T1 and T2
-- delineations of one tumour lie in scanner space (their grids differ: resampled onto T2's).
-- Run: npcql -f queries/segmentation_agreement.sql   (npcql sample writes two simulated models)

-- Each prediction against its reference mask, compared once; a missing prediction is counted,
-- not compared. Tertiles are of the T2 tumour volume (mesh volume), one per patient.
CREATE TABLE scored AS
SELECT pr.model, pr.modality, pr.patient_id, p.ebv_status, t.tertile,
       CASE WHEN pr.error IS NULL THEN agreement(k.path, pr.path) END AS a
FROM predictions pr
JOIN masks k ON k.patient_id = pr.patient_id AND k.modality = pr.modality
JOIN patients p ON p.patient_id = pr.patient_id
LEFT JOIN (SELECT patient_id, ntile(3) OVER (ORDER BY volume_mm3) AS tertile
           FROM morphology WHERE modality = 'T2' AND volume_mm3 IS NOT NULL) t
    ON t.patient_id = pr.patient_id;

-- Per model and modality: cases, predictions missing (or not comparable: warned) or empty, Dice
-- as median and interquartile range, HD95 as median and maximum; an empty prediction has Dice 0
-- and no distances.
SELECT model, modality,
       count(*)                                                                AS cases,
       count(*) FILTER (WHERE a IS NULL)                                       AS missing,
       count(*) FILTER (WHERE a.true_positive + a.false_positive = 0)          AS empty,
       round(percentile_cont(0.5)  WITHIN GROUP (ORDER BY a.dice), 3)          AS dice_median,
       round(percentile_cont(0.25) WITHIN GROUP (ORDER BY a.dice), 3)          AS dice_q1,
       round(percentile_cont(0.75) WITHIN GROUP (ORDER BY a.dice), 3)          AS dice_q3,
       round(percentile_cont(0.5)  WITHIN GROUP (ORDER BY a.hausdorff95_mm), 2) AS hd95_median_mm,
       round(max(a.hausdorff95_mm), 2)                                         AS hd95_max_mm
FROM scored
GROUP BY model, modality
ORDER BY model, modality;

-- By EBV DNA status: does a model do worse on one group's tumours?
SELECT model, modality, ebv_status,
       count(a)                                                                AS compared,
       round(avg(a.dice), 3)                                                   AS dice_mean,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.dice), 3)           AS dice_median,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.hausdorff95_mm), 2) AS hd95_median_mm
FROM scored
WHERE ebv_status IN ('negative', 'positive')
GROUP BY model, modality, ebv_status
ORDER BY model, modality, ebv_status;

-- By T2 tumour-volume tertile (1 = smallest): small tumours are the hard ones.
SELECT model, modality, tertile,
       count(a)                                                                AS compared,
       round(avg(a.dice), 3)                                                   AS dice_mean,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.dice), 3)           AS dice_median,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.hausdorff95_mm), 2) AS hd95_median_mm
FROM scored
WHERE tertile IS NOT NULL
GROUP BY model, modality, tertile
ORDER BY model, modality, tertile;

-- The ten worst cases by Dice (ties: the larger HD95 first).
SELECT model, patient_id, modality,
       round(a.dice, 3)           AS dice,
       round(a.hausdorff95_mm, 2) AS hd95_mm,
       round(a.assd_mm, 2)        AS assd_mm,
       a.false_negative           AS missed_voxels,
       a.false_positive           AS extra_voxels
FROM scored
WHERE a IS NOT NULL
ORDER BY a.dice, a.hausdorff95_mm DESC NULLS FIRST, model, patient_id, modality
LIMIT 10;

-- The radiologists' T1 and CE-T1 delineations against T2's, in scanner space.
SELECT o.modality || ' vs T2'                                                 AS pair,
       count(*)                                                               AS patients,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.dice), 3)          AS dice_median,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.hausdorff95_mm), 2) AS hd95_median_mm,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.assd_mm), 2)       AS assd_median_mm,
       sum(CASE WHEN a.resampled THEN 1 ELSE 0 END)                           AS resampled
FROM (SELECT o.modality, agreement(t2.path, o.path) AS a
      FROM masks t2 JOIN masks o ON o.patient_id = t2.patient_id AND o.modality <> 'T2'
      WHERE t2.modality = 'T2' AND t2.error IS NULL AND o.error IS NULL) o
GROUP BY o.modality
ORDER BY pair;
