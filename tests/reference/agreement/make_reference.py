"""Reference values for npcql's segmentation agreement functions, from three peers.

Writes masks/*.nii.gz (generated pairs: dilated, eroded, shifted, two lesions against one,
empty, anisotropic 0.45 x 0.45 x 5 mm, a test mask on another grid) and cases.csv with, per
pair, what MONAI, SimpleITK and DeepMind's surface-distance say; and data_sample.csv with MONAI's
values for T2 against T1 and CE-T1 masks of the bundled sample (other grids: resampled first);
and data_sample_predictions.csv with all three peers' values for every simulated model output
under data-sample/predictions against its radiologist mask.

A test mask on another grid is resampled onto the reference's grid with SimpleITK
(nearest neighbour, physical space) before any peer sees it, as npcql does.

Run (versions used: MONAI 1.6.1 on torch 2.15, SimpleITK 2.5.7, surface-distance 0.1,
nibabel, scipy 1.17):
    python -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install SimpleITK nibabel scipy torch monai surface-distance
    /tmp/refvenv/bin/python tests/reference/agreement/make_reference.py
"""

import csv
import os

import nibabel as nib
import numpy as np
import SimpleITK as sitk
import surface_distance
import torch
from monai.metrics import (
    compute_average_surface_distance,
    compute_dice,
    compute_hausdorff_distance,
    compute_surface_dice,
)
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MASKS = os.path.join(HERE, "masks")
TOLERANCE_MM = 2.0


def ellipsoid(shape, affine, centre_mm, radii_mm):
    """Voxels whose centres (world mm, through `affine`) lie in the ellipsoid."""
    index = np.indices(shape).reshape(3, -1)
    world = affine[:3, :3] @ index + affine[:3, 3:4]
    inside = sum(((world[a] - centre_mm[a]) / radii_mm[a]) ** 2 for a in range(3)) <= 1.0
    return inside.reshape(shape)


def grid(spacing, origin=(0.0, 0.0, 0.0)):
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = origin
    return affine


def save(name, mask, affine):
    image = nib.Nifti1Image(mask.astype(np.uint8), affine)
    image.header.set_xyzt_units("mm")
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    path = os.path.join(MASKS, name)
    nib.save(image, path)
    return path


def on_reference_grid(reference_path, test_path):
    """The test mask as a boolean array on the reference's grid (SimpleITK, nearest neighbour)."""
    reference = sitk.ReadImage(reference_path)
    test = sitk.ReadImage(test_path)
    moved = sitk.Resample(test, reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0, test.GetPixelID())
    return sitk.GetArrayFromImage(moved).transpose(2, 1, 0) != 0  # ITK arrays are z, y, x


