-- Does a trained model segment some patients' tumours worse than others? Each model's masks
-- against the radiologist's, as Dice and HD95 (mm), by T stage and by EBV DNA status, with a
-- Mann–Whitney p for the EBV groups.
-- After `npcql export` and a prediction run into the export's predictions folder, e.g.
--   nnUNetv2_predict -i $nnUNet_raw/Dataset501_NPC/imagesTs -o $nnUNet_raw/Dataset501_NPC/predictions/3d_fullres ...
-- run: npcql -p $nnUNet_raw/Dataset501_NPC/predictions -f queries/model_vs_clinical.sql
-- (the export's predictions/npcql-predictions.toml says how its files are named). Without -p,
-- the dataset's own predictions folder (data-sample has two simulated models).

-- Every prediction that is there, scored once against the radiologist's mask of its sequence.
CREATE TABLE model_scores AS
SELECT pr.model, pr.modality, pr.patient_id, p.t_stage, p.ebv_status,
       agreement(k.path, pr.path) AS a
FROM predictions pr
JOIN masks k ON k.patient_id = pr.patient_id AND k.modality = pr.modality
JOIN patients p ON p.patient_id = pr.patient_id
WHERE pr.error IS NULL;

-- By T stage: larger, invasive tumours are the usual failures.
SELECT model, modality, t_stage,
       count(*)                                                                 AS cases,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.dice), 3)            AS dice_median,
       round(min(a.dice), 3)                                                    AS dice_min,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.hausdorff95_mm), 2)  AS hd95_median_mm
FROM model_scores
GROUP BY model, modality, t_stage
ORDER BY model, modality, t_stage;

-- By EBV DNA status, with the Mann–Whitney p of Dice between the two groups (NULL while a
-- model's cases hold only one group).
SELECT s.model, s.modality, s.ebv_status,
       count(*)                                                                 AS cases,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s.a.dice), 3)          AS dice_median,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s.a.hausdorff95_mm), 2) AS hd95_median_mm,
       t.p                                                                      AS dice_p
FROM model_scores s
LEFT JOIN (SELECT m.model, m.modality, mann_whitney_p(m.a.dice, m.ebv_status) AS p
           FROM model_scores m
           JOIN (SELECT model, modality FROM model_scores WHERE ebv_status IS NOT NULL
                 GROUP BY model, modality HAVING count(DISTINCT ebv_status) = 2) both_groups
             ON both_groups.model = m.model AND both_groups.modality = m.modality
           WHERE m.ebv_status IS NOT NULL
           GROUP BY m.model, m.modality) t
  ON t.model = s.model AND t.modality = s.modality
WHERE s.ebv_status IS NOT NULL
GROUP BY s.model, s.modality, s.ebv_status, t.p
ORDER BY s.model, s.modality, s.ebv_status;
