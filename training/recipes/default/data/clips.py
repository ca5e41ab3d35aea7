"""Turn audio files into manifest entries: probe, convert if needed, excerpt.

Files soundfile cannot open (WavPack, odd WAV codecs) are converted once with
ffmpeg into ``cache/converted``. Clips under MIN_SECONDS are skipped; files
longer than LONG_SECONDS become up to MAX_EXCERPTS evenly spaced excerpts of
EXCERPT_SECONDS, all sharing the file's item (so they share a split).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

MIN_SECONDS = 0.1
LONG_SECONDS = 30.0
EXCERPT_SECONDS = 10.0
MAX_EXCERPTS = 6
AUDIO_SUFFIXES = {".ogg", ".wav", ".flac", ".mp3", ".opus", ".aif", ".aiff", ".wv"}
# Trailing numbers ("-02", "3b") and single-letter variant marks ("_c").
_NUMBERING = re.compile(r"(?:[\s_\-.]*\d+[a-z]?|[\s_\-.]+[a-z])+$", re.IGNORECASE)


def duration_of(path: Path) -> float | None:
    """Seconds of audio, or None when soundfile cannot read the file."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception:  # soundfile raises several types for unreadable files
        return None
    if info.samplerate <= 0 or info.frames <= 0:
        return None
    return info.frames / info.samplerate


def readable_copy(path: Path, converted_dir: Path) -> Path | None:
    """A FLAC copy of a file soundfile cannot read, made once with ffmpeg."""
    target = converted_dir / (path.name + ".flac")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp.flac")
        done = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(path),
                               "-vn", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if done.returncode != 0 or not tmp.exists():
            tmp.unlink(missing_ok=True)
            return None
        tmp.replace(target)
    return target


def spans(duration: float) -> list[tuple[float | None, float | None]]:
    """Whole clip, or evenly spaced excerpts of a long one."""
    if duration <= LONG_SECONDS:
        return [(None, None)]
    count = min(MAX_EXCERPTS, int(duration // EXCERPT_SECONDS))
    step = (duration - EXCERPT_SECONDS) / max(count - 1, 1)
    return [(round(i * step, 3), round(i * step + EXCERPT_SECONDS, 3)) for i in range(count)]


def item_key(relpath: str) -> str:
    """Group numbered variants of one sound ("step1.wav", "step-2.wav" -> "step")."""
    stem = relpath.rsplit(".", 1)[0]
    folder, _, name = stem.rpartition("/")
    base = _NUMBERING.sub("", name) or name
    return f"{folder}/{base}" if folder else base