def peers(reference_path, test_path):
    reference_image = nib.load(reference_path)
    reference = np.asarray(reference_image.dataobj) != 0
    spacing = [float(s) for s in reference_image.header.get_zooms()[:3]]
    test = on_reference_grid(reference_path, test_path)
    resampled = not np.allclose(nib.load(test_path).affine, reference_image.affine) or (
        nib.load(test_path).shape != reference_image.shape
    )
    row = {
        "true_positive": int((reference & test).sum()),
        "false_positive": int((~reference & test).sum()),
        "false_negative": int((reference & ~test).sum()),
        "resampled": resampled,
    }

    # MONAI: y_pred = test, y = reference, one channel, spacing in mm.
    y = torch.from_numpy(reference[None, None].astype(np.float32))
    y_pred = torch.from_numpy(test[None, None].astype(np.float32))
    one = lambda t: float(t.flatten()[0])  # noqa: E731
    row["monai_dice"] = one(compute_dice(y_pred, y, include_background=True, ignore_empty=False))
    row["monai_hausdorff"] = one(compute_hausdorff_distance(y_pred, y, include_background=True, spacing=spacing))
    row["monai_hausdorff95"] = one(
        compute_hausdorff_distance(y_pred, y, include_background=True, percentile=95, spacing=spacing)
    )
    # MONAI takes the percentile with torch.quantile in float32, whose rank q·(n−1) loses the
    # fraction's low digits for a few thousand distances; the same distances in float64 with
    # numpy's percentile (linear, the same definition) separate that rounding from the metric.
    if reference.any() and test.any():
        from monai.metrics.utils import get_edge_surface_distance

        _, (test_to_reference, reference_to_test), _ = get_edge_surface_distance(
            y_pred[0, 0].bool(), y[0, 0].bool(), spacing=spacing, symmetric=True
        )
        row["monai_hausdorff95_float64"] = max(
            float(np.percentile(d.numpy().astype(np.float64), 95)) for d in (test_to_reference, reference_to_test)
        )
    row["monai_assd"] = one(
        compute_average_surface_distance(y_pred, y, include_background=True, symmetric=True, spacing=spacing)
    )
    row["monai_surface_dice"] = one(
        compute_surface_dice(y_pred, y, class_thresholds=[TOLERANCE_MM], include_background=True, spacing=spacing)
    )

    # SimpleITK on the same arrays: the test mask as "source", the reference as "target".
    def image(mask):
        i = sitk.GetImageFromArray(mask.transpose(2, 1, 0).astype(np.uint8))
        i.SetSpacing(spacing)
        return i

    if reference.any() or test.any():
        overlap = sitk.LabelOverlapMeasuresImageFilter()
        overlap.Execute(image(test), image(reference))
        row["sitk_dice"] = overlap.GetDiceCoefficient()
        row["sitk_jaccard"] = overlap.GetJaccardCoefficient()
        row["sitk_volume_similarity"] = overlap.GetVolumeSimilarity()
    if reference.any() and test.any():
        hausdorff = sitk.HausdorffDistanceImageFilter()
        hausdorff.Execute(image(reference), image(test))
        row["sitk_hausdorff"] = hausdorff.GetHausdorffDistance()
        row["sitk_average_hausdorff"] = hausdorff.GetAverageHausdorffDistance()

        # DeepMind's surface-distance: surfels weighted by their area.
        d = surface_distance.compute_surface_distances(reference, test, spacing)
        row["sd_hausdorff"] = surface_distance.compute_robust_hausdorff(d, 100)
        row["sd_hausdorff95"] = surface_distance.compute_robust_hausdorff(d, 95)
        to_test, to_reference = surface_distance.compute_average_surface_distance(d)
        row["sd_average_reference_to_test"] = to_test
        row["sd_average_test_to_reference"] = to_reference
        row["sd_surface_dice"] = surface_distance.compute_surface_dice_at_tolerance(d, TOLERANCE_MM)
    return row


def generated_cases():
    iso = grid((1.0, 1.0, 1.0))
    shape = (40, 40, 30)
    lesion = ellipsoid(shape, iso, (20, 19, 15), (8.5, 6.2, 5.3))
    cases = [
        ("dilated", lesion, ndimage.binary_dilation(lesion), iso, iso, shape, shape),
        ("eroded", lesion, ndimage.binary_erosion(lesion), iso, iso, shape, shape),
        ("shifted", lesion, np.roll(lesion, (2, -1, 1), axis=(0, 1, 2)), iso, iso, shape, shape),
    ]
    two = ellipsoid(shape, iso, (12, 12, 10), (5, 4, 4)) | ellipsoid(shape, iso, (28, 27, 20), (4.5, 5, 3.5))
    cases.append(("two lesions against one", two, ellipsoid(shape, iso, (12, 12, 10), (5.5, 4, 4)), iso, iso, shape, shape))
    empty = np.zeros(shape, dtype=bool)
    cases.append(("test empty", lesion, empty, iso, iso, shape, shape))
    cases.append(("both empty", empty, empty, iso, iso, shape, shape))

    aniso = grid((0.45, 0.45, 5.0))
    ashape = (96, 96, 12)
    tumour = ellipsoid(ashape, aniso, (21.0, 22.0, 27.0), (13.0, 9.5, 17.0))
    cases.append(("anisotropic 0.45 x 0.45 x 5 mm shifted", tumour, np.roll(tumour, (3, 0, 1), axis=(0, 1, 2)), aniso, aniso, ashape, ashape))

    # The same tumour drawn on a T1-like grid: coarser in-plane, another origin.
    fine, coarse = grid((0.5, 0.5, 4.0)), grid((0.9, 0.9, 4.0), origin=(0.3, -0.2, 2.0))
    fshape, cshape = (80, 80, 12), (46, 46, 12)
    cases.append((
        "other grid",
        ellipsoid(fshape, fine, (20.0, 19.0, 22.0), (11.0, 8.0, 13.0)),
        ellipsoid(cshape, coarse, (20.5, 19.0, 22.0), (11.0, 8.5, 13.0)),
        fine, coarse, fshape, cshape,
    ))
    return cases


