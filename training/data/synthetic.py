"""A generated audio-caption set: tones of three pitch ranges and four timbres, captioned by name.

    classes  = {low, medium, high} x {sine, square, sawtooth, noise}   (12)
    captions = varied phrasings, e.g. "a low square tone", "a high-pitched sine beep"
    labels   = one class name per clip, e.g. "low square tone" (for zero-shot validation)

Clips have random length, frequency within the pitch range, amplitude and fades, and are written
as 16-bit WAV with soundfile, with a manifest per split. Everything follows from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .manifest import ManifestEntry, write_manifest

# Fundamental-frequency ranges in Hz; noise bursts use them as the centre of their band.
PITCHES = {"low": (110.0, 220.0), "medium": (440.0, 700.0), "high": (1400.0, 2400.0)}
PITCH_WORDS = {"low": ["low", "low-pitched", "deep"], "medium": ["medium", "mid-pitched", "middle"],
               "high": ["high", "high-pitched", "shrill"]}
TIMBRES = ("sine", "square", "sawtooth", "noise")
TIMBRE_WORDS = {"sine": ["sine tone", "sine beep", "pure sine wave"],
                "square": ["square tone", "square wave", "buzzy square beep"],
                "sawtooth": ["sawtooth tone", "saw wave", "bright sawtooth buzz"],
                "noise": ["noise burst", "burst of noise", "hiss of filtered noise"]}
TEMPLATES = ("a {pitch} {timbre}", "{pitch} {timbre}", "the sound of a {pitch} {timbre}", "a short {pitch} {timbre}")


@dataclass(frozen=True)
class ToneClass:
    pitch: str
    timbre: str

    @property
    def name(self) -> str:  # the zero-shot class name
        return f"{PITCH_WORDS[self.pitch][0]} {TIMBRE_WORDS[self.timbre][0]}"


def tone_classes() -> list[ToneClass]:
    return [ToneClass(pitch, timbre) for pitch in PITCHES for timbre in TIMBRES]


def class_names() -> list[str]:
    return [tone.name for tone in tone_classes()]


def captions_for(tone: ToneClass) -> list[str]:
    return [template.format(pitch=p, timbre=t)
            for template in TEMPLATES for p in PITCH_WORDS[tone.pitch] for t in TIMBRE_WORDS[tone.timbre]]


def oscillator(timbre: str, frequency: float, samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One timbre at `frequency`: a sine, a square, a sawtooth, or noise band-limited around it."""
    phase = (frequency * np.arange(samples) / sample_rate + rng.random()) % 1.0
    if timbre == "sine":
        return np.sin(2 * np.pi * phase)
    if timbre == "square":
        return np.where(phase < 0.5, 1.0, -1.0)
    if timbre == "sawtooth":
        return 2.0 * phase - 1.0
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    bins = np.fft.rfftfreq(samples, 1.0 / sample_rate)
    spectrum[(bins < frequency / 1.5) | (bins > frequency * 1.5)] = 0.0  # an octave-wide band
    noise = np.fft.irfft(spectrum, samples)
    return noise / (np.abs(noise).max() + 1e-9)


def render(tone: ToneClass, seconds: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    samples = max(1, int(seconds * sample_rate))
    low, high = PITCHES[tone.pitch]
    frequency = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    wave = oscillator(tone.timbre, frequency, samples, sample_rate, rng)
    fade = min(samples // 2, int(0.01 * sample_rate))  # 10 ms ramps avoid clicks
    envelope = np.ones(samples)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        envelope[:fade], envelope[-fade:] = ramp, ramp[::-1]
    return (wave * envelope * rng.uniform(0.2, 0.8)).astype(np.float32)


def generate(directory: str | Path, sample_rate: int, config) -> dict[str, Path]:
    """Write the clips and one manifest per split ('train', 'val') under `directory`.

    `config` is a training.config.SyntheticConfig. Returns {split: manifest path}.
    """
    import soundfile

    directory = Path(directory)
    (directory / "audio").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    entries: dict[str, list[ManifestEntry]] = {"train": [], "val": []}
    counts = {"train": config.train_per_class, "val": config.val_per_class}
    for split, per_class in counts.items():
        for tone in tone_classes():
            captions = captions_for(tone)
            for number in range(per_class):
                path = directory / "audio" / f"{split}-{tone.pitch}-{tone.timbre}-{number:03d}.wav"
                seconds = rng.uniform(config.seconds_min, config.seconds_max)
                soundfile.write(str(path), render(tone, seconds, sample_rate, rng), sample_rate, subtype="PCM_16")
                # Validation keeps the plain name first: it is the caption validation uses.
                order = rng.permutation(len(captions)) if split == "train" else range(len(captions))
                entries[split].append(ManifestEntry(
                    audio=str(path), captions=[captions[i] for i in order], labels=[tone.name],
                    source="synthetic", license="CC0-1.0", item=path.stem, split=split))
    manifests = {}
    for split, rows in entries.items():
        manifests[split] = directory / f"{split}.jsonl"
        write_manifest(manifests[split], rows)
    return manifests
