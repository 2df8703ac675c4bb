//! Writing one synthetic patient in the real layout: a DICOM series per modality, a NIfTI
//! mask per series on that series' grid, and the clinical csv row.

use std::path::Path;

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use ndarray::Array3;
use nifti::NiftiHeader;
use nifti::writer::WriterOptions;

use super::cohort::{SeriesGeometry, SyntheticPatient};
use crate::dataset::Modality;
use crate::dataset::canonical::CANONICAL_COLUMNS;
use crate::error::{Error, Result};

/// Writes the patient's folder under `segments_dir`, and two simulated models' outputs for it
/// under `predictions_dir`.
pub fn write_patient(segments_dir: &Path, predictions_dir: &Path, patient: &SyntheticPatient) -> Result<()> {
    let dir = segments_dir.join(&patient.patient_id);
    for (series_number, (modality, geometry)) in Modality::ALL.iter().zip(&patient.series).enumerate() {
        let mask = rasterise(patient, geometry);
        write_series(
            &dir.join(modality.series_folder()),
            patient,
            *modality,
            series_number + 1,
            geometry,
            &mask,
        )?;
        let mask_path = dir.join(format!("{}.nii", modality.mask_stem()));
        write_mask(&mask_path, geometry, &mask)?;
        for (model, prediction) in simulated_predictions(patient, *modality, &mask) {
            let folder = predictions_dir
                .join(model)
                .join("MRI-Segments")
                .join(&patient.patient_id);
            std::fs::create_dir_all(&folder).map_err(|e| cannot_write(&folder, e))?;
            write_mask(
                &folder.join(format!("{}.nii.gz", modality.mask_stem())),
                geometry,
                &prediction,
            )?;
        }
    }
    Ok(())
}

/// What two simulated segmentation models predict for one mask: `dilated` grows it by one
/// voxel in-plane, `shifted` moves it one voxel along x and y. `shifted` misses every 16th
/// patient's tumour on T1 (an empty mask); `dilated` writes nothing for every 20th patient's T2.
fn simulated_predictions(
    patient: &SyntheticPatient,
    modality: Modality,
    mask: &Array3<u8>,
) -> Vec<(&'static str, Array3<u8>)> {
    let number: usize = patient.patient_id.parse().unwrap_or(0);
    let (nx, ny, _) = mask.dim();
    let mut dilated = mask.clone();
    let mut shifted = Array3::<u8>::zeros(mask.dim());
    for ((i, j, k), &v) in mask.indexed_iter() {
        if v == 0 {
            continue;
        }
        for (di, dj) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
            let (x, y) = (i as i64 + di, j as i64 + dj);
            if (0..nx as i64).contains(&x) && (0..ny as i64).contains(&y) {
                dilated[[x as usize, y as usize, k]] = 1;
            }
        }
        if i + 1 < nx && j + 1 < ny {
            shifted[[i + 1, j + 1, k]] = 1;
        }
    }
    if number % 16 == 5 && modality == Modality::T1 {
        shifted.fill(0);
    }
    let mut models = vec![("shifted", shifted)];
    if !(number % 20 == 7 && modality == Modality::T2) {
        models.insert(0, ("dilated", dilated));
    }
    models
}

/// The tumour sampled at the voxel centres of `geometry`: array[column, row, slice].
pub fn rasterise(patient: &SyntheticPatient, geometry: &SeriesGeometry) -> Array3<u8> {
    let mut mask = Array3::<u8>::zeros((geometry.columns, geometry.rows, geometry.slices));
    let (low, high) = patient.tumour.bounds();
    let origin = geometry.origin();
    let steps = [geometry.pixel_mm, geometry.pixel_mm, geometry.slice_spacing_mm];
    let dims = [geometry.columns, geometry.rows, geometry.slices];
    // Only the voxels inside the tumour's bounding box can be tumour.
    let range = |axis: usize| {
        let first = ((low[axis] - origin[axis]) / steps[axis]).floor().max(0.0) as usize;
        let last =
            (((high[axis] - origin[axis]) / steps[axis]).ceil().max(0.0) as usize).min(dims[axis].saturating_sub(1));
        first..=last
    };
    for k in range(2) {
        for j in range(1) {
            for i in range(0) {
                if patient
                    .tumour
                    .contains(geometry.voxel_centre(i as f64, j as f64, k as f64))
                {
                    mask[[i, j, k]] = 1;
                }
            }
        }
    }
    mask
}

