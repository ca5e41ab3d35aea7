"""Write test audio with soundfile: tones, noise and chirps in any format the system can encode.

    from tests.audio_gen import tone, noise, chirp, write_audio
    write_audio(tmp_path / "a.flac", tone(440, 2.0, 16000, channels=2), 16000)

Signals are float32 arrays shaped (frames,) for one channel or (frames, channels); everything is
deterministic (noise takes a seed).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# Extension -> (soundfile format, subtype) used by write_audio unless given explicitly.
FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".oga": ("OGG", "VORBIS"),
    ".opus": ("OGG", "OPUS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".aif": ("AIFF", "PCM_16"),
    ".aiff": ("AIFF", "PCM_16"),
    ".aifc": ("AIFF", "PCM_16"),
}
WRITE_FRAMES = 1 << 16
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)  # the only rates an opus file can have


def _channels(mono: np.ndarray, channels: int) -> np.ndarray:
    """Channel c is the signal scaled by 1 / (c + 1), so a down-mix is easy to predict."""
    if channels == 1:
        return mono.astype(np.float32)
    return np.stack([mono / (c + 1) for c in range(channels)], axis=1).astype(np.float32)


def tone(freq: float, seconds: float, sr: int, channels: int = 1, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return _channels(amplitude * np.sin(2 * np.pi * freq * t), channels)


def noise(seconds: float, sr: int, channels: int = 1, amplitude: float = 0.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return _channels(amplitude * rng.uniform(-1, 1, int(round(seconds * sr))), channels)


def chirp(f0: float, f1: float, seconds: float, sr: int, channels: int = 1, amplitude: float = 0.5) -> np.ndarray:
    """Linear sweep from f0 to f1 Hz."""
    t = np.arange(int(round(seconds * sr))) / sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))
    return _channels(amplitude * np.sin(phase), channels)


def write_audio(path, samples: np.ndarray, sr: int, format: str | None = None, subtype: str | None = None) -> Path:
    """Write `samples` to `path` (str, Path or bytes); format and subtype default from the extension."""
    import soundfile

    path = Path(os.fsdecode(path))  # bytes (e.g. non-UTF-8 names) welcome
    default_format, default_subtype = FORMATS.get(path.suffix.lower(), ("WAV", "PCM_16"))
    samples = np.asarray(samples, dtype=np.float32)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    # Written in pieces: this libsndfile's Vorbis encoder crashes (SIGSEGV) on one write of ~1 min of stereo.
    with soundfile.SoundFile(os.fsencode(path), "w", sr, channels, subtype or default_subtype,
                             format=format or default_format) as f:
        for start in range(0, len(samples), WRITE_FRAMES):
            f.write(samples[start : start + WRITE_FRAMES])
    return path
