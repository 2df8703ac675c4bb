#!/usr/bin/env python3
"""Writes the tumour-picture orientation fixtures under tests/data/slices (deterministic: same bytes
every run).

A phantom head, axial: 24 columns x 20 rows x 5 slices of 2 x 2 x 4 mm, background 100, with
  - a bright marker (1000) on the patient's left (+x in LPS): columns 20..22, rows 9..11;
  - a dark marker (0) anterior (-y): columns 11..13, rows 1..3;
  - a tumour mask shaped as an L with a one-voxel hole on slices 1..3: columns 8..14 x rows 8..13
    minus columns 11..14 x rows 11..13, minus the hole at column 10, row 10 (on slice 2 only).
Stored six ways, each the same physical image and mask (read back by SimpleITK and compared voxel by
voxel on the first grid, as tests/reference/radiomics/make_cases.py checks its variants):
  standard         row cosine (1,0,0), column cosine (0,1,0)
  rows_flipped     column cosine negated, rows stored bottom-up
  columns_flipped  row cosine negated, columns stored right-to-left
  slices_reversed  file names and InstanceNumber reversed
  transposed       row and column cosines swapped, pixel array transposed
  oblique          standard, rotated 10 degrees about the patient's z axis (the image itself turns,
                   so this one is not compared with the others; its markers stay left and anterior)
Each folder: <name>/T2WI/IM1.dcm.. and <name>/ROI-T2.nii (on the grid SimpleITK reads the series into).

  ~/.cache/pyradiomics-venv/bin/python tests/reference/slices/make_orientation.py
"""

import shutil
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "radiomics"))
import make_cases as mc  # noqa: E402  (its Volume, series and mask writers, and variant helpers)

OUT = HERE.parents[1] / "data/slices"
SHAPE = (5, 20, 24)  # slices, rows, columns
SPACING = (2.0, 2.0, 4.0)


def phantom():
    image = np.full(SHAPE, 100, dtype=np.int16)
    image[:, 9:12, 20:23] = 1000  # left: high column index, x grows with the column
    image[:, 1:4, 11:14] = 0  # anterior: low row index, y grows with the row
    mask = np.zeros(SHAPE, dtype=np.uint8)
    mask[1:4, 8:14, 8:15] = 1
    mask[1:4, 11:14, 11:15] = 0
    mask[2, 10, 10] = 0
    origin = (-23.0, -19.0, -8.0)
    axes = np.eye(3)
    return mc.Volume(image, origin, SPACING, axes), mc.Volume(mask, origin, SPACING, axes)


def oblique(volume, degrees):
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    axes = (rotation @ volume.axes.T).T
    return mc.Volume(volume.array, volume.origin, volume.spacing, axes)


def rounded_ds(x):
    """A DS value rounded to 8 decimals (make_cases' writer insists on exact values, which an
    oblique grid's cosines and positions are not): 1e-8 mm, far below any tolerance."""
    return format(round(float(x), 8), ".8f").rstrip("0").rstrip(".")


def write_rounded_mask(volume, path):
    """make_cases' mask writer without its exactness check: an oblique affine is not exact in
    float32 (micrometres off, far inside the pairing's tenth of a voxel)."""
    import nibabel as nib
    data = np.asarray(volume.array, dtype=np.uint8).transpose(2, 1, 0)
    affine = mc.nifti_affine(volume)
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    image, mask = phantom()
    nz = SHAPE[0]
    variants = {
        "standard": (image, {}),
        "rows_flipped": (mc.right_handed(mc.flipped(image, 1)), {}),
        "columns_flipped": (mc.right_handed(mc.flipped(image, 0)), {}),
        "slices_reversed": (image, dict(file_numbers=[nz - k for k in range(nz)], instance_numbers=[nz - k for k in range(nz)])),
        "transposed": (mc.right_handed(mc.transposed(image)), {}),
        "oblique": (oblique(image, 10.0), {}),
    }
    original = image.to_sitk()
    exact_ds = mc.ds_str
    for n, (name, (grid, options)) in enumerate(variants.items()):
        folder = OUT / name
        mc.ds_str = rounded_ds if name == "oblique" else exact_ds
        mc.write_series(grid, folder / "T2WI", patient_id="950", series_key=str(n), series_number=n + 1,
                        description="orientation phantom", modality="MR", **options)
        read = mc.read_series(folder / "T2WI")
        if name == "oblique":
            grid_mask = mc.Volume.from_sitk(read).with_array(mask.array)
        else:
            grid_mask = mc.Volume.from_sitk(read).with_array(mc.on_grid(mask.to_sitk(), read, 255).astype(np.uint8))
        assert grid_mask.array.max() <= 1
        (write_rounded_mask if name == "oblique" else mc.write_mask)(grid_mask, folder / "ROI-T2.nii")
        if name != "oblique":
            nifti = sitk.ReadImage(str(folder / "ROI-T2.nii"))
            assert np.array_equal(mc.on_grid(read, original, -30000), image.array), name
            assert np.array_equal(mc.on_grid(nifti, original, 255), mask.array), name
        print(f"{name}: direction {np.round(read.GetDirection(), 3).tolist()}")


if __name__ == "__main__":
    main()
