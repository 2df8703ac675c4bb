#!/usr/bin/env python3
"""Writes the radiomics() test inputs under tests/data/radiomics (deterministic: same bytes every run).

  MRI-Segments/900/T2WI, ROI-T2.nii   the IBSI digital phantom (radiomics/src/phantom.rs): 5 columns x
                                      4 rows x 4 slices of 2 mm, grey levels 1..9, 74-voxel ROI
  MRI-Segments/901..904/T2WI, ROI-T2.nii
                                      PyRadiomics' own test cases from the 3.0.1 sdist's data/ folder,
                                      cropped around the label's bounding box (margin 8 voxels
                                      in-plane, 3 slices, clipped to the image):
                                      901 brain1 (MR), 902 brain2 (MR), 903 breast1 (MR), 904 lung1 (CT)
  MRI-Segments/902/T1WI, ROI-T1.nii   a copy of 902's series (own SeriesInstanceUID, SeriesNumber 1) with a
                                      two-label mask: 1 = tumour, 2 = tumour voxels whose column index is
                                      >= the middle column of the tumour's bounding box
  clinical.csv                        one row per id, canonical columns (data-sample/clinical.csv)
  variants/<name>/T2WI, ROI-T2.nii    (flat folders, no patient level) case 903 stored differently; every
                                      variant is the same physical image and mask (checked below)

Series: Explicit VR Little Endian, one file per slice, IM1.. (not zero-padded) in position order along the
slice normal; 16-bit signed stored values = the sdist's values for MR; the CT case is stored unsigned with
RescaleIntercept -1024 / RescaleSlope 1 (stored = HU + 1024). UIDs are a fixed root + case id (+ series
number + instance number), so nothing changes between runs.

Geometry: the sdist's images are made right-handed (brain1/brain2 have a flipped y axis: their slices are
reversed so that slice k+1 lies along row x column cosines, as every DICOM reader stacks them), and spacing
and origin are rounded (in-plane spacing to 1/1024 mm, slice spacing and origin to 1/64 mm) so that they are
exact in float32 (NIfTI) and in short DS strings: the DICOM and the NIfTI grids then agree to the bit.
Masks: uncompressed NIfTI-1, uint8, sform = qform (code 1) = diag(-1,-1,1) . [X.dc | Y.dr | n.ds | S0]
(LPS -> RAS), NIfTI axis 0 = DICOM column, 1 = row, 2 = slice (reference/radiomics.md §4.3).

Variants of 903 (tests/reference/radiomics/README.md says what each checks):
  slices_reversed    file names and InstanceNumber reversed (IM1 = last slice along the normal);
                     every slice keeps its own position, so the physical image is unchanged
  rows_flipped       column cosine negated, pixel rows reversed, origin moved to the last row (the
                     normal flips too, so the slice order along it is reversed)
  columns_flipped    row cosine negated, pixel columns reversed, origin moved
  transposed         row/column cosines swapped, PixelSpacing swapped, pixel array transposed
  shuffled_names     file names a fixed permutation of IM1..IMn (InstanceNumber still in position order)
  rescaled           RescaleSlope 0.5, RescaleIntercept -100, stored values 2v + 200 (unsigned)
  mask_slices_reversed, mask_rows_flipped, mask_columns_flipped, mask_transposed
                     the series as 903's, the mask's voxel array flipped / transposed with its affine
                     adjusted (so it is no longer in the series' index order, only in the same space)
Each series variant's mask is written on the grid SimpleITK reads the variant series into. Each variant is
read back with SimpleITK (ImageSeriesReader, GDCM order; the mask with ReadImage), resampled onto 903's grid
(nearest neighbour, identity transform) and must equal 903's voxels and mask exactly.

Run (PyRadiomics' sdist unpacked for its data/ folder; getTestCase would download from GitHub):
  python3 -m venv ~/.cache/pyradiomics-venv
  ~/.cache/pyradiomics-venv/bin/pip install "numpy<2" PyWavelets pykwalify six SimpleITK pydicom nibabel wheel
  ~/.cache/pyradiomics-venv/bin/pip download --no-build-isolation --no-binary :all: --no-deps pyradiomics==3.0.1
  tar xzf pyradiomics-3.0.1.tar.gz -C ~/.cache/pyrad-sdist
  ~/.cache/pyradiomics-venv/bin/python tests/reference/radiomics/make_cases.py [--sdist-data DIR]
Made with pydicom 3.0.2, nibabel 5.4.2, SimpleITK 2.5.7, numpy 1.26.4 (PyRadiomics itself is not needed here).
"""

