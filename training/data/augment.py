"""Training-time waveform augmentations: random gain, mixed-in noise, circular time shift.

Each takes the clip's own numpy Generator, so a clip's augmentation depends only on the seed,
the epoch and the clip index (never on which worker or rank decoded it).
"""

from __future__ import annotations

import numpy as np


def random_gain(wave: np.ndarray, max_db: float, rng: np.random.Generator) -> np.ndarray:
    return wave * np.float32(10.0 ** (rng.uniform(-max_db, max_db) / 20.0))


def mix_noise(wave: np.ndarray, snr_db: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Add white noise at a signal-to-noise ratio drawn from [low, high] dB."""
    signal_power = float(np.mean(wave.astype(np.float64) ** 2))
    if signal_power <= 0.0:
        return wave
    noise_power = signal_power / 10.0 ** (rng.uniform(*snr_db) / 10.0)
    noise = rng.standard_normal(wave.shape[0]).astype(np.float32) * np.float32(np.sqrt(noise_power))
    return wave + noise


def time_shift(wave: np.ndarray, max_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate the window by up to max_fraction of its length (the content wraps around)."""
    limit = int(max_fraction * wave.shape[0])
    return np.roll(wave, int(rng.integers(-limit, limit + 1))) if limit > 0 else wave


def augment(wave: np.ndarray, config, rng: np.random.Generator) -> np.ndarray:
    """Apply the augmentations an AugmentConfig enables, each with its probability."""
    def chosen() -> bool:
        return rng.random() < config.probability

    if config.time_shift > 0 and chosen():
        wave = time_shift(wave, config.time_shift, rng)
    if config.noise_snr_db and chosen():
        wave = mix_noise(wave, tuple(config.noise_snr_db), rng)
    if config.gain_db > 0 and chosen():
        wave = random_gain(wave, config.gain_db, rng)
    return wave.astype(np.float32, copy=False)


def is_active(config) -> bool:
    return config is not None and (config.gain_db > 0 or bool(config.noise_snr_db) or config.time_shift > 0)
