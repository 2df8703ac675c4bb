#!/usr/bin/env python3
"""PyRadiomics 3.0.1 on the radiomics() fixtures of tests/data/radiomics (written by make_cases.py).

Writes expected.json next to this file:
  {"pyradiomics": "v3.0.1", "numpy": ..., "simpleitk": ..., "pydicom": ...,
   "cases": {"901": {"series": "MRI-Segments/901/T2WI", "mask": "MRI-Segments/901/ROI-T2.nii",
                     "variants": {"default": {"settings": {...}, "features": {...}, "diagnostics": {...}}, ...}}},
   "storage_variants": {"rows_flipped": {"series": ..., "mask": ..., "same_as": "903", ...}, ...}}
Paths are relative to tests/data/radiomics. Features are named "<class>_<Feature>" (PyRadiomics' key without
"original_"), floats as Python's repr (full precision), NaN as null. "settings" is exactly the dict given to
RadiomicsFeatureExtractor(**settings) (or, for a parameter file, its "setting" section); "effective_settings"
is the full settings dict PyRadiomics ran with (its defaults merged in).

How PyRadiomics is run: image = SimpleITK ImageSeriesReader on the series folder in GDCM's order
(GetGDCMSeriesFileNames), mask = SimpleITK ReadImage of the NIfTI file; both passed as images to
RadiomicsFeatureExtractor(**settings).execute(image, mask), image type Original only, feature classes
firstorder, glcm, glrlm, glszm, gldm, ngtdm with all their (non-deprecated) features; no shape.

Bin width: PyRadiomics' default binWidth 25 is kept where it gives 10..200 grey levels in the ROI; otherwise the
case's settings carry the width from (1, 2, 3, 5, 10, 20, 50, 100) whose level count is closest to 32 (903 breast1:
ROI 102..162 -> binWidth 2; the normalised variants are chosen on the normalised values). The phantom (900) runs
with binWidth 1 so that its levels are its grey values (IBSI).

Run (environment as in make_cases.py's docstring, plus pyradiomics 3.0.1 installed from the sdist:
  ~/.cache/pyradiomics-venv/bin/pip install --no-build-isolation pyradiomics-3.0.1.tar.gz):
  ~/.cache/pyradiomics-venv/bin/python tests/reference/radiomics/make_reference.py
Made with PyRadiomics 3.0.1 (C extensions built from the sdist), numpy 1.26.4, SimpleITK 2.5.7, Python 3.11.
"""

import json
import logging
import math
from pathlib import Path

import numpy as np
import pydicom
import radiomics
import SimpleITK as sitk
from radiomics import featureextractor, imageoperations
from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
DATA = REPO / "tests/data/radiomics"
PARAMS_FILE = HERE / "params_bincount.yaml"
logging.getLogger("radiomics").setLevel(logging.ERROR)

CLASSES = ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]
CASES = ["901", "902", "903", "904"]
TWO_LABEL = "902"
VARIANT_SOURCE = "903"
PHANTOM = "900"
WIDTHS = (1, 2, 3, 5, 10, 20, 50, 100)
NORMALIZE = {"normalize": True, "normalizeScale": 100, "voxelArrayShift": 300}

# Diagnostics kept: the image's and the ROI's, as PyRadiomics computes them (hashes, versions and the
# configuration are left out; the configuration is in effective_settings).
DIAGNOSTIC_PREFIXES = ("diagnostics_Image-original_", "diagnostics_Mask-original_", "diagnostics_Mask-resegmented_",
                       "diagnostics_Mask-corrected_")


