"""Writes tests/data/alt-dataset: a second dataset in the real layout, made independently of
npcql's own generator (DICOM by pydicom, masks by nibabel, clinical sheet by openpyxl), and
expected.json with the header values each table must report.

It differs from data-sample on purpose: the ROOT/data/MRI-Segments form, slice files whose
names do not sort in InstanceNumber order, masks of several NIfTI datatypes (uint8 255, int16,
float32 .nii.gz, float64), and an xlsx clinical sheet with its own column names mapped through
npcql.toml (EBV status derived from the DNA load; Yes/No progression).

Run (not needed by CI; the output is committed):
    python -m venv /root/venv-fixtures && /root/venv-fixtures/bin/pip install pydicom nibabel openpyxl numpy
    /root/venv-fixtures/bin/python tests/reference/dataset/make_alt_dataset.py
"""
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import openpyxl
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1] / "data" / "alt-dataset"
SEGMENTS = ROOT / "data" / "MRI-Segments"

# patient id -> per modality: (columns, rows, slices, pixel mm, thickness, spacing, TR, TE, flip, mask dtype, gz)
SCANNER = {
    "001": ("SIEMENS", "Skyra", 3.0),
    "002": ("GE MEDICAL SYSTEMS", "Discovery MR750w", 3.0),
    "003": ("Philips Medical Systems", "Achieva", 1.5),
}
SERIES = {
    "001": {
        "T1WI": (40, 36, 7, 0.9, 5.0, 6.0, 600.0, 10.0, 90.0, "uint8", False),
        "T2WI": (48, 48, 9, 0.75, 4.0, 4.5, 4000.0, 95.0, 120.0, "int16", False),
        "CE-T1WI": (40, 36, 7, 0.9, 5.0, 6.0, 580.0, 9.5, 90.0, "float32", True),
    },
    "002": {
        "T1WI": (32, 32, 6, 1.1, 5.0, 5.5, 520.0, 12.0, 90.0, "float64", False),
        "T2WI": (44, 44, 8, 0.8, 4.0, 4.4, 3500.0, 100.0, 111.0, "uint8", True),
        "CE-T1WI": (32, 32, 6, 1.1, 5.0, 5.5, 530.0, 11.0, 90.0, "int16", False),
    },
    "003": {
        "T1WI": (30, 30, 5, 1.2, 6.0, 6.6, 450.0, 14.0, 90.0, "uint8", False),
        "T2WI": (40, 40, 7, 0.9, 5.0, 5.5, 3000.0, 90.0, 90.0, "float32", False),
        "CE-T1WI": (30, 30, 5, 1.2, 6.0, 6.6, 470.0, 13.0, 90.0, "uint8", False),
    },
}
MASK_NAME = {"T1WI": "ROI-T1", "T2WI": "ROI-T2", "CE-T1WI": "ROI-CE-T1"}
MODALITY = {"T1WI": "T1", "T2WI": "T2", "CE-T1WI": "CE-T1"}


def write_series(folder, patient, name, spec, rng):
    cols, rows, slices, px, thick, spacing, tr, te, flip = spec[:9]
    manufacturer, model, tesla = SCANNER[patient]
    folder.mkdir(parents=True)
    series_uid = generate_uid()
    # File names are a shuffled numbering: never the InstanceNumber order.
    names = rng.permutation(slices) + 1
    for k in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{names[k]}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "MR"
        ds.Manufacturer = manufacturer
        ds.ManufacturerModelName = model
        ds.MagneticFieldStrength = tesla
        ds.PatientName = patient
        ds.PatientID = ""
        ds.SeriesInstanceUID = series_uid
        ds.SeriesDescription = name
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [-cols * px / 2, -rows * px / 2, -20.0 + k * spacing]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [px, px]
        ds.SliceThickness = thick
        ds.SpacingBetweenSlices = spacing
        ds.RepetitionTime = tr
        ds.EchoTime = te
        ds.FlipAngle = flip
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = (rng.integers(0, 4000, size=(rows, cols), dtype=np.uint16)).tobytes()
        ds.save_as(folder / f"{names[k]}.dcm", enforce_file_format=True)


