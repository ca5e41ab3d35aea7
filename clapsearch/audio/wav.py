"""Decode any readable audio file into a plain 16-bit PCM WAV file (for players that lack its codec).

Streamed block by block at the file's own rate, mixed to mono as everywhere else in clapsearch,
so memory stays small whatever the file's length.
"""

from __future__ import annotations

import os

from .decode import probe, read_blocks


def write_wav(path, out_path) -> None:
    """Write `path` as a mono 16-bit WAV at its own sample rate to `out_path` (via a temp name)."""
    import soundfile

    rate = probe(path).sample_rate
    partial = f"{os.fspath(out_path)}.part"
    try:
        with soundfile.SoundFile(partial, "w", samplerate=rate, channels=1, format="WAV", subtype="PCM_16") as out:
            for block in read_blocks(path, rate):
                out.write(block)
        os.replace(partial, out_path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
