"""Sound lumps of Doom-format WAD files (freedoom), written out as WAV.

WAD: "IWAD"/"PWAD", int32 lump count, int32 directory offset; the directory
has 16-byte records (int32 offset, int32 size, 8-byte NUL-padded name).
Sound lumps are named DS<code> in the DMX format: uint16 format (3), uint16
sample rate, uint32 sample count, then that many unsigned 8-bit samples, the
first and last 16 of which are padding.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path


def lumps(data: bytes) -> dict[str, bytes]:
    kind, count, offset = struct.unpack_from("<4sii", data, 0)
    if kind not in (b"IWAD", b"PWAD"):
        raise ValueError("not a WAD file")
    found = {}
    for index in range(count):
        start, size, name = struct.unpack_from("<ii8s", data, offset + 16 * index)
        found[name.rstrip(b"\0").decode("latin-1")] = data[start:start + size]
    return found


def dmx_to_pcm(lump: bytes) -> tuple[int, bytes] | None:
    """(sample rate, unsigned 8-bit samples) of a DMX sound lump, or None if it is not one."""
    if len(lump) < 8:
        return None
    kind, rate, count = struct.unpack_from("<HHI", lump, 0)
    if kind != 3 or rate == 0 or count < 32 or 8 + count > len(lump):
        return None
    return rate, lump[8 + 16: 8 + count - 16]


def write_wav(path: Path, rate: int, samples: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)  # 8-bit WAV is unsigned, as DMX is
        out.setframerate(rate)
        out.writeframes(samples)


def extract_sounds(wad: Path, target: Path) -> int:
    """Write every DS* sound lump of a WAD as target/<code>.wav; returns how many."""
    count = 0
    for name, lump in lumps(wad.read_bytes()).items():
        pcm = dmx_to_pcm(lump) if name.startswith("DS") else None
        if pcm:
            write_wav(target / f"{name[2:].lower()}.wav", *pcm)
            count += 1
    return count


def unpack_wad_sounds(pattern: str):
    """A prepare step: extract the sound lumps of every WAD matching pattern."""

    def prepare(package_root: Path, cache_dir: Path) -> None:
        for wad in sorted(package_root.rglob(pattern)):
            target = package_root / "_archives" / wad.name
            done = target / ".extracted"
            if not done.exists():
                extract_sounds(wad, target)
                done.write_text("ok\n")

    return prepare