/// DS (decimal string) text: at most 16 characters, no trailing zeros.
fn ds(v: f64) -> String {
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.chars().take(16).collect()
}

fn ds_multi(values: &[f64]) -> PrimitiveValue {
    PrimitiveValue::Strs(values.iter().map(|v| ds(*v)).collect())
}

fn uid(parts: &[u64]) -> String {
    // 2.25 is the UUID-derived root; the rest only needs to be unique within the sample.
    let suffix: Vec<String> = parts.iter().map(u64::to_string).collect();
    format!("2.25.1{}", suffix.join("."))
}

fn write_series(
    dir: &Path,
    patient: &SyntheticPatient,
    modality: Modality,
    series_number: usize,
    g: &SeriesGeometry,
    mask: &Array3<u8>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "cannot create", e))?;
    let id: u64 = patient.patient_id.parse().unwrap_or(0);
    let origin = g.origin();
    let tissue = match modality {
        Modality::T1 => 420.0,
        Modality::T2 => 520.0,
        Modality::CeT1 => 450.0,
    };
    let tumour = |p| patient.texture.intensity(modality, p);
    for k in 0..g.slices {
        let pixels = synthetic_slice(g, mask, k, tissue, tumour);
        let z = origin[2] + k as f64 * g.slice_spacing_mm;
        let str_el = |tag: Tag, vr: VR, value: &str| DataElement::new(tag, vr, PrimitiveValue::from(value));
        let obj = InMemDicomObject::from_element_iter([
            str_el(tags::SOP_CLASS_UID, VR::UI, uids::MR_IMAGE_STORAGE),
            str_el(
                tags::SOP_INSTANCE_UID,
                VR::UI,
                &uid(&[id, series_number as u64, k as u64 + 1]),
            ),
            str_el(tags::MODALITY, VR::CS, "MR"),
            str_el(tags::MANUFACTURER, VR::LO, patient.scanner.manufacturer()),
            str_el(tags::MANUFACTURER_MODEL_NAME, VR::LO, patient.scanner.model()),
            str_el(tags::PATIENT_NAME, VR::PN, &patient.patient_id),
            str_el(tags::PATIENT_ID, VR::LO, &patient.patient_id),
            str_el(tags::STUDY_INSTANCE_UID, VR::UI, &uid(&[id])),
            str_el(tags::SERIES_INSTANCE_UID, VR::UI, &uid(&[id, series_number as u64])),
            str_el(tags::FRAME_OF_REFERENCE_UID, VR::UI, &uid(&[id, 0])),
            str_el(tags::SERIES_DESCRIPTION, VR::LO, modality.series_folder()),
            str_el(tags::SERIES_NUMBER, VR::IS, &series_number.to_string()),
            str_el(tags::INSTANCE_NUMBER, VR::IS, &(k + 1).to_string()),
            DataElement::new(
                tags::IMAGE_POSITION_PATIENT,
                VR::DS,
                ds_multi(&[origin[0], origin[1], z]),
            ),
            DataElement::new(
                tags::IMAGE_ORIENTATION_PATIENT,
                VR::DS,
                ds_multi(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
            ),
            str_el(tags::SLICE_LOCATION, VR::DS, &ds(z)),
            str_el(tags::SLICE_THICKNESS, VR::DS, &ds(g.slice_thickness_mm)),
            str_el(tags::SPACING_BETWEEN_SLICES, VR::DS, &ds(g.slice_spacing_mm)),
            DataElement::new(tags::PIXEL_SPACING, VR::DS, ds_multi(&[g.pixel_mm, g.pixel_mm])),
            str_el(tags::REPETITION_TIME, VR::DS, &ds(g.repetition_time_ms)),
            str_el(tags::ECHO_TIME, VR::DS, &ds(g.echo_time_ms)),
            str_el(tags::FLIP_ANGLE, VR::DS, &ds(g.flip_angle)),
            str_el(
                tags::MAGNETIC_FIELD_STRENGTH,
                VR::DS,
                &ds(patient.scanner.field_strength_t()),
            ),
            DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(g.rows as u16)),
            DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(g.columns as u16)),
            DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16)),
            str_el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
            DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(16u16)),
            DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(12u16)),
            DataElement::new(tags::HIGH_BIT, VR::US, PrimitiveValue::from(11u16)),
            DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, PrimitiveValue::from(0u16)),
            DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into())),
        ]);
        let file = obj
            .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
            .map_err(|e| cannot_write(dir, e))?;
        // File names end in a number that is not zero-padded, as in the real dataset.
        let path = dir.join(format!("IM{}.dcm", k + 1));
        file.write_to_file(&path).map_err(|e| cannot_write(&path, e))?;
    }
    Ok(())
}

