-- # Segmentation quality control
-- Every patient's three sequences side by side at the same scanner position: on each sequence
-- the slice nearest the T2 tumour's centroid, with that sequence's own mask outlined where it
-- falls there (yellow, along voxel edges). Flagged patients come first. A mask is flagged when it
-- is empty, has more than one component, or skips slices inside the tumour; a T1 or CE-T1 mask
-- also when its centroid lies more than 10 mm from the T2 mask's or its volume differs from the T2
-- volume by more than a factor 1.5 (parameters centroid_mm and volume_ratio). Those comparisons are made only between
-- series of one FrameOfReferenceUID, and a mask paired with its series by the dataset's fallback
-- convention (its affine disagrees) is "not comparable".
-- Thresholds: npcql report queries/segmentation_qc.sql --param centroid_mm=5 --param volume_ratio=2
-- default $centroid_mm = 10
-- default $volume_ratio = 1.5
--

CREATE OR REPLACE VIEW qc_masks AS
SELECT f.patient_id, f.modality, s.series_dir, f.path, m.pairing, s.frame_of_reference_uid AS frame,
       f.voxel_count, f.volume_mm3 / 1000.0 AS volume_cm3, f.component_count, f.slice_gaps,
       -f.centroid_x_mm AS x_lps_mm, -f.centroid_y_mm AS y_lps_mm, f.centroid_z_mm AS z_lps_mm
FROM morphology f
JOIN masks m USING (patient_id, modality)
JOIN scans s USING (patient_id, modality);

CREATE OR REPLACE VIEW qc_flags AS
SELECT q.*,
       t.x_lps_mm AS t2_x, t.y_lps_mm AS t2_y, t.z_lps_mm AS t2_z,
       CASE
           WHEN q.modality = 'T2' OR t.patient_id IS NULL THEN NULL
           WHEN q.pairing <> 'scanner' OR t.pairing <> 'scanner' THEN 'not comparable (fallback pairing)'
           WHEN q.frame IS DISTINCT FROM t.frame THEN 'not comparable (another frame of reference)'
       END AS not_comparable,
       CASE WHEN q.modality <> 'T2' AND q.pairing = 'scanner' AND t.pairing = 'scanner' AND q.frame = t.frame
            THEN sqrt(power(q.x_lps_mm - t.x_lps_mm, 2) + power(q.y_lps_mm - t.y_lps_mm, 2) + power(q.z_lps_mm - t.z_lps_mm, 2))
       END AS centroid_to_t2_mm,
       CASE WHEN q.modality <> 'T2' AND q.pairing = 'scanner' AND t.pairing = 'scanner' AND q.frame = t.frame
                 AND t.volume_cm3 > 0
            THEN q.volume_cm3 / t.volume_cm3
       END AS volume_to_t2
FROM qc_masks q
LEFT JOIN (SELECT * FROM qc_masks WHERE modality = 'T2') t USING (patient_id);

CREATE OR REPLACE VIEW qc AS
SELECT *,
       concat_ws('; ',
           CASE WHEN voxel_count = 0 THEN 'empty mask' END,
           CASE WHEN component_count > 1 THEN component_count || ' components' END,
           CASE WHEN slice_gaps > 0 THEN slice_gaps || ' empty slice(s) inside the tumour' END,
           CASE WHEN centroid_to_t2_mm > $centroid_mm THEN 'centroid ' || round(centroid_to_t2_mm, 1) || ' mm from T2' END,
           CASE WHEN volume_to_t2 > $volume_ratio OR volume_to_t2 < 1.0 / $volume_ratio
                THEN 'volume ' || round(volume_to_t2, 2) || '× T2' END,
           not_comparable) AS flags
FROM qc_flags;

-- ## Flags
-- One row per mask with a flag (none: every mask passed).
SELECT patient_id, modality, round(volume_cm3, 2) AS volume_cm3, component_count, slice_gaps,
       round(centroid_to_t2_mm, 1) AS centroid_to_t2_mm, round(volume_to_t2, 2) AS volume_to_t2, flags
FROM qc
WHERE flags <> ''
ORDER BY patient_id, CASE modality WHEN 'T1' THEN 1 WHEN 'T2' THEN 2 ELSE 3 END;

-- ## Every patient, T1 · T2 · CE-T1
-- show: slices
SELECT series_dir, path,
       'Patient ' || patient_id || CASE WHEN max(flags) OVER (PARTITION BY patient_id) <> ''
                                       THEN ' (flagged)' ELSE '' END AS "group",
       modality || ': ' || round(volume_cm3, 2) || ' cm³, ' || component_count || ' component(s)'
           || CASE WHEN flags <> '' THEN ' · ' || flags ELSE '' END AS caption,
       t2_x AS x_lps_mm, t2_y AS y_lps_mm, t2_z AS z_lps_mm
FROM qc
ORDER BY max(flags) OVER (PARTITION BY patient_id) = '', patient_id,
         CASE modality WHEN 'T1' THEN 1 WHEN 'T2' THEN 2 ELSE 3 END;
