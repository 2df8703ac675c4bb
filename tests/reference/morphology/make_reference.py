#!/usr/bin/env python3
"""Builds the morphology fixture masks and their reference values.

Writes, next to this file:
  masks/*.nii.gz            small fixture masks (deterministic: fixed shapes, fixed seed)
  pyradiomics.csv           PyRadiomics 3.0.1 shape features of every fixture
  vtk.csv                   the NPC dataset authors' method: vtkMarchingCubes at 0.5 on the
                            padded mask with spacing, vtkMassProperties volume and area,
                            max distance between surface vertices
  data_sample.csv           PyRadiomics and VTK on every mask of ../../../data-sample (if
                            present), with an FNV-1a-64 hash of each file (tests count the
                            masks whose hash still matches and require all of them)
  orientations.csv          PyRadiomics and VTK volume and area of two fixtures stored in each
                            of the 48 axis permutations × flips of their grid (spacing permuted
                            with the axes): VTK's surface does not depend on the orientation,
                            PyRadiomics' does where its mesh has holes

Environment (outside the repo):
  python3 -m venv /root/venv-radiomics
  /root/venv-radiomics/bin/pip install 'numpy<2' PyWavelets pykwalify six SimpleITK nibabel vtk scipy wheel
  /root/venv-radiomics/bin/pip install --no-build-isolation pyradiomics==3.0.1
  /root/venv-radiomics/bin/python tests/reference/morphology/make_reference.py

PyRadiomics runs on every non-zero voxel relabelled 1, cropped to the tumour's bounding box
as its extractor does (see pyradiomics_features for why the crop matters).
"""
import csv
import itertools
import logging
import os
import sys

import nibabel as nib
import numpy as np
import SimpleITK as sitk
from radiomics import featureextractor, shape
from scipy.spatial import ConvexHull
from scipy.spatial.distance import pdist

HERE = os.path.dirname(os.path.abspath(__file__))
MASKS = os.path.join(HERE, "masks")
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
logging.getLogger("radiomics").setLevel(logging.ERROR)

ANISO = (0.45, 0.45, 5.0)  # mm, typical axial MRI
HAND = (0.8, 0.8, 6.5)  # mm, the grid of many hand-drawn masks

# Fixtures measured in all 48 orientations of their grid (orientations.csv).
ORIENTED = ("edge_pair", "outline_diagonals")

FEATURES = [
    "MeshVolume", "VoxelVolume", "SurfaceArea", "Maximum3DDiameter", "Maximum2DDiameterSlice",
    "Sphericity", "MajorAxisLength", "MinorAxisLength", "LeastAxisLength", "Elongation",
    "Flatness",
]


def grid(shape_xyz):
    """Voxel-centre index coordinates x, y, z of a grid (NIfTI axis order)."""
    return np.meshgrid(*[np.arange(n, dtype=float) for n in shape_xyz], indexing="ij")


def ellipsoid(shape_xyz, spacing, centre_vox, radii_mm):
    x, y, z = grid(shape_xyz)
    d = sum(((c - c0) * s / r) ** 2 for c, c0, s, r in zip((x, y, z), centre_vox, spacing, radii_mm))
    return d <= 1.0


def ibsi_phantom():
    """IBSI digital phantom ROI mask, a[x, y, z] (reference/ibsi-morphology.md)."""
    rows = {
        0: ["11111", "11111", "11111", "11111"],
        1: ["11111", "11111", "01111", "11111"],
        2: ["11100", "11111", "11011", "11111"],
        3: ["11100", "11111", "11111", "11111"],
    }
    a = np.zeros((5, 4, 4), dtype=np.int16)
    for z, block in rows.items():
        for y, row in enumerate(block):
            for x, ch in enumerate(row):
                a[x, y, z] = int(ch)
    return a