import argparse
import csv
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
OUT = REPO / "tests/data/radiomics"
DEFAULT_SDIST_DATA = Path.home() / ".cache/pyrad-sdist/pyradiomics-3.0.1/data"

# pydicom's UID root + a fixed number for npcql's radiomics fixtures.
UID_ROOT = "1.2.826.0.1.3680043.8.498.7301."

# id -> (sdist case, modality)
CASES = {"901": ("brain1", "MR"), "902": ("brain2", "MR"), "903": ("breast1", "MR"), "904": ("lung1", "CT")}
PHANTOM_ID = "900"
TWO_LABEL_ID = "902"
VARIANT_ID = "903"
MARGIN_XYZ = (8, 8, 3)
CT_INTERCEPT = -1024

# The IBSI digital phantom, [slice z][row y][column x] (same arrays as radiomics/src/phantom.rs).
PHANTOM_VALUES = [
    [[1, 4, 4, 1, 1], [1, 4, 6, 1, 1], [4, 1, 6, 4, 1], [4, 4, 6, 4, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 6, 1, 1], [1, 1, 3, 1, 1], [4, 4, 6, 1, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 9, 1, 1], [1, 1, 6, 1, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 6, 1, 1]],
]
PHANTOM_MASK = [
    [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
]

# One plausible clinical row per id (canonical columns of data-sample/clinical.csv).
CLINICAL = [
    ("900", "F", 47, 0, "negative", "III", "T1", "N0", "M0", "I", 60.0, 0),
    ("901", "M", 52, 4210, "positive", "III", "T3", "N2", "M0", "III", 38.4, 1),
    ("902", "M", 45, 1530, "positive", "III", "T2", "N1", "M0", "II", 71.2, 0),
    ("903", "F", 39, 0, "negative", "II", "T1", "N1", "M0", "II", 66.9, 0),
    ("904", "M", 61, 28800, "positive", "III", "T4", "N3", "M0", "IVA", 22.5, 1),
]
CLINICAL_COLUMNS = ["patient_id", "sex", "age", "ebv_dna", "ebv_status", "who_type", "t_stage", "n_stage",
                    "m_stage", "clinical_stage", "pfs_months", "pfs_event"]


class Volume:
    """A voxel array [z, y, x] on a grid: origin S0 (LPS mm), spacing (dx, dy, dz) and unit axes X, Y, Z
    (X = direction of increasing column index, Y = of increasing row index, Z = of increasing slice)."""

    def __init__(self, array, origin, spacing, axes):
        self.array = np.ascontiguousarray(array)
        self.origin = np.asarray(origin, dtype=float)
        self.spacing = np.asarray(spacing, dtype=float)
        self.axes = np.asarray(axes, dtype=float)  # rows: X, Y, Z

    @classmethod
    def from_sitk(cls, image):
        d = np.array(image.GetDirection()).reshape(3, 3)
        return cls(sitk.GetArrayFromImage(image), image.GetOrigin(), image.GetSpacing(), d.T)

    def to_sitk(self):
        image = sitk.GetImageFromArray(self.array)
        image.SetOrigin(tuple(self.origin))
        image.SetSpacing(tuple(self.spacing))
        image.SetDirection(tuple(self.axes.T.ravel()))
        return image

    def position(self, i, j, k):
        """LPS centre of voxel (column i, row j, slice k)."""
        return self.origin + i * self.spacing[0] * self.axes[0] + j * self.spacing[1] * self.axes[1] + k * self.spacing[2] * self.axes[2]

    def with_array(self, array):
        return Volume(array, self.origin, self.spacing, self.axes)


def rounded(value, step):
    return round(value / step) * step


def crop_and_tidy(image, label):
    """Crops around the label's bounding box, makes the grid right-handed, rounds its geometry."""
    lab = sitk.GetArrayFromImage(label)
    nz = np.argwhere(lab > 0)  # z, y, x
    size_zyx = np.array(lab.shape)
    margin_zyx = np.array(MARGIN_XYZ[::-1])
    lo = np.maximum(nz.min(0) - margin_zyx, 0)
    hi = np.minimum(nz.max(0) + margin_zyx + 1, size_zyx)
    z0, y0, x0 = lo
    z1, y1, x1 = hi
    vol = Volume.from_sitk(image)
    origin = vol.position(x0, y0, z0)
    img = Volume(vol.array[z0:z1, y0:y1, x0:x1], origin, vol.spacing, vol.axes)
    msk = img.with_array((lab[z0:z1, y0:y1, x0:x1] > 0).astype(np.uint8))
    spacing = np.array([rounded(vol.spacing[0], 1 / 1024), rounded(vol.spacing[1], 1 / 1024), rounded(vol.spacing[2], 1 / 64)])
    axes = np.round(vol.axes)  # the sdist's directions are axis-aligned
    assert np.allclose(axes, vol.axes, atol=1e-6)
    if np.linalg.det(axes) < 0:  # slice axis against the normal X x Y: stack the other way
        last = img.position(0, 0, img.array.shape[0] - 1)
        origin = last
        axes[2] = -axes[2]
        img = Volume(img.array[::-1], origin, spacing, axes)
        msk = img.with_array(msk.array[::-1])
    origin = np.array([rounded(c, 1 / 64) for c in origin])
    return Volume(img.array, origin, spacing, axes), Volume(msk.array, origin, spacing, axes)


def ds_str(x):
    """A DS value: shortest repr, and the geometry is chosen so that it is exact and short."""
    x = float(x)
    s = repr(int(x)) if x == int(x) else repr(x)
    assert len(s) <= 16 and float(s) == x, s
    return s


def write_series(volume, folder, *, patient_id, series_key, series_number, description, modality,
                 slope=None, intercept=None, stored_dtype="<i2", file_numbers=None, instance_numbers=None):
    """One file per slice of `volume` (slice k at position origin + k dz Z); `volume.array` holds real values.

    stored = (value - intercept) / slope. file_numbers[k] / instance_numbers[k] name slice k (default k+1)."""
    folder.mkdir(parents=True, exist_ok=True)
    nz, ny, nx = volume.array.shape
    X, Y, Z = volume.axes
    normal = np.cross(X, Y)
    stored = volume.array.astype(np.float64)
    if intercept is not None:
        stored = (stored - intercept) / slope
    assert np.array_equal(stored, np.round(stored))
    info = np.iinfo(np.dtype(stored_dtype))
    assert stored.min() >= info.min and stored.max() <= info.max
    stored = stored.astype(stored_dtype)
    series_uid = f"{UID_ROOT}{patient_id}.{series_key}"
    for k in range(nz):
        file_number = file_numbers[k] if file_numbers is not None else k + 1
        instance = instance_numbers[k] if instance_numbers is not None else k + 1
        sop_uid = f"{series_uid}.{instance}"
        sop_class = CTImageStorage if modality == "CT" else MRImageStorage
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = sop_uid
        ds.Modality = modality
        ds.Manufacturer = "npcql radiomics fixture"
        ds.SeriesDescription = description
        ds.PatientName = patient_id
        ds.PatientID = patient_id
        ds.SliceThickness = ds_str(volume.spacing[2])
        ds.SpacingBetweenSlices = ds_str(volume.spacing[2])
        ds.StudyInstanceUID = f"{UID_ROOT}{patient_id}"
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = series_number
        ds.InstanceNumber = instance
        position = volume.position(0, 0, k)
        ds.ImagePositionPatient = [ds_str(c) for c in position]
        ds.ImageOrientationPatient = [ds_str(c) for c in np.concatenate([X, Y])]
        ds.FrameOfReferenceUID = f"{UID_ROOT}{patient_id}.0"
        ds.SliceLocation = ds_str(float(np.dot(normal, position)))
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = ny
        ds.Columns = nx
        ds.PixelSpacing = [ds_str(volume.spacing[1]), ds_str(volume.spacing[0])]  # row spacing \ column spacing
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1 if np.dtype(stored_dtype).kind == "i" else 0
        if intercept is not None:
            ds.RescaleIntercept = ds_str(intercept)
            ds.RescaleSlope = ds_str(slope)
            ds.RescaleType = "HU" if modality == "CT" else "US"
        ds.PixelData = stored[k].tobytes()
        pydicom.dcmwrite(folder / f"IM{file_number}.dcm", ds, enforce_file_format=True)


def nifti_affine(volume):
    """RAS affine of the grid: LPS -> RAS negates x and y (reference/radiomics.md §4.3)."""
    lps = np.eye(4)
    lps[:3, :3] = volume.axes.T * volume.spacing  # column c = axis c times its spacing
    lps[:3, 3] = volume.origin
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def write_mask(volume, path):
    data = np.asarray(volume.array, dtype=np.uint8).transpose(2, 1, 0)  # [z,y,x] -> NIfTI [x,y,z]
    affine = nifti_affine(volume)
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    img.header.set_xyzt_units("mm")
    img.header["descrip"] = b"npcql radiomics fixture mask"
    assert np.array_equal(img.header.get_sform(), affine)
    assert np.allclose(img.header.get_qform(), affine, atol=1e-12), (img.header.get_qform(), affine)
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, str(path))