def write_mask(path, spec, rng):
    cols, rows, slices, px, _, spacing = spec[:6]
    dtype, gz = spec[9], spec[10]
    mask = np.zeros((cols, rows, slices), dtype=dtype)
    c = np.array([cols, rows, slices]) / 2
    ii, jj, kk = np.indices(mask.shape)
    inside = ((ii - c[0]) / (cols / 4)) ** 2 + ((jj - c[1]) / (rows / 5)) ** 2 + ((kk - c[2]) / (slices / 3)) ** 2 < 1
    mask[inside] = 255 if dtype == "uint8" else 1
    affine = np.diag([-px, -px, spacing, 1.0])
    img = nib.Nifti1Image(mask, affine)
    img.header.set_zooms((px, px, spacing))
    nib.save(img, str(path) + (".nii.gz" if gz else ".nii"))
    return int(inside.sum())


def main():
    if ROOT.exists():
        shutil.rmtree(ROOT)
    rng = np.random.default_rng(7)
    expected = {"scans": [], "masks": []}
    for patient, series in SERIES.items():
        for name, spec in series.items():
            folder = SEGMENTS / patient / name
            write_series(folder, patient, name, spec, rng)
            voxels = write_mask(SEGMENTS / patient / MASK_NAME[name], spec, rng)
            cols, rows, slices, px, thick, spacing, tr, te, flip, dtype, gz = spec
            manufacturer, model, tesla = SCANNER[patient]
            expected["scans"].append(dict(
                patient_id=patient, modality=MODALITY[name], slice_count=slices, rows=rows, columns=cols,
                pixel_spacing_row=px, pixel_spacing_col=px, slice_thickness=thick, spacing_between_slices=spacing,
                echo_time_ms=te, repetition_time_ms=tr, flip_angle=flip, manufacturer=manufacturer, model=model,
                field_strength_t=tesla))
            expected["masks"].append(dict(
                patient_id=patient, modality=MODALITY[name], dim_x=cols, dim_y=rows, dim_z=slices,
                spacing_x=float(np.float32(px)), spacing_y=float(np.float32(px)), spacing_z=float(np.float32(spacing)),
                datatype=dtype, file=MASK_NAME[name] + (".nii.gz" if gz else ".nii"), voxels=voxels))

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Clinical"
    sheet.append(["Patient No.", "Gender", "Age (years)", "EBV DNA (copies/mL)", "Pathology", "T", "N", "M",
                  "Stage", "PFS (months)", "Progression", "Smoking"])
    sheet.append([1, "Male", 45, 25000, "WHO III", "T3", "N1", "M0", "III", 61.2, "No", "yes"])
    sheet.append([2, "Female", 52, 0, "WHO II", "T2", "N0", "M0", "II", 23.5, "Yes", "no"])
    sheet.append(["3", "Male", 38, 800, "WHO III", "T4", "N2", "M0", "IVA", 12.0, "Yes", None])
    book.save(ROOT / "NPC clinical data.xlsx")
    (ROOT / "npcql.toml").write_text(
        '[clinical]\n'
        'ebv_positive_above = 1000\n\n'
        '[clinical.columns]\n'
        'patient_id = "Patient No."\n'
        'sex = "Gender"\n'
        'age = "Age (years)"\n'
        'ebv_dna = "EBV DNA (copies/mL)"\n'
        'who_type = "Pathology"\n'
        't_stage = "T"\n'
        'n_stage = "N"\n'
        'm_stage = "M"\n'
        'clinical_stage = "Stage"\n'
        'pfs_months = "PFS (months)"\n'
        'pfs_event = "Progression"\n')
    expected["patients"] = [
        ["001", "Male", 45, 25000.0, "positive", "WHO III", 61.2, 1 - 1, "yes"],
        ["002", "Female", 52, 0.0, "negative", "WHO II", 23.5, 1, "no"],
        ["003", "Male", 38, 800.0, "negative", "WHO III", 12.0, 1, None],
    ]
    (HERE / "alt-dataset-expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
