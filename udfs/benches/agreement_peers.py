"""MONAI and SimpleITK on the pairs `benches/agreement.rs` times, from the same files, one thread.

Each peer computes what npcql's agreement(ref, test) gives, from the two files:
- MONAI 1.6: nibabel reads both masks (the test one resampled onto the reference grid by
  SimpleITK first when the grids differ, as npcql resamples it); DiceMetric, HausdorffDistanceMetric
  (max and percentile 95), SurfaceDistanceMetric (symmetric) and SurfaceDiceMetric (2 mm).
- SimpleITK 2.5: ReadImage both, Resample the test one onto the reference (nearest neighbour),
  LabelOverlapMeasuresImageFilter and HausdorffDistanceImageFilter.

Usage: python udfs/benches/agreement_peers.py DATA [RUNS]    (DATA from `npcql sample --full-size`)
"""

import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
import SimpleITK as sitk  # noqa: E402
import torch  # noqa: E402
from monai.metrics import (  # noqa: E402
    compute_average_surface_distance,
    compute_dice,
    compute_hausdorff_distance,
    compute_surface_dice,
)

torch.set_num_threads(1)
sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)

KINDS = [
    ("T2 vs dilated T2 (.nii.gz)", "predictions/dilated/MRI-Segments/{id}/ROI-T2.nii.gz"),
    ("T2 vs shifted T2 (.nii.gz)", "predictions/shifted/MRI-Segments/{id}/ROI-T2.nii.gz"),
    ("T2 vs T1 (other grid)", "MRI-Segments/{id}/ROI-T1.nii"),
]


def resampled_onto(reference_path, test_path):
    reference, test = sitk.ReadImage(reference_path), sitk.ReadImage(test_path)
    return sitk.Resample(test, reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0, test.GetPixelID())


def monai(reference_path, test_path, same_grid):
    image = nib.load(reference_path)
    reference = np.asarray(image.dataobj) != 0
    if same_grid:
        test = np.asarray(nib.load(test_path).dataobj) != 0
    else:
        test = sitk.GetArrayFromImage(resampled_onto(reference_path, test_path)).transpose(2, 1, 0) != 0
    spacing = [float(s) for s in image.header.get_zooms()[:3]]
    y = torch.from_numpy(reference[None, None])
    y_pred = torch.from_numpy(test[None, None])
    dice = compute_dice(y_pred, y, include_background=True, ignore_empty=False)
    hd = compute_hausdorff_distance(y_pred, y, include_background=True, spacing=spacing)
    hd95 = compute_hausdorff_distance(y_pred, y, include_background=True, percentile=95, spacing=spacing)
    assd = compute_average_surface_distance(y_pred, y, include_background=True, symmetric=True, spacing=spacing)
    nsd = compute_surface_dice(y_pred, y, class_thresholds=[2.0], include_background=True, spacing=spacing)
    return float(dice), float(hd95), float(hd), float(assd), float(nsd)


def simpleitk(reference_path, test_path, same_grid):
    reference = sitk.ReadImage(reference_path)
    test = sitk.ReadImage(test_path) if same_grid else resampled_onto(reference_path, test_path)
    test.CopyInformation(reference)
    overlap = sitk.LabelOverlapMeasuresImageFilter()
    overlap.Execute(test, reference)
    hausdorff = sitk.HausdorffDistanceImageFilter()
    hausdorff.Execute(reference, test)
    return overlap.GetDiceCoefficient(), hausdorff.GetHausdorffDistance()


def timed(runs, f):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    data = sys.argv[1]
    runs = max(1, int(sys.argv[2])) if len(sys.argv) > 2 else 3
    patients = sorted(os.listdir(os.path.join(data, "MRI-Segments")))
    print(f"{len(patients)} patients of {data}, one thread, median of {runs} runs per pair, then over pairs")
    print(f"{'pair':<28} {'MONAI (ms)':>11} {'SimpleITK (ms)':>15} {'dice':>8} {'hd95 mm':>8}")
    for kind, test_pattern in KINDS:
        monai_ms, sitk_ms, dice, hd95 = [], [], [], []
        for patient in patients:
            reference = os.path.join(data, f"MRI-Segments/{patient}/ROI-T2.nii")
            test = os.path.join(data, test_pattern.format(id=patient))
            if not os.path.isfile(test):
                continue  # a simulated miss
            same_grid = "predictions" in test_pattern
            monai_ms.append(timed(runs, lambda: monai(reference, test, same_grid)))
            sitk_ms.append(timed(runs, lambda: simpleitk(reference, test, same_grid)))
            d, h95, *_ = monai(reference, test, same_grid)
            dice.append(d)
            hd95.append(h95)
        if not monai_ms:
            print(f"{kind:<28} no pairs: write the cohort with an npcql that writes predictions/")
            continue
        print(
            f"{kind:<28} {statistics.median(monai_ms):>11.1f} {statistics.median(sitk_ms):>15.1f}"
            f" {statistics.median(dice):>8.4f} {statistics.median(hd95):>8.3f}"
        )


if __name__ == "__main__":
    main()