def read_series(folder):
    reader = sitk.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(names)
    return reader.Execute()


def same_grid(a, b):
    return (a.GetSize() == b.GetSize() and np.allclose(a.GetOrigin(), b.GetOrigin(), rtol=0, atol=1e-9)
            and np.allclose(a.GetSpacing(), b.GetSpacing(), rtol=0, atol=1e-12)
            and np.allclose(a.GetDirection(), b.GetDirection(), rtol=0, atol=1e-12))


def check_case(folder, mask_path, image, mask):
    """The written series and mask read back by SimpleITK are the volumes written, on one grid."""
    series = read_series(folder)
    nifti = sitk.ReadImage(str(mask_path))
    expected = image.to_sitk()
    assert same_grid(series, expected), (folder, series, expected)
    assert same_grid(nifti, expected), (mask_path, nifti.GetOrigin(), expected.GetOrigin())
    assert np.array_equal(sitk.GetArrayFromImage(series), image.array), folder
    assert np.array_equal(sitk.GetArrayFromImage(nifti), mask.array), mask_path


def on_grid(image, reference, default):
    """`image` resampled onto `reference`'s grid, nearest neighbour (the grids share voxel centres)."""
    out = sitk.Resample(image, reference, sitk.Transform(), sitk.sitkNearestNeighbor, default, image.GetPixelID())
    return sitk.GetArrayFromImage(out)


