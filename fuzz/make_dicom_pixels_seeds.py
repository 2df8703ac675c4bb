"""Seeds for the `dicom_pixels` fuzz target: one sample slice cut to 16 × 16 pixels, written in
each encoding the pixel reader decodes, and in the variants it must refuse or handle.

    cd fuzz && python3 make_dicom_pixels_seeds.py    (pydicom 3.0.2, python-gdcm 3.2.6, numpy)
"""

from pathlib import Path

import gdcm

import numpy as np
import pydicom
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
)

HERE = Path(__file__).parent
OUT = HERE / "corpus/dicom_pixels"
SOURCE = HERE.parent / "data-sample/MRI-Segments/001/T2WI/IM10.dcm"


def small():
    ds = pydicom.dcmread(SOURCE)
    pixels = ds.pixel_array[52:68, 52:68].copy()
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelData = pixels.astype("<u2").tobytes()
    for tag in list(ds.keys()):
        if tag.group in (0x0008, 0x0018, 0x2001, 0x2005) and tag.element not in (0x0016, 0x0018):
            del ds[tag]  # the private and acquisition groups: keep the seeds small
    return ds, pixels


def write(name, ds, syntax):
    ds.file_meta.TransferSyntaxUID = syntax
    big = syntax == ExplicitVRBigEndian
    pydicom.dcmwrite(OUT / name, ds, enforce_file_format=True, little_endian=not big, implicit_vr=syntax == ImplicitVRLittleEndian)


OUT.mkdir(parents=True, exist_ok=True)
for syntax, name in [(ExplicitVRLittleEndian, "explicit_le"), (ImplicitVRLittleEndian, "implicit_le"), (DeflatedExplicitVRLittleEndian, "deflated")]:
    ds, _ = small()
    write(f"{name}.dcm", ds, syntax)
ds, pixels = small()
ds.PixelData = pixels.astype(">u2").tobytes()
write("big_endian.dcm", ds, ExplicitVRBigEndian)
ds, _ = small()
ds.compress(RLELossless, encoding_plugin="pydicom")
write("rle.dcm", ds, RLELossless)
ds, pixels = small()
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 1
ds.PixelData = (pixels.astype(np.int32) // 4 - 180).clip(-128, 127).astype(np.int8).tobytes()
ds["PixelData"].VR = "OB"
ds.PhotometricInterpretation = "MONOCHROME1"
ds.RescaleSlope, ds.RescaleIntercept = "1.5", "-3"
write("signed_8bit_monochrome1_rescaled.dcm", ds, ExplicitVRLittleEndian)
# JPEG Lossless SV1, by GDCM (pydicom cannot write it).
reader = gdcm.ImageReader()
reader.SetFileName(str(OUT / "explicit_le.dcm"))
assert reader.Read()
change = gdcm.ImageChangeTransferSyntax()
change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
change.SetInput(reader.GetImage())
assert change.Change()
writer = gdcm.ImageWriter()
writer.SetFile(reader.GetFile())
writer.SetImage(change.GetOutput())
writer.SetFileName(str(OUT / "jpeg_lossless.dcm"))
assert writer.Write()
for path in sorted(OUT.iterdir()):
    print(path.name, path.stat().st_size)
