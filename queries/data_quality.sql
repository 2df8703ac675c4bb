-- Can the data be trusted? Missing clinical values, series and masks that failed to read,
-- masks whose grid disagrees with their series, and missing pieces of the layout.
-- Run: npcql -f queries/data_quality.sql   (an empty result below is good news)

-- Missing values per clinical column.
SELECT count(*)                                   AS patients,
       count(*) - count(sex)                      AS missing_sex,
       count(*) - count(age)                      AS missing_age,
       count(*) - count(ebv_dna)                  AS missing_ebv_dna,
       count(*) - count(ebv_status)               AS missing_ebv_status,
       count(*) - count(who_type)                 AS missing_who_type,
       count(*) - count(t_stage)                  AS missing_t_stage,
       count(*) - count(n_stage)                  AS missing_n_stage,
       count(*) - count(clinical_stage)           AS missing_clinical_stage,
       count(*) - count(pfs_months)               AS missing_pfs_months,
       count(*) - count(pfs_event)                AS missing_pfs_event
FROM patients;

-- Series and masks per patient: every patient should have three of each.
SELECT p.patient_id,
       (SELECT count(*) FROM scans s WHERE s.patient_id = p.patient_id) AS series,
       (SELECT count(*) FROM masks m WHERE m.patient_id = p.patient_id) AS masks
FROM patients p
WHERE (SELECT count(*) FROM scans s WHERE s.patient_id = p.patient_id) <> 3
   OR (SELECT count(*) FROM masks m WHERE m.patient_id = p.patient_id) <> 3
ORDER BY p.patient_id;

-- Files that failed to read or do not fit together (mask grid vs series grid included).
SELECT 'scan' AS kind, patient_id, modality, error FROM scans WHERE error IS NOT NULL
UNION ALL
SELECT 'mask' AS kind, patient_id, modality, error FROM masks WHERE error IS NOT NULL
ORDER BY patient_id, modality, kind;

-- Mask grids next to their series grids, where they differ.
SELECT m.patient_id, m.modality,
       m.dim_x, s.columns, m.dim_y, s.rows, m.dim_z, s.slice_count,
       m.spacing_x, s.pixel_spacing_col, m.spacing_z, s.spacing_between_slices
FROM masks m JOIN scans s USING (patient_id, modality)
WHERE m.dim_x <> s.columns OR m.dim_y <> s.rows OR m.dim_z <> s.slice_count
   OR abs(m.spacing_x - s.pixel_spacing_col) > 0.01 * s.pixel_spacing_col
ORDER BY m.patient_id, m.modality;

-- Anything else found while discovering the dataset (missing folders, unknown ids, ...).
SELECT patient_id, path, problem FROM dataset_issues ORDER BY patient_id, path;

-- Summary.
SELECT (SELECT count(*) FROM patients)                       AS patients,
       (SELECT count(*) FROM scans)                          AS series,
       (SELECT count(*) FROM scans WHERE error IS NOT NULL)  AS series_with_errors,
       (SELECT count(*) FROM masks)                          AS masks,
       (SELECT count(*) FROM masks WHERE error IS NOT NULL)  AS masks_with_errors,
       (SELECT count(*) FROM dataset_issues)                 AS dataset_issues;
