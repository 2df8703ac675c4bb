-- Who is in the cohort, and how were they scanned?
-- Patients by sex, clinical stage, WHO histological type and EBV DNA status, then the
-- series by scanner and MRI sequence.
-- Run: npcql -f queries/cohort_overview.sql

-- Patients by sex, with age.
SELECT sex,
       count(*)                    AS patients,
       round(avg(age), 1)          AS mean_age,
       min(age)                    AS min_age,
       max(age)                    AS max_age
FROM patients
GROUP BY sex
ORDER BY sex;

-- Patients by AJCC clinical stage and EBV DNA status.
SELECT coalesce(clinical_stage, 'missing')                           AS clinical_stage,
       count(*)                                                      AS patients,
       sum(CASE WHEN ebv_status = 'positive' THEN 1 ELSE 0 END)      AS ebv_positive,
       sum(CASE WHEN ebv_status = 'negative' THEN 1 ELSE 0 END)      AS ebv_negative,
       round(100.0 * avg(pfs_event), 1)                              AS progressed_pct
FROM patients
GROUP BY clinical_stage
ORDER BY clinical_stage;

-- Patients by WHO histological type.
SELECT coalesce(who_type, 'missing') AS who_type, count(*) AS patients
FROM patients
GROUP BY who_type
ORDER BY who_type;

-- Patients by EBV DNA status, with the median DNA load.
SELECT coalesce(ebv_status, 'missing') AS ebv_status,
       count(*)                        AS patients,
       median(ebv_dna)                 AS median_ebv_dna_copies_ml
FROM patients
GROUP BY ebv_status
ORDER BY ebv_status;

-- Series by scanner and sequence, with their typical grid.
SELECT manufacturer,
       model,
       field_strength_t,
       modality,
       count(*)                             AS series,
       median(rows)                         AS median_rows,
       median(slice_count)                  AS median_slices,
       round(median(pixel_spacing_row), 3)  AS median_pixel_mm,
       median(spacing_between_slices)       AS median_slice_spacing_mm,
       median(repetition_time_ms)           AS median_tr_ms,
       median(echo_time_ms)                 AS median_te_ms
FROM scans
GROUP BY manufacturer, model, field_strength_t, modality
ORDER BY manufacturer, modality;
