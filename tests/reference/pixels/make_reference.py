"""What the imaging room's pixel reader (imaging/src/dicom/pixels.rs) must reproduce.

1. `data-sample/MRI-Segments/001/T2WI` read by SimpleITK's ImageSeriesReader in GDCM's order
   (slices by position along the normal): shape, the sum, each slice's sum and a few voxels,
   in `t2wi.json`.
2. Three of its slices (the 9th to 11th in position order) re-encoded by pydicom into
   `variants/<encoding>/` with their file names reversed (IM1 is the last slice): RLE Lossless,
   Deflated Explicit VR Little Endian, Explicit VR Big Endian, and Explicit VR Little Endian
   with RescaleSlope 0.5 / RescaleIntercept -100 and stored values 2·v + 200 (the same real
   values); and by GDCM (python-gdcm) as JPEG Lossless SV1 and JPEG 2000 Lossless (the second
   is for the reader to refuse by name: it has no pure-Rust decoder). Each variant read back by SimpleITK must equal the original slices; its sums go in
   `t2wi.json` too.

    python3 tests/reference/pixels/make_reference.py    (pydicom 3.0.2, python-gdcm 3.2.6, SimpleITK 2.5.7, numpy)
"""

import json
import shutil
from pathlib import Path

import gdcm
import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian, RLELossless

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
SERIES = ROOT / "data-sample/MRI-Segments/001/T2WI"
FIRST, COUNT = 8, 3  # the variants' slices, in position order


def read_sitk(folder):
    reader = sitk.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(names)
    image = reader.Execute()
    return image, sitk.GetArrayFromImage(image).astype(np.float64), names  # z, y, x


def summary(array):
    return {
        "shape_xyz": list(array.shape[::-1]),
        "sum": float(array.sum()),
        "slice_sums": [float(s) for s in array.sum(axis=(1, 2))],
    }


image, volume, names = read_sitk(SERIES)
rng = np.random.default_rng(24)
z, y, x = (rng.integers(0, n, 12) for n in volume.shape)
reference = {
    "series": str(SERIES.relative_to(ROOT)),
    "made_with": f"SimpleITK {sitk.Version.VersionString()}, pydicom {pydicom.__version__}",
    "pixel_type": image.GetPixelIDTypeAsString(),
    **summary(volume),
    "slice_files": [Path(n).name for n in names],
    "voxels_ijk_value": [[int(i), int(j), int(k), float(volume[k, j, i])] for i, j, k in zip(x, y, z)],
    "variants": {"first_slice": FIRST, "count": COUNT},
}

chosen = names[FIRST : FIRST + COUNT]
variants = HERE / "variants"
shutil.rmtree(variants, ignore_errors=True)


def write(encoding, change):
    folder = variants / encoding
    folder.mkdir(parents=True)
    for n, source in enumerate(chosen):
        ds = pydicom.dcmread(source)
        change(ds)
        # dcmwrite, not save_as: save_as refuses to change the byte order.
        pydicom.dcmwrite(folder / f"IM{COUNT - n}.dcm", ds, enforce_file_format=True, little_endian=ds.file_meta.TransferSyntaxUID != ExplicitVRBigEndian, implicit_vr=False)
    _, read_back, _ = read_sitk(folder)
    assert np.array_equal(read_back, volume[FIRST : FIRST + COUNT]), encoding
    reference["variants"][encoding] = summary(read_back)


def rle(ds):
    ds.compress(RLELossless, encoding_plugin="pydicom")


def deflated(ds):
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian


def big_endian(ds):
    # pydicom writes the pixel bytes as they are: swap the 16-bit samples itself.
    ds.PixelData = ds.pixel_array.astype(">u2").tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian


def rescaled(ds):
    stored = ds.pixel_array.astype(np.uint16) * 2 + 200
    ds.PixelData = stored.astype("<u2").tobytes()
    ds.RescaleSlope, ds.RescaleIntercept = "0.5", "-100"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian


for encoding, change in [("rle", rle), ("deflated", deflated), ("big_endian", big_endian), ("rescaled", rescaled)]:
    write(encoding, change)



def gdcm_encode(encoding, syntax):
    folder = variants / encoding
    folder.mkdir(parents=True)
    for n, source in enumerate(chosen):
        reader = gdcm.ImageReader()
        reader.SetFileName(source)
        assert reader.Read()
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(syntax))
        change.SetInput(reader.GetImage())
        assert change.Change()
        writer = gdcm.ImageWriter()
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        writer.SetFileName(str(folder / f"IM{COUNT - n}.dcm"))
        assert writer.Write()
    _, read_back, _ = read_sitk(folder)
    assert np.array_equal(read_back, volume[FIRST : FIRST + COUNT]), encoding
    reference["variants"][encoding] = summary(read_back)


gdcm_encode("jpeg_lossless", gdcm.TransferSyntax.JPEGLosslessProcess14_1)
gdcm_encode("jpeg2000_lossless", gdcm.TransferSyntax.JPEG2000Lossless)

out = HERE / "t2wi.json"
out.write_text(json.dumps(reference, indent=1) + "\n")
print(out, reference["shape_xyz"], reference["sum"], reference["pixel_type"])
