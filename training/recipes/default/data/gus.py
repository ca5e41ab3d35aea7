"""Gravis UltraSound patches (``.pat``, the format of Debian's ``freepats``) to WAV.

A patch file is little-endian: a 129-byte header (magic ``GF1PATCH110`` or ``GF1PATCH100``,
``ID#000002``, a 60-byte description, instrument/voice/channel counts, the waveform count at
byte 85), one 63-byte instrument header, one 47-byte layer header (sample count at byte 6),
then per waveform a 96-byte sample header followed by its data. In a sample header: data size
in bytes at 8, loop start / end (bytes) at 12 / 16, sample rate (u16) at 20, root frequency
(milli-Hz, u32) at 30, the mode byte at 55 (bit 0: 16-bit, bit 1: unsigned, bit 2: looped).

A patch holds recordings of one instrument at several pitches; we keep the one whose root is
closest to middle C. A looped sample is a short attack plus a sustain loop, so it is played
through its loop until `LOOPED_SECONDS` and faded out: the clip is then a held note, as the
instrument would sound when a player presses a key.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGICS = (b"GF1PATCH110", b"GF1PATCH100")
PATCH_HEADER, INSTRUMENT_HEADER, LAYER_HEADER, SAMPLE_HEADER = 129, 63, 47, 96
MIDDLE_C_MILLIHZ = 261626
LOOPED_SECONDS = 1.5
FADE_SECONDS = 0.05
# Patches use odd rates (10750, 32072 Hz ...) that make exact polyphase resamplers build huge
# kernels; the note is written at one common rate, linearly interpolated as the GUS played it.
OUTPUT_RATE = 44100


@dataclass
class Waveform:
    rate: int
    root_millihz: int
    samples: np.ndarray  # float32 in [-1, 1]
    loop: tuple[int, int] | None  # sample indices, when looped


def read_patch(path: Path) -> list[Waveform]:
    """Every waveform of a patch file; raises ValueError when it is not a GUS patch."""
    data = Path(path).read_bytes()
    if not data.startswith(MAGICS):
        raise ValueError(f"{path} is not a GUS patch (no GF1PATCH header).")
    count = struct.unpack_from("<H", data, 85)[0]
    offset = PATCH_HEADER + INSTRUMENT_HEADER + LAYER_HEADER
    waves = []
    for _ in range(count):
        if offset + SAMPLE_HEADER > len(data):
            break
        size, loop_start, loop_end = struct.unpack_from("<III", data, offset + 8)
        rate = struct.unpack_from("<H", data, offset + 20)[0]
        root = struct.unpack_from("<I", data, offset + 30)[0]
        modes = data[offset + 55]
        raw = data[offset + SAMPLE_HEADER : offset + SAMPLE_HEADER + size]
        offset += SAMPLE_HEADER + size
        width = 2 if modes & 1 else 1
        samples = _decode(raw, width, unsigned=bool(modes & 2))
        loop = (loop_start // width, loop_end // width) if modes & 4 and loop_end > loop_start else None
        waves.append(Waveform(rate, root, samples, loop))
    return waves


def _decode(raw: bytes, width: int, unsigned: bool) -> np.ndarray:
    raw = raw[: len(raw) - len(raw) % width]
    if width == 2:
        values = np.frombuffer(raw, "<u2" if unsigned else "<i2").astype(np.float32)
        return (values - 32768 if unsigned else values) / 32768
    values = np.frombuffer(raw, np.uint8 if unsigned else np.int8).astype(np.float32)
    return (values - 128 if unsigned else values) / 128


def note_of(waves: list[Waveform]) -> Waveform | None:
    """The waveform recorded nearest middle C."""
    playable = [w for w in waves if len(w.samples) and w.rate]
    return min(playable, key=lambda w: abs(w.root_millihz - MIDDLE_C_MILLIHZ), default=None)


def played(wave: Waveform) -> np.ndarray:
    """The waveform as a held note: a looped sample runs through its loop, then fades."""
    if wave.loop is None:
        return wave.samples
    start, end = wave.loop
    end = min(end, len(wave.samples))
    if end - start < 16:
        return wave.samples
    target = int(LOOPED_SECONDS * wave.rate)
    head, body = wave.samples[:end], wave.samples[start:end]
    repeats = max(0, -(-(target - len(head)) // len(body)))
    note = np.concatenate([head, np.tile(body, repeats)])[: max(target, len(head))]
    fade = min(len(note), int(FADE_SECONDS * wave.rate))
    note[len(note) - fade :] *= np.linspace(1, 0, fade, dtype=np.float32)
    return note


def patch_to_wav(path: Path, out: Path) -> bool:
    """Write the patch's middle-C note to `out` (16-bit WAV); False when it has none."""
    import soundfile

    wave = note_of(read_patch(path))
    if wave is None:
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(out, np.clip(at_rate(played(wave), wave.rate, OUTPUT_RATE), -1, 1), OUTPUT_RATE,
                    subtype="PCM_16")
    return True


def at_rate(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear interpolation from `rate` to `target` Hz."""
    if rate == target or len(samples) < 2:
        return samples
    times = np.arange(int(len(samples) * target / rate)) * (rate / target)
    return np.interp(times, np.arange(len(samples)), samples).astype(np.float32)


def convert_patches(package_root: Path, cache_dir: Path) -> None:
    """A prepare step: every ``.pat`` of the package as a WAV under ``_archives/freepats/``."""
    target = package_root / "_archives" / "freepats"
    done = target / ".extracted"
    if done.exists():
        return
    for patch in sorted(package_root.rglob("*.pat")):
        if "_archives" in patch.parts:
            continue
        try:
            patch_to_wav(patch, target / patch.parent.name / f"{patch.stem}.wav")
        except (ValueError, struct.error):
            continue  # a damaged patch is left out; the scan counts what it finds
    target.mkdir(parents=True, exist_ok=True)
    done.write_text("ok\n")
