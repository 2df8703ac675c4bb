"""PyRadiomics 3.0.1 on the IBSI digital phantom: the reference values the kernels' tests quote.

Run with PyRadiomics 3.0.1 (numpy 1.26.4 was used): `python pyradiomics_phantom.py >
pyradiomics_phantom.txt` (read by the kernels' tests). Prints, per
setting, every enabled-by-default feature of firstorder, glcm and glrlm at full precision (repr).
The phantom is `radiomics/src/phantom.rs` (z, y, x = slice, row, column; 2 mm voxels).
"""
import logging

import numpy
import SimpleITK as sitk
from radiomics import firstorder, glcm, glrlm

logging.getLogger("radiomics").setLevel(logging.ERROR)

VALUES = [
    [[1, 4, 4, 1, 1], [1, 4, 6, 1, 1], [4, 1, 6, 4, 1], [4, 4, 6, 4, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 6, 1, 1], [1, 1, 3, 1, 1], [4, 4, 6, 1, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 9, 1, 1], [1, 1, 6, 1, 1]],
    [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 6, 1, 1]],
]
MASK = [
    [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 1, 1], [1, 1, 1, 1, 1]],
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
]


def image(array, spacing):
    img = sitk.GetImageFromArray(numpy.array(array))
    img.SetSpacing(spacing)
    return img


SETTINGS = {
    "default": {},
    "no_weighting": {"weightingNorm": "no_weighting"},
    "euclidean": {"weightingNorm": "euclidean"},
    "manhattan": {"weightingNorm": "manhattan"},
    "infinity": {"weightingNorm": "infinity"},
    "force2D": {"force2D": True},
    "distances_1_2": {"distances": [1, 2]},
    "asymmetrical": {"symmetricalGLCM": False},
}

if __name__ == "__main__":
    for spacing in [(2.0, 2.0, 2.0), (0.5, 0.7, 3.0)]:
        img = image(numpy.array(VALUES, dtype=float), spacing)
        msk = image(numpy.array(MASK, dtype=numpy.uint8), spacing)
        for name, extra in SETTINGS.items():
            kwargs = dict(binWidth=1, voxelArrayShift=0, **extra)
            print("##", spacing, name)
            for cls in (firstorder.RadiomicsFirstOrder, glcm.RadiomicsGLCM, glrlm.RadiomicsGLRLM):
                fc = cls(img, msk, **kwargs)
                fc.enableAllFeatures()
                for k, v in fc.execute().items():
                    print(cls.__module__.split(".")[-1], k, repr(float(v)))
