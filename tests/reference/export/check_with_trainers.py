#!/usr/bin/env python3
"""nnU-Net's and MONAI's own readers on exports of data-sample, one channel and three.

For each export: nnU-Net v2's `verify_dataset_integrity` (every case's channels and label present,
same shape, same geometry, labels as dataset.json declares), nnU-Net's `SimpleITKIO` reading each
case as the trainer does, and MONAI's `load_decathlon_datalist` plus `LoadImaged`/`EnsureChannelFirstd`
on every training and test item of the MONAI export. The output (check_with_trainers.txt beside this
script) is committed; it must hold no warning line. They need torch, so CI does not run this.

Run (the versions of the committed output are printed in it):
    python3 -m venv ~/.cache/nnunet-venv
    ~/.cache/nnunet-venv/bin/pip install torch monai nnunetv2 nibabel SimpleITK
    cargo build
    ~/.cache/nnunet-venv/bin/python tests/reference/export/check_with_trainers.py [NPCQL_BINARY] \
        > tests/reference/export/check_with_trainers.txt
"""

import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NPCQL_BIN", str(ROOT / "target/debug/npcql"))
    caught = []
    warnings.showwarning = lambda message, category, *_: caught.append(f"{category.__name__}: {message}")

    import monai
    import nnunetv2
    import SimpleITK
    import torch
    from monai.data import load_decathlon_datalist
    from monai.transforms import Compose, EnsureChannelFirstd, LoadImaged
    from nnunetv2.experiment_planning.verify_dataset_integrity import verify_dataset_integrity
    from nnunetv2.imageio.simpleitk_reader_writer import SimpleITKIO

    print(f"nnunetv2 {nnunetv2.__version__ if hasattr(nnunetv2, '__version__') else version('nnunetv2')}, "
          f"monai {monai.__version__}, torch {torch.__version__}, SimpleITK {SimpleITK.Version_VersionString()}")
    with tempfile.TemporaryDirectory() as scratch:
        for channels in ["T2", "T2,T1,CE-T1"]:
            raw = Path(scratch) / f"raw-{channels.count(',') + 1}"
            run(binary, "nnunet", "--out", raw, "--channels", channels, "--stratify", "ebv_status",
                "--test", "SELECT patient_id FROM patients WHERE t_stage = 'T4'")
            dataset = raw / "Dataset501_NPC"
            verify_dataset_integrity(str(dataset), num_processes=2)
            spec = json.loads((dataset / "dataset.json").read_text())
            io = SimpleITKIO()
            cases = sorted(p.name[: -len(".nii.gz")] for p in (dataset / "labelsTr").iterdir())
            for case in cases:
                images = [str(dataset / "imagesTr" / f"{case}_{k:04d}.nii.gz") for k in range(len(spec["channel_names"]))]
                data, properties = io.read_images(images)
                seg, seg_properties = io.read_seg(str(dataset / "labelsTr" / f"{case}.nii.gz"))
                assert data.shape[1:] == seg.shape[1:], case
                assert properties["spacing"] == seg_properties["spacing"], case
                assert set(seg.ravel().tolist()) <= {0, 1}, case
            print(f"nnU-Net, channels {channels}: verify_dataset_integrity passed; "
                  f"{len(cases)} training cases read by SimpleITKIO with matching shape and spacing")

            monai_dir = Path(scratch) / f"monai-{channels.count(',') + 1}"
            run(binary, "monai", "--out", monai_dir, "--channels", channels, "--folds", "3",
                "--test", "SELECT patient_id FROM patients WHERE t_stage = 'T4'")
            load = Compose([LoadImaged(keys=["image", "label"]), EnsureChannelFirstd(keys=["image", "label"])])
            for key in ["training", "testing"]:
                items = load_decathlon_datalist(str(monai_dir / "datalist.json"), True, key, str(monai_dir))
                shapes = set()
                for item in items:
                    loaded = load(item)
                    assert loaded["image"].shape[1:] == loaded["label"].shape[1:], item
                    assert torch.allclose(loaded["image"].affine, loaded["label"].affine), item
                    shapes.add(tuple(loaded["image"].shape[:1]))
                print(f"MONAI, channels {channels}, {key}: {len(items)} items loaded, "
                      f"channels {sorted(shapes)}, image and label affines equal")
    for line in caught:
        print(f"WARNING {line}")
    print(f"{len(caught)} warnings")


def version(name: str) -> str:
    from importlib.metadata import version as v

    return v(name)


def run(binary: str, *args) -> None:
    subprocess.run([binary, "export", *map(str, args), "-d", str(ROOT / "data-sample")],
                   check=True, capture_output=True, env={**os.environ, "nnUNet_preprocessed": ""})


if __name__ == "__main__":
    main()