def read_series(folder):
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def plain(value):
    """JSON-able copy of a PyRadiomics value: floats kept at full precision, NaN -> None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist()) if value.ndim else plain(value.item())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) else value
    return value


def extract(image, mask, settings=None, params_file=None):
    if params_file is not None:
        extractor = featureextractor.RadiomicsFeatureExtractor(str(params_file))
    else:
        extractor = featureextractor.RadiomicsFeatureExtractor(**settings)
        extractor.disableAllFeatures()
        for name in CLASSES:
            extractor.enableFeatureClassByName(name)
    assert list(extractor.enabledImagetypes) == ["Original"]
    result = extractor.execute(image, mask)
    features, diagnostics = {}, {}
    for key, value in result.items():
        if key.startswith("original_"):
            features[key[len("original_"):]] = plain(value)
        elif key.startswith(DIAGNOSTIC_PREFIXES) and not key.endswith("_Hash"):
            diagnostics[key] = plain(value)
    out = {"features": features, "diagnostics": diagnostics,
           "effective_settings": plain(extractor.settings)}
    if params_file is not None:
        out["enabled_features"] = plain(extractor.enabledFeatures)
    return out


def roi_values(image, mask, settings):
    """The ROI's grey values after PyRadiomics' normalisation and re-segmentation (for choosing a bin width)."""
    if settings.get("normalize"):
        image = imageoperations.normalizeImage(image, **settings)
    values = sitk.GetArrayFromImage(image)[sitk.GetArrayFromImage(mask) == settings.get("label", 1)].astype(float)
    bounds = settings.get("resegmentRange")
    if bounds is not None:
        if settings.get("resegmentMode", "absolute") == "sigma":
            bounds = [values.mean() + values.std() * b for b in bounds]
        values = values[(values >= min(bounds)) & (values <= max(bounds))]
    return values


def levels(values, width):
    return len(imageoperations.getBinEdges(values, binWidth=width)) - 1


def bin_width(image, mask, settings):
    """{} when binWidth 25 gives a sensible number of levels, else {"binWidth": w}."""
    values = roi_values(image, mask, settings)
    if 10 <= levels(values, 25) <= 200:
        return {}
    best = min(WIDTHS, key=lambda w: abs(math.log(levels(values, w) / 32)))
    return {"binWidth": best}


def case_variants(image, mask):
    """Settings variant name -> settings dict for one case."""
    width = bin_width(image, mask, {})
    values = roi_values(image, mask, {})
    low, high = (float(round(np.percentile(values, p))) for p in (10, 90))
    variants = {
        "default": {},
        "bin_count_32": {"binCount": 32},
        "normalize": dict(NORMALIZE),
        "normalize_remove_outliers": dict(NORMALIZE, removeOutliers=2),
        "resegment_absolute": {"resegmentRange": [low, high], "resegmentMode": "absolute"},
        "resegment_sigma": {"resegmentRange": [-2, 2], "resegmentMode": "sigma"},
        "no_weighting": {"weightingNorm": "no_weighting"},
        "euclidean": {"weightingNorm": "euclidean"},
        "force2d": {"force2D": True, "force2Ddimension": 0},
        "distances_1_2": {"distances": [1, 2]},
        "asymmetric": {"symmetricalGLCM": False},
        "gldm_a_1": {"gldm_a": 1},
        "remove_outliers": {"removeOutliers": 2},
    }
    out = {}
    for name, settings in variants.items():
        if "binCount" not in settings:
            own = bin_width(image, mask, settings) if settings.get("normalize") else width
            settings = {**own, **settings}
        out[name] = settings
    return out


def relative_difference(a, b):
    worst = 0.0
    for key, x in a.items():
        y = b[key]
        if x is None or y is None:
            assert x is None and y is None, key
            continue
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300) if x != y else 0.0)
    return worst


def main():
    expected = {
        "pyradiomics": radiomics.__version__.lstrip("v"),
        "numpy": np.__version__,
        "simpleitk": sitk.Version.VersionString(),
        "pydicom": pydicom.__version__,
        "paths_relative_to": "tests/data/radiomics",
        "cases": {},
        "storage_variants": {},
    }
    cases = expected["cases"]

    def run_case(key, series, mask_path, variants, params_file=None):
        image = read_series(DATA / series)
        mask = sitk.ReadImage(str(DATA / mask_path))
        entry = {"series": series, "mask": mask_path, "variants": {}}
        for name, settings in variants.items():
            entry["variants"][name] = {"settings": plain(settings), **extract(image, mask, settings)}
            print(f"{key} {name}: {settings}")
        if params_file is not None:
            setting = YAML(typ="safe", pure=True).load(params_file.read_text()).get("setting", {})
            entry["variants"]["params_bincount"] = {"params_file": str(params_file.relative_to(REPO)),
                                                    "settings": setting, **extract(image, mask, params_file=params_file)}
            print(f"{key} params_bincount: {params_file.name}")
        cases[key] = entry
        return entry

    run_case(PHANTOM, f"MRI-Segments/{PHANTOM}/T2WI", f"MRI-Segments/{PHANTOM}/ROI-T2.nii",
             {"default": {"binWidth": 1}, "no_weighting": {"binWidth": 1, "weightingNorm": "no_weighting"}})

    for key in CASES:
        series, mask_path = f"MRI-Segments/{key}/T2WI", f"MRI-Segments/{key}/ROI-T2.nii"
        variants = case_variants(read_series(DATA / series), sitk.ReadImage(str(DATA / mask_path)))
        run_case(key, series, mask_path, variants, params_file=PARAMS_FILE)

    # The two-label mask: label 1 (default) and label 2, with 902's bin width.
    width = {k: v for k, v in cases[TWO_LABEL]["variants"]["default"]["settings"].items()}
    run_case(f"{TWO_LABEL}_T1", f"MRI-Segments/{TWO_LABEL}/T1WI", f"MRI-Segments/{TWO_LABEL}/ROI-T1.nii",
             {"default": dict(width), "label_2": dict(width, label=2)})

    # Storage variants of 903: PyRadiomics' default-settings features must be 903's (up to summation order).
    source = cases[VARIANT_SOURCE]["variants"]["default"]
    for folder in sorted((DATA / "variants").iterdir()):
        series, mask_path = f"variants/{folder.name}/T2WI", f"variants/{folder.name}/ROI-T2.nii"
        image = read_series(DATA / series)
        mask = sitk.ReadImage(str(DATA / mask_path))
        settings = dict(source["settings"])
        if folder.name.startswith("mask_"):
            # PyRadiomics refuses a mask on another grid ("Image/Mask geometry mismatch") unless told to
            # resample it onto the image's grid (nearest neighbour; the grids share voxel centres here).
            settings["correctMask"] = True
        got = extract(image, mask, settings)
        diff = relative_difference(source["features"], got["features"])
        expected["storage_variants"][folder.name] = {
            "series": series, "mask": mask_path, "same_as": VARIANT_SOURCE, "pyradiomics_settings": settings,
            "pyradiomics_max_relative_difference": diff,
        }
        print(f"variant {folder.name}: max relative difference to {VARIANT_SOURCE} {diff:.3g}")
        assert diff < 1e-9, folder.name

    out = HERE / "expected.json"
    out.write_text(json.dumps(expected, indent=1, allow_nan=False) + "\n")
    print(out.relative_to(REPO))


if __name__ == "__main__":
    main()
