"""npcql's radiomics beside PyRadiomics 3.0.1 on the same real tumours (data-sample's masks).

PyRadiomics: timed after its imports, one core, series reading (SimpleITK's ImageSeriesReader)
included, all intensity and texture classes (firstorder, glcm, glrlm, glszm, gldm, ngtdm) at
default settings. npcql: the whole process (start-up counted) running
`SELECT count(glcm_idmn) FROM radiomics`, which reads every series' slices the tumours touch and
computes every class (its own GLDZM, IVH and local intensity too), with `--no-cache` so that
every run computes (the persistent cache would answer a repeat from disk; that figure is printed
too). Runs alternate, best of N.

    ~/.cache/pyradiomics-venv/bin/python tests/bench/radiomics_vs_pyradiomics.py NPCQL_BINARY [DATA] [N]
"""

import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import SimpleITK as sitk
from radiomics import featureextractor

logging.getLogger("radiomics").setLevel(logging.ERROR)
npcql = sys.argv[1]
data = Path(sys.argv[2] if len(sys.argv) > 2 else "data-sample")
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
folders = {"T1": "T1WI", "T2": "T2WI", "CE-T1": "CE-T1WI"}
pairs = [
    (patient / folder, patient / f"ROI-{modality}.nii")
    for patient in sorted((data / "MRI-Segments").iterdir())
    for modality, folder in folders.items()
    if (patient / folder).is_dir() and (patient / f"ROI-{modality}.nii").is_file()
]
sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
# The masks store their affine in float32: within a micrometre of the series, which PyRadiomics
# accepts only with a looser geometryTolerance (nothing is resampled).
extractor = featureextractor.RadiomicsFeatureExtractor(geometryTolerance=1e-3)
extractor.disableAllFeatures()
for cls in ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]:
    extractor.enableFeatureClassByName(cls)


def pyradiomics():
    start = time.perf_counter()
    for series, mask in pairs:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series)))
        extractor.execute(reader.Execute(), sitk.ReadImage(str(mask)))
    return time.perf_counter() - start


def npcql_process(*cache_flags):
    start = time.perf_counter()
    subprocess.run(
        [npcql, "-d", str(data), *cache_flags, "-c", "SELECT count(glcm_idmn) FROM radiomics"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


with tempfile.TemporaryDirectory() as cache:
    npcql_process("--cache", cache)  # fills the cache for the cached figure
    best_py, best_npcql, best_cached = float("inf"), float("inf"), float("inf")
    for _ in range(repeats):
        best_npcql = min(best_npcql, npcql_process("--no-cache"))
        best_cached = min(best_cached, npcql_process("--cache", cache))
        best_py = min(best_py, pyradiomics())
print(f"{len(pairs)} tumours: PyRadiomics {best_py:.2f} s ({best_py / len(pairs) * 1000:.0f} ms each), "
      f"npcql {best_npcql:.3f} s (whole process, computing): {best_py / best_npcql:.0f}x; "
      f"from its cache {best_cached:.3f} s: {best_py / best_cached:.0f}x")