# --- variants -----------------------------------------------------------------------------------------

def flipped(volume, axis):
    """The same physical volume with voxel axis `axis` (0 = column, 1 = row, 2 = slice) stored reversed."""
    n = volume.array.shape[2 - axis]
    index = [0, 0, 0]
    index[axis] = n - 1
    origin = volume.position(*index)
    axes = volume.axes.copy()
    axes[axis] = -axes[axis]
    array = np.flip(volume.array, axis=2 - axis)
    return Volume(array, origin, volume.spacing, axes)


def transposed(volume):
    """The same physical volume with columns and rows swapped."""
    axes = volume.axes[[1, 0, 2]]
    spacing = volume.spacing[[1, 0, 2]]
    return Volume(volume.array.transpose(0, 2, 1), volume.origin, spacing, axes)


def right_handed(volume):
    """The same physical volume with the slice axis along X x Y, as a DICOM reader stacks a series."""
    X, Y, Z = volume.axes
    if np.dot(np.cross(X, Y), Z) < 0:
        return flipped(volume, 2)
    return volume


def write_variants(image, mask, modality):
    root = OUT / "variants"
    nz = image.array.shape[0]
    common = dict(patient_id=VARIANT_ID, description="T2WI", modality=modality)
    series_variants = {
        "slices_reversed": (image, dict(file_numbers=[nz - k for k in range(nz)], instance_numbers=[nz - k for k in range(nz)])),
        "rows_flipped": (right_handed(flipped(image, 1)), {}),
        "columns_flipped": (right_handed(flipped(image, 0)), {}),
        "transposed": (right_handed(transposed(image)), {}),
        "shuffled_names": (image, dict(file_numbers=[int(n) + 1 for n in np.random.default_rng(903).permutation(nz)])),
        "rescaled": (image, dict(slope=0.5, intercept=-100, stored_dtype="<u2")),
    }
    mask_variants = {
        "mask_slices_reversed": lambda m: flipped(m, 2),
        "mask_rows_flipped": lambda m: flipped(m, 1),
        "mask_columns_flipped": lambda m: flipped(m, 0),
        "mask_transposed": transposed,
    }
    original = image.to_sitk()
    written = []
    for n, (name, (grid, options)) in enumerate(series_variants.items()):
        folder = root / name
        write_series(grid, folder / "T2WI", series_key=str(10 + n), series_number=10 + n, **common, **options)
        # the mask on the grid SimpleITK reads this series into
        read = read_series(folder / "T2WI")
        grid_mask = Volume.from_sitk(read).with_array(on_grid(mask.to_sitk(), read, 255).astype(np.uint8))
        assert grid_mask.array.max() <= 1
        write_mask(grid_mask, folder / "ROI-T2.nii")
        written.append(name)
    for n, (name, change) in enumerate(mask_variants.items()):
        folder = root / name
        write_series(image, folder / "T2WI", series_key=str(20 + n), series_number=20 + n, **common)
        write_mask(change(mask), folder / "ROI-T2.nii")
        written.append(name)
    for name in written:
        folder = root / name
        series = read_series(folder / "T2WI")
        nifti = sitk.ReadImage(str(folder / "ROI-T2.nii"))
        assert np.array_equal(on_grid(series, original, -30000), image.array), name
        assert np.array_equal(on_grid(nifti, original, 255), mask.array), name
        print(f"  variant {name}: size {series.GetSize()}, direction {np.round(series.GetDirection(), 3).tolist()}, mask size {nifti.GetSize()} -- same voxels")


