"""Windows of real recordings, picked deterministically: calibration input and quality checks."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3")


def find_clips(folders, per_folder: int, salt: str = "") -> list[Path]:
    """Up to `per_folder` audio files under each folder, the same ones every run.

    Files are ordered by a hash of their path below the folder (and `salt`), so picks are spread
    over the folder instead of taking its first sub-folder, and two salts give disjoint-ish sets.
    """
    picked = []
    for folder in folders:
        folder = Path(folder)
        files = [Path(root, name) for root, _, names in os.walk(folder) for name in names
                 if name.lower().endswith(AUDIO_SUFFIXES)]
        files.sort(key=lambda p: hashlib.blake2b(f"{salt}{p.relative_to(folder)}".encode(), digest_size=8).digest())
        picked.extend(files[:per_folder])
    return picked


def clip_windows(paths, rate: int, window: int, hop: int, max_windows_per_clip: int = 4) -> list[np.ndarray]:
    """(k, window) float32 windows for each readable clip (up to `max_windows_per_clip`, evenly spread).

    Unreadable files are skipped: a calibration or quality set is a sample, not an inventory.
    """
    from ...audio.decode import load_mono
    from ...audio.windows import repeat_pad, window_starts
    from ...errors import DecodeError

    out = []
    for path in paths:
        try:
            wave = load_mono(path, rate, duration=60.0)  # a sample of a long file is enough
        except DecodeError:
            continue
        starts = window_starts(len(wave), window, hop)
        if not starts:
            continue
        keep = np.unique(np.linspace(0, len(starts) - 1, min(len(starts), max_windows_per_clip)).round().astype(int))
        rows = [repeat_pad(wave, window) if len(wave) <= window else wave[starts[i]:starts[i] + window]
                for i in keep]
        out.append(np.stack(rows).astype(np.float32))
    return out