def fixtures():
    """(name, array[x, y, z], spacing, affine or None (= diag spacing), form)."""
    rng = np.random.default_rng(20261128)
    out = []
    out.append(("ibsi_phantom", ibsi_phantom(), (2.0, 2.0, 2.0), np.diag([-2.0, -2.0, 2.0, 1.0]), "sform"))

    sphere = ellipsoid((64, 64, 12), ANISO, (31.3, 29.7, 5.4), (11.0, 11.0, 11.0)).astype(np.uint8)
    out.append(("sphere_aniso", sphere, ANISO, None, "sform"))

    # A large tumour (~30 cm³) like those of the dataset, stored as 255.
    big = ellipsoid((160, 150, 16), ANISO, (78.6, 74.2, 7.3), (24.0, 20.0, 16.0)).astype(np.uint8) * 255
    out.append(("ellipsoid_30cc_255", big, ANISO, None, "sform"))

    box = np.zeros((40, 36, 10), dtype=np.uint8)
    box[7:29, 9:23, 3:7] = 1
    out.append(("box_aniso", box, ANISO, None, "sform"))

    edge = ellipsoid((48, 48, 8), ANISO, (3.0, 40.0, 1.0), (9.0, 7.0, 10.0)).astype(np.float32)
    out.append(("edge_float32", edge, ANISO, None, "sform"))

    two = (ellipsoid((80, 60, 10), ANISO, (18.2, 25.0, 4.5), (6.0, 6.0, 8.0))
           | ellipsoid((80, 60, 10), ANISO, (60.5, 35.4, 5.1), (5.0, 7.0, 12.0))).astype(np.int16)
    out.append(("two_lesions_int16", two, ANISO, None, "sform"))

    x, y, z = grid((40, 40, 20))
    c = ((x - 19.5) * 1.0, (y - 19.7) * 1.0, (z - 9.6) * 1.0)
    torus = ((np.sqrt(c[0] ** 2 + c[1] ** 2) - 11.0) ** 2 + c[2] ** 2 <= 4.5 ** 2).astype(np.int16)
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90° about z
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag([1.0, 1.0, 1.0])
    affine[:3, 3] = [-20.0, 15.0, -40.0]
    out.append(("torus_qform", torus, (1.0, 1.0, 1.0), affine, "qform"))

    # Smooth random blob: an irregular, tumour-like surface.
    noise = rng.standard_normal((44, 40, 10))
    for axis, width in enumerate((9, 9, 3)):
        k = np.ones(width) / width
        noise = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), axis, noise)
    x, y, z = grid(noise.shape)
    envelope = ((x - 21.5) / 16) ** 2 + ((y - 19.5) / 14) ** 2 + ((z - 4.5) / 4.5) ** 2
    blob = ((noise + 0.25 * (1 - envelope)) > 0.12).astype(np.uint8)
    out.append(("irregular_blob", blob, (0.8, 0.6, 3.0), None, "sform"))

    # Voxel-scale speckle: many ambiguous cube configurations, where marching-cubes variants
    # (PyRadiomics' complement-symmetric table vs VTK's) disagree by percents. Stress case.
    noise = rng.standard_normal((30, 28, 9))
    k = np.ones(3) / 3
    for axis in range(3):
        noise = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), axis, noise)
    speckle = (noise > 0.25).astype(np.uint8)
    out.append(("speckle", speckle, (0.8, 0.6, 3.0), None, "sform"))

    diag = np.zeros((6, 6, 6), dtype=np.uint8)
    for i in range(1, 5):
        diag[i, i, i] = 1  # corner-touching voxels: one 26-component, ambiguous cubes
    diag[1, 4, 1] = 1
    out.append(("diagonal_chain", diag, (1.0, 1.2, 1.5), None, "sform"))

    single = np.zeros((5, 5, 5), dtype=np.uint8)
    single[2, 3, 1] = 1
    out.append(("single_voxel", single, ANISO, None, "sform"))

    out.append(("empty", np.zeros((8, 8, 4), dtype=np.uint8), ANISO, None, "sform"))

    # Lesions that touch only along an edge (face-diagonal squares all along it) and, a third,
    # only at a corner, on a 0.8 × 0.8 × 6.5 mm grid like the dataset's hand-drawn masks.
    touching = np.zeros((20, 20, 9), dtype=np.uint8)
    touching[2:8, 2:8, 1:5] = 1
    touching[8:14, 8:14, 1:5] = 1
    touching[14:18, 14:18, 5:8] = 1
    out.append(("edge_touching_lesions", touching, HAND, None, "sform"))

    # A hand-drawn-like outline: per slice a filled, wobbly disc with one-voxel-wide diagonal
    # spicules (8-connected lines), which make many face-diagonal squares.
    outline = np.zeros((48, 48, 7), dtype=np.uint8)
    x, y = np.meshgrid(np.arange(48.0), np.arange(48.0), indexing="ij")
    for z in range(1, 6):
        theta = np.arctan2(y - 23.5, x - 23.2)
        radius = 9.0 + 1.5 * np.sin(3 * theta + z) + 0.8 * np.cos(5 * theta - 2 * z) - abs(z - 3)
        outline[:, :, z] = np.hypot(x - 23.2, y - 23.5) <= radius
        for k, (dx, dy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
            px, py = 23 + dx * 6, 23 + dy * 6
            for _ in range(6 + k + z):
                outline[px, py, z] = 1
                px, py = px + dx, py + dy
    out.append(("outline_diagonals", outline, HAND, None, "sform"))

    # The smallest mask where PyRadiomics' mesh has a hole: two voxels sharing one edge.
    pair = np.zeros((2, 2, 1), dtype=np.uint8)
    pair[0, 0, 0] = pair[1, 1, 0] = 1
    out.append(("edge_pair", pair, (1.0, 1.0, 1.0), None, "sform"))
    return out


def save(name, array, spacing, affine, form):
    if affine is None:
        affine = np.diag(list(spacing) + [1.0])
    img = nib.Nifti1Image(array, affine)
    img.header.set_zooms(spacing)
    if form == "qform":
        img.set_qform(affine, code=1)
        img.set_sform(None, code=0)
    else:
        img.set_sform(affine, code=1)
        img.set_qform(affine, code=1)
    path = os.path.join(MASKS, name + ".nii.gz")
    nib.save(img, path)
    return path


def pyradiomics_features(path):
    """Shape features as PyRadiomics' extractor computes them: crop to the tumour's bounding
    box (padDistance 0), then the shape class pads by one voxel.

    The crop matters: PyRadiomics' triangle table leaves holes at face-diagonal ambiguous
    cubes, so its mesh volume of such masks depends on the array origin. The shape class is
    called directly (not the extractor) so that single-voxel masks get values too; for the
    others the extractor is run as well and must agree exactly.
    """
    mask = sitk.ReadImage(path)
    binary = sitk.GetArrayFromImage(mask) != 0  # (z, y, x)
    if not binary.any():
        return {f: "" for f in FEATURES}
    nz = np.nonzero(binary)
    box = tuple(slice(int(a.min()), int(a.max()) + 1) for a in nz)
    cropped = sitk.GetImageFromArray(binary[box].astype(np.uint8))
    cropped.SetSpacing(mask.GetSpacing())
    s = shape.RadiomicsShape(sitk.Cast(cropped, sitk.sitkFloat32), cropped, label=1)
    s.enableAllFeatures()
    with np.errstate(all="ignore"):
        values = s.execute()
    out = {f: repr(float(values[f])) for f in FEATURES}
    if binary.sum() > 1 and min(b.stop - b.start for b in box) > 0:
        ext = featureextractor.RadiomicsFeatureExtractor(minimumROIDimensions=1)
        ext.disableAllFeatures()
        ext.enableFeatureClassByName("shape")
        full = sitk.Cast(sitk.NotEqual(mask, 0), sitk.sitkUInt8)
        r = ext.execute(sitk.Cast(full, sitk.sitkFloat32), full)
        for f in ("MeshVolume", "SurfaceArea", "Maximum3DDiameter"):
            a, b = float(values[f]), float(r["original_shape_" + f])
            assert abs(a - b) <= 1e-9 * abs(b), (path, f, a, b)
    return out


def vtk_features(path):
    """The dataset authors' method: vtkMarchingCubes(0.5) + vtkMassProperties."""
    img = nib.load(path)
    data = (np.asanyarray(img.dataobj) != 0).astype(np.uint8)
    if data.sum() == 0:
        return {"vtk_volume": "", "vtk_area": "", "vtk_max_diameter": ""}
    spacing = [float(np.float32(s)) for s in img.header.get_zooms()[:3]]
    return vtk_array_features(data, spacing)


def vtk_array_features(data, spacing):
    """vtkMarchingCubes(0.5) on the padded binary array a[x, y, z] with `spacing`, then
    vtkMassProperties; max distance between the surface's points."""
    import vtk
    from vtk.util import numpy_support

    padded = np.pad(data, 1)
    image = vtk.vtkImageData()
    image.SetDimensions(*padded.shape)
    image.SetSpacing(*spacing)
    flat = np.ascontiguousarray(padded.ravel(order="F"))  # x fastest, as VTK stores points
    image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(flat, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR))
    mc = vtk.vtkMarchingCubes()
    mc.SetInputData(image)
    mc.SetValue(0, 0.5)
    mc.ComputeNormalsOff()
    mc.Update()
    mass = vtk.vtkMassProperties()
    mass.SetInputConnection(mc.GetOutputPort())
    mass.Update()
    points = numpy_support.vtk_to_numpy(mc.GetOutput().GetPoints().GetData()).astype(float)
    try:
        hull = points[ConvexHull(points).vertices]
    except Exception:  # degenerate (flat) point sets: use them all
        hull = points
    diameter = pdist(hull).max() if len(hull) > 1 else 0.0
    return {
        "vtk_volume": repr(mass.GetVolume()),
        "vtk_area": repr(mass.GetSurfaceArea()),
        "vtk_max_diameter": repr(float(diameter)),
    }


