"""A small generated audio library and a model wrapper that counts its calls (for the API, CLI and sync tests)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.audio_gen import chirp, noise, tone, write_audio

# name -> (signal maker, seconds, sample rate, channels)
LIBRARY = {
    "tones/a440.wav": (lambda s, sr, ch: tone(440, s, sr, ch), 2.0, 16000, 1),
    "tones/a880.flac": (lambda s, sr, ch: tone(880, s, sr, ch), 1.5, 44100, 2),
    "noise/white.ogg": (lambda s, sr, ch: noise(s, sr, ch, seed=1), 2.5, 22050, 1),
    "sweeps/up.wav": (lambda s, sr, ch: chirp(100, 6000, s, sr, ch), 3.0, 16000, 1),
    "sweeps/short.aiff": (lambda s, sr, ch: chirp(2000, 300, s, sr, ch), 0.4, 8000, 1),
}


def make_library(root, names=None) -> dict[str, Path]:
    """Write the LIBRARY files (or the named subset) under root; returns name -> path."""
    root = Path(root)
    paths = {}
    for name in names or LIBRARY:
        maker, seconds, rate, channels = LIBRARY[name]
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(path, maker(seconds, rate, channels), rate)
        paths[name] = path
    return paths


def rewrite(path, seconds=1.0, freq=3000.0, rate=16000) -> None:
    """Give a file new content (and so a new size, mtime and hash)."""
    write_audio(path, tone(freq, seconds, rate), rate, format="WAV" if str(path).endswith(".wav") else None)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


class CountingModel:
    """Wraps an AudioTextModel and counts the windows and texts it is asked to embed."""

    def __init__(self, model):
        self.inner = model
        self.name, self.dim, self.fingerprint = model.name, model.dim, model.fingerprint
        self.sample_rate, self.window_seconds, self.logit_scale = model.sample_rate, model.window_seconds, model.logit_scale
        self.audio_calls = self.text_calls = 0

    def embed_audio(self, waves):
        self.audio_calls += 1
        return self.inner.embed_audio(waves)

    def embed_text(self, texts):
        self.text_calls += 1
        return self.inner.embed_text(texts)
