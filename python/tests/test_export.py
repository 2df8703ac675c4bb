"""`npcql export`: what SimpleITK, nibabel and pydicom read back from an export.

The fixture dataset is one physical image and tumour (PyRadiomics' breast1 case, patient 903 of
tests/data/radiomics) stored several ways (tests/reference/radiomics/make_cases.py): slices reversed,
rows flipped, in-plane axes transposed, a rescale slope/intercept, and a mask whose voxel order is not
the series'. Each patient's T1 is the plainly stored series, so a second channel is resampled across
storage orders. Every voxel of every exported image is checked against the DICOM real value at the same
scanner position, found through the geometry (SimpleITK's index-to-point, pydicom's IPP/IOP), never
through array order.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

nib = pytest.importorskip("nibabel")
sitk = pytest.importorskip("SimpleITK")
pydicom = pytest.importorskip("pydicom")

from conftest import ROOT, npcql_binary  # noqa: E402

RADIOMICS = ROOT / "tests" / "data" / "radiomics"
# patient id -> where its T2 series and mask come from
STORED = {
    "001": RADIOMICS / "MRI-Segments" / "903",
    "002": RADIOMICS / "variants" / "slices_reversed",
    "003": RADIOMICS / "variants" / "rows_flipped",
    "004": RADIOMICS / "variants" / "transposed",
    "005": RADIOMICS / "variants" / "rescaled",
    "006": RADIOMICS / "variants" / "mask_rows_flipped",
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("stored-ways")
    rows = []
    for i, (patient, source) in enumerate(STORED.items()):
        folder = root / "MRI-Segments" / patient
        shutil.copytree(source / "T2WI", folder / "T2WI")
        shutil.copy(source / "ROI-T2.nii", folder / "ROI-T2.nii")
        shutil.copytree(RADIOMICS / "MRI-Segments" / "903" / "T2WI", folder / "T1WI")
        shutil.copy(RADIOMICS / "MRI-Segments" / "903" / "ROI-T2.nii", folder / "ROI-T1.nii")
        status = "positive" if i % 2 else "negative"
        rows.append(f"{patient},F,50,0,{status},III,T2,N1,M0,II,60.0,0")
    (root / "clinical.csv").write_text(
        "patient_id,sex,age,ebv_dna,ebv_status,who_type,t_stage,n_stage,m_stage,clinical_stage,pfs_months,pfs_event\n"
        + "\n".join(rows)
        + "\n"
    )
    return root


def export(dataset: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(npcql_binary()), "export", *args, "-d", str(dataset)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def series_values(folder: Path):
    """Each slice of a DICOM series as (origin, row cosine X, column cosine Y, spacing (dr, dc), real values)."""
    slices = []
    for file in sorted(folder.iterdir()):
        ds = pydicom.dcmread(file)
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        slope = float(getattr(ds, "RescaleSlope", 1))
        intercept = float(getattr(ds, "RescaleIntercept", 0))
        slices.append(
            (
                np.array([float(v) for v in ds.ImagePositionPatient]),
                iop[:3],
                iop[3:],
                [float(v) for v in ds.PixelSpacing],
                ds.pixel_array.astype(np.float64) * slope + intercept,
            )
        )
    return slices


def value_at(slices, points: np.ndarray) -> np.ndarray:
    """The series' real value at each LPS point (a voxel centre of the series, within 1e-3 mm)."""
    out = np.full(len(points), np.nan)
    for origin, x, y, (dr, dc), values in slices:
        n = np.cross(x, y)
        d = points - origin
        on_plane = np.abs(d @ n) < 1e-3
        col = d @ x / dc
        row = d @ y / dr
        ci, ri = np.rint(col).astype(int), np.rint(row).astype(int)
        centre = on_plane & (np.abs(col - ci) < 1e-3) & (np.abs(row - ri) < 1e-3)
        inside = centre & (ci >= 0) & (ri >= 0) & (ci < values.shape[1]) & (ri < values.shape[0])
        out[inside] = values[ri[inside], ci[inside]]
    return out


