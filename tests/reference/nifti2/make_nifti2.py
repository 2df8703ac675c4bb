"""A real NIfTI-2 mask, as nibabel's Nifti2Image writes it (540-byte header, magic "n+2",
64-bit dims, double pixdim and srow): the bundled sample's ROI-T1.nii of patient 001, the same
voxels and affine. npcql must read it and measure what it measures on the NIfTI-1 original.

    python3 tests/reference/nifti2/make_nifti2.py    (nibabel 5.4.2)
"""

from pathlib import Path

import nibabel as nib
import numpy as np

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "data-sample" / "MRI-Segments" / "001" / "ROI-T1.nii"

nifti1 = nib.load(SOURCE)
data = np.asarray(nifti1.dataobj)
nifti2 = nib.Nifti2Image(data, nifti1.affine, dtype=data.dtype)
nifti2.header.set_qform(nifti1.affine, code=int(nifti1.header["qform_code"]))
nifti2.header.set_sform(nifti1.affine, code=int(nifti1.header["sform_code"]))
nifti2.header.set_zooms(nifti1.header.get_zooms())
out = HERE / "ROI-T1.nii"
nib.save(nifti2, out)
back = nib.load(out)
assert isinstance(back, nib.Nifti2Image) and back.header.sizeof_hdr == 540
assert np.array_equal(np.asarray(back.dataobj), data)
assert np.allclose(back.affine, nifti1.affine)
print(out, back.shape, data.dtype, int(data.astype(bool).sum()), "tumour voxels")