def pyradiomics_array_shape(data, spacing):
    """PyRadiomics' MeshVolume and SurfaceArea of a binary array a[x, y, z] cropped to the
    tumour's bounding box, as its extractor crops."""
    arr = np.transpose(data != 0, (2, 1, 0)).astype(np.uint8)  # SimpleITK arrays are (z, y, x)
    nz = np.nonzero(arr)
    box = tuple(slice(int(a.min()), int(a.max()) + 1) for a in nz)
    image = sitk.GetImageFromArray(np.ascontiguousarray(arr[box]))
    image.SetSpacing(tuple(float(s) for s in spacing))
    s = shape.RadiomicsShape(sitk.Cast(image, sitk.sitkFloat32), image, label=1)
    s.enableAllFeatures()
    with np.errstate(all="ignore"):
        values = s.execute()
    return float(values["MeshVolume"]), float(values["SurfaceArea"])


def orientation_rows(name, data, spacing):
    """One row per axis permutation × flips of the grid (spacing permuted with the axes)."""
    rows = []
    for perm in itertools.permutations(range(3)):
        for flips in itertools.product((0, 1), repeat=3):
            moved = np.transpose(data, perm)
            for axis in range(3):
                if flips[axis]:
                    moved = np.flip(moved, axis)
            moved_spacing = [spacing[p] for p in perm]
            volume, area = pyradiomics_array_shape(moved, moved_spacing)
            v = vtk_array_features(np.ascontiguousarray(moved), moved_spacing)
            rows.append({
                "mask": name, "permutation": "".join(map(str, perm)),
                "flips": "".join(map(str, flips)),
                "pyradiomics_volume": repr(volume), "pyradiomics_area": repr(area),
                "vtk_volume": v["vtk_volume"], "vtk_area": v["vtk_area"],
            })
    return rows