/// A plausible MR slice, row-major: a head-shaped ellipse of smoothly varying tissue, and the
/// tumour's textured intensity (`tumour` at a voxel centre) inside the mask. Smooth, noise-free
/// tissue and values in steps of 8 keep the sample small in git.
fn synthetic_slice(
    g: &SeriesGeometry,
    mask: &Array3<u8>,
    k: usize,
    tissue: f64,
    tumour: impl Fn([f64; 3]) -> f64,
) -> Vec<u16> {
    let mut pixels = Vec::with_capacity(g.rows * g.columns);
    for j in 0..g.rows {
        for i in 0..g.columns {
            let p = g.voxel_centre(i as f64, j as f64, k as f64);
            let head = (p[0] / 75.0).powi(2) + ((p[1] - 10.0) / 95.0).powi(2);
            let value = if mask[[i, j, k]] != 0 {
                tumour(p)
            } else if head < 1.0 {
                tissue * (0.85 + 0.15 * (1.0 - head)) + 40.0 * (p[0] / 18.0).sin() * (p[1] / 23.0).cos()
            } else {
                0.0
            };
            pixels.push((value / 8.0).round() as u16 * 8);
        }
    }
    pixels
}

/// A uint8 NIfTI mask on the series grid, with the DICOM geometry as its RAS affine.
fn write_mask(path: &Path, g: &SeriesGeometry, mask: &Array3<u8>) -> Result<()> {
    let origin = g.origin();
    let mut header = NiftiHeader {
        pixdim: [
            1.0,
            g.pixel_mm as f32,
            g.pixel_mm as f32,
            g.slice_spacing_mm as f32,
            1.0,
            1.0,
            1.0,
            1.0,
        ],
        xyzt_units: 2, // mm
        qform_code: 1,
        sform_code: 1,
        // LPS → RAS flips x and y: a 180° rotation about z, quaternion (b, c, d) = (0, 0, 1).
        quatern_b: 0.0,
        quatern_c: 0.0,
        quatern_d: 1.0,
        quatern_x: -origin[0] as f32,
        quatern_y: -origin[1] as f32,
        quatern_z: origin[2] as f32,
        srow_x: [-g.pixel_mm as f32, 0.0, 0.0, -origin[0] as f32],
        srow_y: [0.0, -g.pixel_mm as f32, 0.0, -origin[1] as f32],
        srow_z: [0.0, 0.0, g.slice_spacing_mm as f32, origin[2] as f32],
        ..NiftiHeader::default()
    };
    header
        .set_description_str("npcql synthetic tumour mask")
        .map_err(|e| cannot_write(path, e))?;
    WriterOptions::new(path)
        .reference_header(&header)
        .write_nifti(mask)
        .map_err(|e| cannot_write(path, e))
}

/// The clinical csv with the canonical column names.
pub fn write_clinical(path: &Path, patients: &[SyntheticPatient]) -> Result<()> {
    let mut writer = csv::Writer::from_path(path).map_err(|e| cannot_write(path, e))?;
    writer
        .write_record(CANONICAL_COLUMNS.map(|(name, _)| name))
        .map_err(|e| cannot_write(path, e))?;
    for p in patients {
        let c = &p.clinical;
        let opt = |v: Option<String>| v.unwrap_or_default();
        writer
            .write_record([
                p.patient_id.clone(),
                c.sex.to_string(),
                opt(c.age.map(|a| a.to_string())),
                opt(c.ebv_dna.map(|v| format!("{v}"))),
                if c.ebv_positive { "positive" } else { "negative" }.to_string(),
                opt(c.who_type.map(str::to_string)),
                c.t_stage.to_string(),
                c.n_stage.to_string(),
                c.m_stage.to_string(),
                c.clinical_stage.to_string(),
                format!("{:.1}", c.pfs_months),
                u8::from(c.pfs_event).to_string(),
            ])
            .map_err(|e| cannot_write(path, e))?;
    }
    writer.flush().map_err(|e| Error::io(path, "cannot write", e))
}

/// A write of the sample that failed, in the writing crate's words.
fn cannot_write(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::io(path, "cannot write", std::io::Error::other(error.to_string()))
}
