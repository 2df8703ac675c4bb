//! The one pairing rule as `masks` shows it: a mask whose affine puts it on its series pairs in
//! the scanner; one whose affine is absent or shifted (same dimensions) falls back to the
//! dataset's convention, flagged with the offset; a mask on another grid is unpaired.

use crate::support::{copy_of_sample, npcql, overwrite, stderr, stdout};

#[test]
fn masks_show_how_each_mask_pairs_with_its_series() {
    let data = copy_of_sample(3);
    let segments = data.path().join("MRI-Segments");
    // 001 T1: the sform's z translation (srow_z[3], byte 324) 2 mm further, the qform off.
    let t1 = segments.join("001/ROI-T1.nii");
    let z = f32::from_le_bytes(std::fs::read(&t1).unwrap()[324..328].try_into().unwrap());
    overwrite(&t1, 324, &(z + 2.0).to_le_bytes());
    overwrite(&t1, 252, &0i16.to_le_bytes());
    // 002 T2: no affine at all (qform_code and sform_code 0).
    let t2 = segments.join("002/ROI-T2.nii");
    overwrite(&t2, 252, &0i16.to_le_bytes());
    overwrite(&t2, 254, &0i16.to_le_bytes());
    // 003 CE-T1: one slice fewer than its series (dim[3] at byte 46), still a readable file.
    let ce = segments.join("003/ROI-CE-T1.nii");
    let slices = i16::from_le_bytes(std::fs::read(&ce).unwrap()[46..48].try_into().unwrap());
    overwrite(&ce, 46, &(slices - 1).to_le_bytes());

    let output = npcql(&[
        "-d",
        data.path().to_str().unwrap(),
        "--format",
        "csv",
        "-c",
        "SELECT patient_id, modality, pairing, round(pairing_offset_mm, 3) AS offset_mm FROM masks \
         WHERE pairing <> 'scanner' OR pairing IS NULL ORDER BY 1, 2",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: Vec<String> = stdout(&output).lines().skip(1).map(str::to_string).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0], "001,T1,convention,2.0");
    assert_eq!(rows[1], "002,T2,convention,");
    assert!(rows[2].starts_with("003,CE-T1,unpaired,"), "{}", rows[2]);
    let offset: f64 = rows[2].rsplit(',').next().unwrap().parse().unwrap();
    // Half a slice between the two grids' centres.
    assert!(offset > 0.0, "{offset}");
}
