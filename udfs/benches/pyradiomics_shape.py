#!/usr/bin/env python3
"""Times PyRadiomics' 3D shape features on one mask file: the side-by-side figure for
benches/morphology.rs, which writes the same file with `--save-mask FILE`.

Each run does what `morphology(path)` does: read the NIfTI file, then compute every shape
feature (mesh volume, surface area, maximum 3D and 2D diameters, sphericity, axis lengths, ...)
with PyRadiomics' extractor, shape class only, the mask also serving as the image. Prints the
median wall time over RUNS runs (default 5).

    /root/venv-radiomics/bin/python udfs/benches/pyradiomics_shape.py FILE [RUNS]

(the environment of tests/reference/morphology/make_reference.py: PyRadiomics 3.0.1).
"""
import logging
import statistics
import sys
import time

import SimpleITK as sitk
from radiomics import featureextractor

logging.getLogger("radiomics").setLevel(logging.ERROR)


def shape_features(path, extractor):
    mask = sitk.ReadImage(path)
    return extractor.execute(mask, mask, label=1)


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    extractor = featureextractor.RadiomicsFeatureExtractor()
    extractor.disableAllFeatures()
    extractor.enableFeatureClassByName("shape")
    features = shape_features(path, extractor)  # warm-up; also checks the mask is readable
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        shape_features(path, extractor)
        times.append(time.perf_counter() - start)
    print(f"PyRadiomics {features['diagnostics_Versions_PyRadiomics']} shape features of {path}")
    print(f"mesh volume {features['original_shape_MeshVolume'] / 1e3:.1f} cm³, {runs} runs (median)")
    print(f"all shape features from the file {statistics.median(times) * 1e3:10.1f} ms")


if __name__ == "__main__":
    main()
