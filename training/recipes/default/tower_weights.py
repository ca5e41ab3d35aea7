"""Fetch the aisfx wheel from PyPI (never installed: its pins break numpy 2), take out its
checkpoint, and convert it to our tower's names."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from clapsearch.models.aisfx import convert_state_dict, read_aisfx_checkpoint

from .settings import AISFX_VERSION

CHECKPOINT_MEMBER = "aisfx/models/checkpoint.pth"


def fetch_checkpoint(cache: Path) -> Path:
    """Path of aisfx's checkpoint.pth under `cache`, downloading the wheel once."""
    folder = cache / "aisfx"
    checkpoint = folder / "checkpoint.pth"
    if checkpoint.is_file():
        return checkpoint
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"aisfx-{AISFX_VERSION}-py2.py3-none-any.whl"
    if not wheel.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", f"aisfx=={AISFX_VERSION}",
                        "-d", str(folder)], check=True)
    with zipfile.ZipFile(wheel) as archive:
        checkpoint.write_bytes(archive.read(CHECKPOINT_MEMBER))
    return checkpoint


def converted_tower_state(cache: Path) -> dict:
    """The aisfx embedding network's weights under clapsearch.models.aisfx names."""
    return convert_state_dict(read_aisfx_checkpoint(str(fetch_checkpoint(cache))))


def load_tower(cache: Path):
    """Our aisfx tower with the converted weights, in eval mode."""
    from clapsearch.models.aisfx import build

    tower = build()
    tower.load_state_dict(converted_tower_state(cache), strict=True)
    return tower.eval()
