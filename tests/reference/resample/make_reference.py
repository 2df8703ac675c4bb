"""SimpleITK's trilinear resampling (sitkLinear, default pixel value as the fill) of a random
image with an oblique affine onto another oblique grid: the numbers the imaging room's
`trilinear_onto` must reproduce (imaging/src/resample.rs, test `trilinear_matches_simpleitk`).

    python3 tests/reference/resample/make_reference.py    (SimpleITK 2.5.7, numpy)
"""

import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk


def rotation(about_z_deg, about_x_deg):
    z, x = np.radians(about_z_deg), np.radians(about_x_deg)
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    return rz @ rx


def affine(direction, spacing, origin):
    """Voxel index → world: origin + D·diag(spacing)·index, rows of a 3×4 matrix."""
    m = direction @ np.diag(spacing)
    return [list(m[r]) + [origin[r]] for r in range(3)]


rng = np.random.default_rng(23)
size = (6, 5, 4)  # x, y, z
values = rng.uniform(-50, 250, size=size[::-1])  # numpy order z, y, x
image = sitk.GetImageFromArray(values)
spacing, origin, direction = (0.7, 0.9, 2.5), (-10.0, 5.0, 3.0), rotation(20, 10)
image.SetSpacing(spacing)
image.SetOrigin(origin)
image.SetDirection(direction.flatten().tolist())

out_size, out_spacing = (7, 6, 5), (0.6, 0.8, 2.0)
out_origin, out_direction = (-9.5, 5.4, 2.0), rotation(25, 5)
fill = -1000.0
resampled = sitk.Resample(
    image, out_size, sitk.Transform(), sitk.sitkLinear, out_origin, out_spacing,
    out_direction.flatten().tolist(), fill, sitk.sitkFloat64,
)
expected = sitk.GetArrayFromImage(resampled)  # z, y, x: flattened, x fastest
reference = {
    "image": {"dims": size, "affine": affine(direction, spacing, origin), "values": values.flatten().tolist()},
    "target": {"dims": out_size, "affine": affine(out_direction, out_spacing, out_origin)},
    "fill": fill,
    "expected": expected.flatten().tolist(),
    "inside": int((expected != fill).sum()),
    "made_with": f"SimpleITK {sitk.Version.VersionString()}",
}
out = Path(__file__).with_name("trilinear.json")
out.write_text(json.dumps(reference, indent=1) + "\n")
print(out, reference["inside"], "of", expected.size, "voxels inside the image")