def centroid(path):
    img = nib.load(path)
    data = np.asanyarray(img.dataobj) != 0
    if not data.any():
        return {"centroid_x": "", "centroid_y": "", "centroid_z": ""}
    idx = np.array(np.nonzero(data), dtype=float).mean(axis=1)
    world = img.affine @ np.append(idx, 1.0)
    return {"centroid_x": repr(world[0]), "centroid_y": repr(world[1]), "centroid_z": repr(world[2])}


def fnv1a64(path):
    h = 0xcbf29ce484222325
    with open(path, "rb") as f:
        data = f.read()
    arr = np.frombuffer(data, dtype=np.uint8)
    for b in arr.tolist():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def components(path):
    from scipy import ndimage
    data = np.asanyarray(nib.load(path).dataobj) != 0
    return ndimage.label(data, structure=np.ones((3, 3, 3)))[1]


def main():
    os.makedirs(MASKS, exist_ok=True)
    rows, vtk_rows = [], []
    for name, array, spacing, affine, form in fixtures():
        path = save(name, array, spacing, affine, form)
        row = {"mask": name, "voxel_count": int((array != 0).sum()), "components": components(path)}
        row.update(pyradiomics_features(path))
        row.update(centroid(path))
        rows.append(row)
        vtk_rows.append({"mask": name, **vtk_features(path)})
        print(name, row["voxel_count"], row["MeshVolume"], file=sys.stderr)
    write(os.path.join(HERE, "pyradiomics.csv"), rows)
    write(os.path.join(HERE, "vtk.csv"), vtk_rows)

    orientation = []
    for name, array, spacing, _, _ in fixtures():
        if name in ORIENTED:
            data = (array != 0).astype(np.uint8)
            orientation += orientation_rows(name, data, [float(np.float32(s)) for s in spacing])
    write(os.path.join(HERE, "orientations.csv"), orientation)

    sample = os.path.join(REPO, "data-sample", "MRI-Segments")
    if os.path.isdir(sample):
        sample_rows = []
        for patient in sorted(os.listdir(sample)):
            for f in sorted(os.listdir(os.path.join(sample, patient))):
                if f.startswith("ROI") and (f.endswith(".nii") or f.endswith(".nii.gz")):
                    path = os.path.join(sample, patient, f)
                    row = {"mask": os.path.relpath(path, REPO), "fnv1a64": fnv1a64(path)}
                    row.update(pyradiomics_features(path))
                    row.update(vtk_features(path))
                    sample_rows.append(row)
        write(os.path.join(HERE, "data_sample.csv"), sample_rows)


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
