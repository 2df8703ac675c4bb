"""PyRadiomics 3.0.1 on a random CT-like ROI with holes: discretisation, firstorder, glcm, glrlm.

Run with PyRadiomics 3.0.1 (numpy 1.26.4 was used): `python pyradiomics_random.py >
pyradiomics_random.json` (read by the kernels' tests). The image is 7 × 6 × 5 voxels (x, y, z)
of 0.7 × 0.9 × 2.5 mm with a mask whose bounding box is smaller than the image; as
PyRadiomics' extractor does, the classes run on the image cropped to that box.
"""
import json
import logging

import numpy
import SimpleITK as sitk
from radiomics import firstorder, glcm, glrlm, imageoperations

logging.getLogger("radiomics").setLevel(logging.ERROR)

rng = numpy.random.default_rng(20240501)
shape = (5, 6, 7)  # z, y, x
intensity = numpy.round(rng.normal(-100.0, 300.0, shape), 1)
mask = (rng.random(shape) < 0.75).astype(numpy.uint8)
mask[:, 0, :] = 0  # an empty first row: the box is smaller than the image
mask[:, :, 6] = 0  # and an empty last column
mask[2, 3, 3] = 1
spacing = (0.7, 0.9, 2.5)


def image(array):
    img = sitk.GetImageFromArray(array)
    img.SetSpacing(spacing)
    return img


img, msk = image(intensity), image(mask)
bb, _ = imageoperations.checkMask(img, msk, minimumROIDimensions=1)
img, msk = imageoperations.cropToTumorMask(img, msk, bb)

runs = []
for binning in [{"binWidth": 25}, {"binCount": 16}]:
    for setting in [{}, {"weightingNorm": "no_weighting"}]:
        kwargs = dict(voxelArrayShift=0, **binning, **setting)
        features = {}
        for cls in (firstorder.RadiomicsFirstOrder, glcm.RadiomicsGLCM, glrlm.RadiomicsGLRLM):
            fc = cls(img, msk, **kwargs)
            fc.enableAllFeatures()
            features[cls.__module__.split(".")[-1]] = {k: float(v) for k, v in fc.execute().items()}
        runs.append({"binning": binning, "setting": setting, "features": features})

print(json.dumps({
    "dims": [shape[2], shape[1], shape[0]],
    "spacing_mm": list(spacing),
    "intensity": intensity.ravel().tolist(),
    "mask": mask.ravel().tolist(),
    "runs": runs,
}, indent=1))
