"""The floor the `radiomics` view is measured against: reading, warm, the whole files of the
slices each tumour touches (its bounding box's slices, in the series' position order).

    npcql --no-cache -d DATA -o boxes.csv -c "SELECT series_dir, r.diagnostics.first_slice AS z0,
        r.diagnostics.last_slice AS z1 FROM (SELECT s.series_dir, radiomics(s.series_dir, m.path, 'fo.yaml') r
        FROM masks m JOIN scans s USING (patient_id, modality))"      # fo.yaml: featureClass: {firstorder:}
    python tests/bench/radiomics_read_floor.py boxes.csv [N] [DATA]

Slices are ordered as SimpleITK (GDCM) orders a series, by position along the normal, as npcql
numbers them. Prints the number of files, their bytes and the best of N timed reads; given the
dataset folder DATA, the same for its masks (`MRI-Segments/*/ROI-*.nii*`), which the view reads
whole besides and the floor leaves out.
"""

import csv
import glob
import sys
import time

import SimpleITK as sitk

boxes = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
files = []
with open(boxes) as f:
    for row in csv.DictReader(f):
        ordered = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(row["series_dir"])
        files.extend(ordered[int(row["z0"]) : int(row["z1"]) + 1])


def read_all(files):
    start = time.perf_counter()
    total = 0
    for name in files:
        with open(name, "rb") as f:
            total += len(f.read())
    return time.perf_counter() - start, total


def report(what, files):
    read_all(files)  # warm the page cache
    best = min(read_all(files)[0] for _ in range(repeats))
    print(f"{len(files)} {what}, {read_all(files)[1] / 1e9:.2f} GB: best of {repeats} reads {best:.3f} s")


report("slice files", files)
if len(sys.argv) > 3:
    report("masks", sorted(glob.glob(f"{sys.argv[3]}/MRI-Segments/*/ROI-*.nii*")))