def phantom():
    values = np.array(PHANTOM_VALUES, dtype=np.int16)
    mask = np.array(PHANTOM_MASK, dtype=np.uint8)
    axes = np.eye(3)
    return Volume(values, (0, 0, 0), (2, 2, 2), axes), Volume(mask, (0, 0, 0), (2, 2, 2), axes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sdist-data", type=Path, default=DEFAULT_SDIST_DATA,
                        help="the data/ folder of the unpacked pyradiomics-3.0.1 sdist")
    args = parser.parse_args()

    shutil.rmtree(OUT, ignore_errors=True)
    segments = OUT / "MRI-Segments"

    cases = {PHANTOM_ID: (*phantom(), "MR")}
    for pid, (name, modality) in CASES.items():
        image = sitk.ReadImage(str(args.sdist_data / f"{name}_image.nrrd"))
        label = sitk.ReadImage(str(args.sdist_data / f"{name}_label.nrrd"))
        image_vol, mask_vol = crop_and_tidy(image, label)
        cases[pid] = (image_vol, mask_vol, modality)

    for pid, (image, mask, modality) in sorted(cases.items()):
        folder = segments / pid
        rescale = dict(slope=1, intercept=CT_INTERCEPT, stored_dtype="<u2") if modality == "CT" else {}
        write_series(image, folder / "T2WI", patient_id=pid, series_key="2", series_number=2, description="T2WI",
                     modality=modality, **rescale)
        write_mask(mask, folder / "ROI-T2.nii")
        check_case(folder / "T2WI", folder / "ROI-T2.nii", image, mask)
        roi = image.array[mask.array > 0]
        print(f"{pid}: size xyz {image.array.shape[::-1]}, spacing {image.spacing.tolist()}, ROI {int(mask.array.sum())} voxels,"
              f" values {roi.min()}..{roi.max()} (image {image.array.min()}..{image.array.max()})")
        if pid == TWO_LABEL_ID:
            two = mask.array.copy()
            columns = np.argwhere(two > 0)[:, 2]
            middle = (columns.min() + columns.max() + 1) // 2
            part = np.zeros_like(two, dtype=bool)
            part[:, :, middle:] = True
            two[(two > 0) & part] = 2
            two_mask = mask.with_array(two)
            write_series(image, folder / "T1WI", patient_id=pid, series_key="1", series_number=1, description="T1WI",
                         modality=modality)
            write_mask(two_mask, folder / "ROI-T1.nii")
            check_case(folder / "T1WI", folder / "ROI-T1.nii", image, two_mask)
            print(f"{pid}: ROI-T1.nii label 1 {int((two == 1).sum())} voxels, label 2 {int((two == 2).sum())} voxels (columns >= {middle})")
        if pid == VARIANT_ID:
            write_variants(image, mask, modality)

    with open(OUT / "clinical.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CLINICAL_COLUMNS)
        writer.writerows(CLINICAL)

    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{OUT.relative_to(REPO)}: {total / 1e6:.2f} MB")
    assert total < 4e6


if __name__ == "__main__":
    main()
