"""The paper's log-mel front end as torch modules whose names match the Microsoft checkpoints.

    waves (B, T) -> STFT power (B, 1, frames, n_fft//2+1) -> mel (B, 1, frames, n_mels) -> dB

The STFT is two frozen Conv1d kernels (real and imaginary DFT rows times a periodic Hann
window), applied after centre reflect padding; the mel matrix is the Slaney-scale,
Slaney-normalised filterbank (librosa's default). Both are frozen parameters, so a checkpoint's
copies overwrite the computed ones, exactly as in the reference model.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

AMIN = 1e-10  # floor before the log, as in the reference power_to_db


def periodic_hann(length: int) -> np.ndarray:
    """Hann window for spectral analysis (periodic: the DFT-even variant, length N over period N)."""
    n = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / length)


def dft_kernels(n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """Windowed DFT rows for bins 0..n_fft//2, as (bins, 1, n_fft) real and imaginary kernels."""
    bins = np.arange(n_fft // 2 + 1, dtype=np.float64)[:, None]
    n = np.arange(n_fft, dtype=np.float64)[None, :]
    angle = 2.0 * np.pi * ((bins * n) % n_fft) / n_fft  # reduce mod n_fft to keep precision
    window = periodic_hann(n_fft)[None, :]
    return (np.cos(angle) * window)[:, None, :], (-np.sin(angle) * window)[:, None, :]


# Slaney's mel scale: linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = math.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / _F_SP
    logarithmic = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(hz >= _MIN_LOG_HZ, logarithmic, linear)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * _F_SP
    logarithmic = _MIN_LOG_HZ * np.exp(_LOG_STEP * (np.maximum(mel, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, logarithmic, linear)


def slaney_mel_matrix(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_fft//2+1, n_mels) triangular filters on the Slaney scale, each scaled to unit area."""
    fft_hz = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges_hz)
    offsets = edges_hz[:, None] - fft_hz[None, :]  # (n_mels+2, bins)
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    filters = np.maximum(0.0, np.minimum(rising, falling))
    filters *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]  # Slaney norm: equal area
    return filters.T


class Stft(nn.Module):
    """Power-ready STFT by convolution; submodules conv_real / conv_imag as in the checkpoints."""

    def __init__(self, n_fft: int, hop: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        bins = n_fft // 2 + 1
        self.conv_real = nn.Conv1d(1, bins, n_fft, stride=hop, bias=False)
        self.conv_imag = nn.Conv1d(1, bins, n_fft, stride=hop, bias=False)
        real, imag = dft_kernels(n_fft)
        with torch.no_grad():
            self.conv_real.weight.copy_(torch.from_numpy(real))
            self.conv_imag.weight.copy_(torch.from_numpy(imag))
        self.requires_grad_(False)  # a fixed transform, never trained

    def forward(self, waves: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T) -> real, imag, each (B, 1, frames, bins)."""
        x = F.pad(waves[:, None, :], (self.n_fft // 2, self.n_fft // 2), mode="reflect")
        real = self.conv_real(x).transpose(1, 2)[:, None]
        imag = self.conv_imag(x).transpose(1, 2)[:, None]
        return real, imag


class Spectrogram(nn.Module):
    def __init__(self, n_fft: int, hop: int):
        super().__init__()
        self.stft = Stft(n_fft, hop)

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        real, imag = self.stft(waves)
        return real**2 + imag**2  # power 2


class LogMel(nn.Module):
    """Mel projection (frozen `melW`) then 10*log10(clamp(x, 1e-10))."""

    def __init__(self, sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float):
        super().__init__()
        matrix = slaney_mel_matrix(sample_rate, n_fft, n_mels, fmin, fmax)
        self.melW = nn.Parameter(torch.from_numpy(matrix).float(), requires_grad=False)

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        mel = torch.matmul(power, self.melW)
        return 10.0 * torch.log10(torch.clamp(mel, min=AMIN))


class LogMelFrontEnd(nn.Module):
    """waves (B, T) -> log-mel (B, 1, frames, n_mels); frames = T // hop + 1."""

    def __init__(self, sample_rate: int = 44100, n_fft: int = 1024, hop: int = 320, n_mels: int = 64,
                 fmin: float = 50.0, fmax: float = 14000.0):
        super().__init__()
        self.spectrogram_extractor = Spectrogram(n_fft, hop)
        self.logmel_extractor = LogMel(sample_rate, n_fft, n_mels, fmin, fmax)

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        return self.logmel_extractor(self.spectrogram_extractor(waves))