def physical_points(image) -> np.ndarray:
    """Every voxel centre (x fastest, as GetArrayFromImage flattens) in LPS mm, through SimpleITK."""
    size = image.GetSize()
    k, j, i = np.meshgrid(*(np.arange(s) for s in size[::-1]), indexing="ij")
    index = np.stack([i.ravel(), j.ravel(), k.ravel()], axis=1).astype(float)
    direction = np.array(image.GetDirection()).reshape(3, 3)
    points = np.array(image.GetOrigin()) + (index * np.array(image.GetSpacing())) @ direction.T
    for probe in (0, len(index) // 2, len(index) - 1):  # the same as SimpleITK's own mapping
        expected = image.TransformIndexToPhysicalPoint([int(v) for v in index[probe]])
        assert np.allclose(points[probe], expected, atol=1e-6)
    return points


def test_every_voxel_is_the_series_value_at_its_scanner_position(dataset, tmp_path):
    run = export(dataset, "nnunet", "--out", str(tmp_path / "raw"), "--channels", "T2,T1", "--folds", "2")
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "raw" / "Dataset501_NPC"
    manifest = list(csv.DictReader((folder / "manifest.csv").open()))
    assert [row["patient_id"] for row in manifest] == list(STORED)
    # the mask stored apart from the series' order still pairs through the scanner
    assert {row["pairing"] for row in manifest} == {"scanner"}
    dtypes = {}
    for row in manifest:
        patient = row["patient_id"]
        label_file = folder / row["label_file"]
        label = sitk.ReadImage(str(label_file))
        label_nib = nib.load(label_file)
        for channel, series in (("t2", "T2WI"), ("t1", "T1WI")):
            image_file = folder / row[f"{channel}_image_file"]
            image = sitk.ReadImage(str(image_file))
            image_nib = nib.load(image_file)
            # identical geometry for image and label, in both readers
            assert image.GetSize() == label.GetSize()
            assert image.GetSpacing() == label.GetSpacing()
            assert image.GetOrigin() == label.GetOrigin()
            assert image.GetDirection() == label.GetDirection()
            assert np.array_equal(image_nib.affine, label_nib.affine)
            assert image_nib.shape == label_nib.shape
            # nibabel's affine is SimpleITK's geometry in RAS
            direction = np.array(image.GetDirection()).reshape(3, 3) * np.array(image.GetSpacing())
            lps_to_ras = np.diag([-1.0, -1.0, 1.0])
            assert np.allclose(image_nib.affine[:3, :3], lps_to_ras @ direction, atol=1e-5)
            assert np.allclose(image_nib.affine[:3, 3], lps_to_ras @ np.array(image.GetOrigin()), atol=1e-4)
            points = physical_points(image)
            expected = value_at(series_values(dataset / "MRI-Segments" / patient / series), points)
            assert not np.isnan(expected).any(), f"{patient} {channel}: voxel centres off the series' grid"
            ours = sitk.GetArrayFromImage(image).ravel().astype(np.float64)
            assert np.allclose(ours, expected, rtol=1e-6, atol=1e-6), f"{patient} {channel}"
            assert np.allclose(np.asarray(image_nib.dataobj).transpose(2, 1, 0).ravel(), expected, rtol=1e-6, atol=1e-6)
            dtypes[(patient, channel)] = image_nib.get_data_dtype()
        # the label: 0/1 uint8, the source mask's tumour at the same scanner positions
        source = sitk.ReadImage(str(dataset / "MRI-Segments" / patient / "ROI-T2.nii"))
        points = physical_points(label)
        indices = [source.TransformPhysicalPointToIndex(p.tolist()) for p in points]
        source_voxels = sitk.GetArrayFromImage(source)
        expected = np.array([source_voxels[k, j, i] != 0 for i, j, k in indices], dtype=np.uint8)
        assert label_nib.get_data_dtype() == np.uint8
        assert np.array_equal(sitk.GetArrayFromImage(label).ravel(), expected)
        assert float(row["t1_dice"]) == 1.0 and float(row["t1_centroid_distance_mm"]) < 1e-6
    # the label's own sequence keeps its stored integers with the rescale in the header
    assert dtypes[("005", "t2")] == np.int16
    assert nib.load(folder / "imagesTr" / "NPC_005_0000.nii.gz").dataobj.slope == 0.5
    assert dtypes[("001", "t1")] == np.float32  # resampled


def test_monai_datalist_lists_the_same_files_with_their_folds(dataset, tmp_path):
    out = tmp_path / "monai"
    run = export(dataset, "monai", "--out", str(out), "--folds", "3", "--test", "SELECT '006' AS patient_id")
    assert run.returncode == 0, run.stderr
    datalist = json.loads((out / "datalist.json").read_text())
    assert len(datalist["training"]) == 5 and len(datalist["testing"]) == 1
    assert sorted({item["fold"] for item in datalist["training"]}) == [0, 1, 2]
    for item in datalist["training"] + datalist["testing"]:
        for path in [*item["image"], item["label"]]:
            assert (out / path).is_file(), path
    assert datalist["testing"][0]["label"] == "labelsTs/NPC_006.nii.gz"


MASK64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """SplitMix64's next (state, output), as the export's README defines the split's generator."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def rederived_folds(strata: dict[str, str | None], folds: int, seed: int) -> dict[str, int]:
    """The split from its written definition alone (npcql's export::split), in plain Python."""
    groups: dict[tuple[bool, str], list[str]] = {}
    for patient in sorted(strata):
        value = strata[patient]
        groups.setdefault((value is None, value or ""), []).append(patient)
    state, fold, assigned = seed, 0, {}
    for key in sorted(groups):
        members = groups[key]
        for i in range(len(members) - 1, 0, -1):
            state, r = splitmix64(state)
            j = r % (i + 1)
            members[i], members[j] = members[j], members[i]
        for patient in members:
            assigned[patient] = fold
            fold = (fold + 1) % folds
    return assigned


@pytest.mark.parametrize("seed", [12345, 7])
def test_the_split_rederives_from_its_definition(con, tmp_path, seed):
    plan = con.export("nnunet", tmp_path / "raw", stratify="ebv_status", seed=seed, dry_run=True)
    assert not (tmp_path / "raw").exists()
    strata = dict(con.sql("SELECT patient_id, ebv_status FROM patients").fetchall())
    assert {c["patient_id"]: c["fold"] for c in plan.cases} == rederived_folds(strata, 5, seed)
    assert "would write 48 cases (48 training, 0 test)" in repr(plan)


def test_connection_export_binds_params_and_refuses_to_overwrite(dataset, tmp_path):
    import npcql

    con = npcql.connect(dataset)
    selection = "SELECT patient_id FROM patients WHERE ebv_status = $status"
    done = con.export("monai", tmp_path / "out", sql=selection, params={"status": "positive"}, folds=2, channels="T2,T1")
    assert [c["patient_id"] for c in done.cases] == ["002", "004", "006"]
    assert done.left_out == [] and done.bytes_written > 0
    assert json.loads((tmp_path / "out" / "datalist.json").read_text())["modality"] == {"0": "T2", "1": "T1"}
    with pytest.raises(npcql.ExportError, match=r"already exists; a forced export replaces it .*\(force=True\)$"):
        con.export("monai", tmp_path / "out", folds=2)
    assert len(con.export("monai", tmp_path / "out", folds=2, force=True).cases) == 6
