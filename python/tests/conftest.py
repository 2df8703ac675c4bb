"""Shared fixtures: the repository's data-sample and the npcql command line to compare with."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import npcql

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data-sample"


def npcql_binary() -> Path:
    """The command line built by `cargo build` ($NPCQL_BIN, else the cargo target folder)."""
    if os.environ.get("NPCQL_BIN"):
        return Path(os.environ["NPCQL_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "npcql"


@pytest.fixture(scope="session")
def cli():
    binary = npcql_binary()
    if not binary.exists():
        pytest.fail(f"{binary} not found: run `cargo build` first or set NPCQL_BIN")

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(binary), "-d", str(DATA), *args], capture_output=True, check=True, cwd=ROOT)

    return run


@pytest.fixture(scope="session")
def con() -> npcql.Connection:
    return npcql.connect(DATA)


@pytest.fixture
def broken_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of data-sample whose first mask is cut short: (dataset folder, broken mask)."""
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    mask = sorted((copy / "MRI-Segments").glob("*/ROI-*.nii*"))[0]
    mask.write_bytes(mask.read_bytes()[:200])
    return copy, mask