FIELDS = [
    "case", "reference", "test", "tolerance_mm", "true_positive", "false_positive", "false_negative", "resampled",
    "monai_dice", "monai_hausdorff", "monai_hausdorff95", "monai_hausdorff95_float64", "monai_assd",
    "monai_surface_dice",
    "sitk_dice", "sitk_jaccard", "sitk_volume_similarity", "sitk_hausdorff", "sitk_average_hausdorff",
    "sd_hausdorff", "sd_hausdorff95", "sd_average_reference_to_test", "sd_average_test_to_reference", "sd_surface_dice",
]


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS, restval="")
        w.writeheader()
        for row in rows:
            w.writerow({k: (repr(float(v)) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()})


def main():
    os.makedirs(MASKS, exist_ok=True)
    rows = []
    for number, (case, reference, test, ref_affine, test_affine, _, _) in enumerate(generated_cases()):
        stem = f"{number:02d}"
        reference_path = save(f"{stem}-reference.nii.gz", reference, ref_affine)
        test_path = save(f"{stem}-test.nii.gz", test, test_affine)
        row = {"case": case, "reference": os.path.relpath(reference_path, HERE),
               "test": os.path.relpath(test_path, HERE), "tolerance_mm": TOLERANCE_MM}
        row.update(peers(reference_path, test_path))
        rows.append(row)
        print(case, {k: v for k, v in row.items() if k.startswith("monai")})
    write(os.path.join(HERE, "cases.csv"), rows)

    sample = os.path.join(ROOT, "data-sample", "MRI-Segments")
    rows = []
    for patient in ["001", "002", "003"]:
        reference_path = os.path.join(sample, patient, "ROI-T2.nii")
        for other in ["T1", "CE-T1"]:
            test_path = os.path.join(sample, patient, f"ROI-{other}.nii")
            row = {"case": f"{patient} T2 against {other}", "reference": os.path.relpath(reference_path, ROOT),
                   "test": os.path.relpath(test_path, ROOT), "tolerance_mm": TOLERANCE_MM}
            row.update(peers(reference_path, test_path))
            rows.append(row)
    write(os.path.join(HERE, "data_sample.csv"), rows)

    # Every simulated prediction of the sample (predictions/MODEL/MRI-Segments/NNN/ROI-*.nii.gz)
    # against its radiologist mask: for tests/slt/agreement.slt to join with the predictions table.
    predictions = os.path.join(ROOT, "data-sample", "predictions")
    rows = []
    for model in sorted(os.listdir(predictions)):
        for patient in sorted(os.listdir(os.path.join(predictions, model, "MRI-Segments"))):
            for modality in ["T1", "T2", "CE-T1"]:
                test_path = os.path.join(predictions, model, "MRI-Segments", patient, f"ROI-{modality}.nii.gz")
                if not os.path.exists(test_path):
                    continue
                reference_path = os.path.join(sample, patient, f"ROI-{modality}.nii")
                row = {"case": f"{model} {patient} {modality}", "reference": os.path.relpath(reference_path, ROOT),
                       "test": os.path.relpath(test_path, ROOT), "tolerance_mm": TOLERANCE_MM}
                row.update(peers(reference_path, test_path))
                rows.append({k: v for k, v in row.items() if not isinstance(v, float) or np.isfinite(v)})
    write(os.path.join(HERE, "data_sample_predictions.csv"), rows)


if __name__ == "__main__":
    main()
