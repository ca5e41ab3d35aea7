"""The aisfx sound-effects CNN as a clapsearch audio tower (our own implementation).

Architecture and front end as described by Ma & Lerch, "Representation Learning for the
Automatic Indexing of Sound Effects Libraries" (ISMIR 2022), package `aisfx` 0.1.2:

- front end at 44.1 kHz: peak-normalised wave, power mel spectrogram (n_fft = window = 2048,
  Hann, hop 1024, centred with zero padding, 96 HTK-scale bands over 0-22050 Hz, each filter
  normalised to unit sum), compressed as log10(10000 * S + 1) / 9.4578;
- blocks of 100 frames (about 2.3 s), hop 50 frames;
- four conv blocks (two 3x3 conv + batch norm + ReLU each; 64, 128, 256, 512 channels; 2x2 max
  pooling after the first three), then the mean over frequency and the max over time: 512-d.

A window longer than one block is cut into blocks; its embedding is the max over the blocks'
embeddings, which is the same "max over time" rule the network applies inside a block.
The converted weights are stored under our own names (see `convert_state_dict`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

SAMPLE_RATE = 44100
N_FFT = 2048
HOP = 1024
N_MELS = 96
LOG_SCALE = 10000.0
LOG_MAX = 9.457798957824707  # the maximum log-mel value over aisfx's training data
BLOCK_FRAMES = 100
BLOCK_HOP = 50
# A window of exactly one block: 1 + floor(samples / HOP) == BLOCK_FRAMES frames.
BLOCK_SECONDS = 2.3
# Peak normalisation divides by max(|x|); a floor keeps digital silence silent instead of
# amplifying rounding noise to full scale (aisfx divides by 1 when the peak is exactly 0).
PEAK_FLOOR = 1e-5


def htk_mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS,
                       f_min: float = 0.0, f_max: float | None = None) -> torch.Tensor:
    """(n_fft // 2 + 1, n_mels) triangles evenly spaced on the HTK mel scale, each summing to 1."""
    import torchaudio

    f_max = sample_rate / 2 if f_max is None else f_max
    bank = torchaudio.functional.melscale_fbanks(
        n_freqs=n_fft // 2 + 1, f_min=f_min, f_max=f_max, n_mels=n_mels,
        sample_rate=sample_rate, norm=None, mel_scale="htk",
    ).double()
    # aisfx uses "norm 1": every band's weights sum to one (an average of the bins it covers).
    bank = bank / bank.sum(dim=0, keepdim=True).clamp_min(1e-12)
    return bank.float()


class LogMelFrontEnd(nn.Module):
    """(B, T) waves at 44.1 kHz -> (B, frames, 96) normalised log-mel features."""

    def __init__(self):
        super().__init__()
        # Not persistent: derived from constants, so checkpoints carry only learned weights.
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)
        self.register_buffer("mel_bank", htk_mel_filterbank(), persistent=False)

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        peak = waves.abs().amax(dim=-1, keepdim=True).clamp_min(PEAK_FLOOR)
        waves = waves / peak
        spec = torch.stft(waves, N_FFT, hop_length=HOP, win_length=N_FFT, window=self.window,
                          center=True, pad_mode="constant", return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (B, freqs, frames)
        mel = torch.matmul(power.transpose(1, 2), self.mel_bank)  # (B, frames, mels)
        return torch.log10(mel * LOG_SCALE + 1.0) / LOG_MAX


class ConvBlock(nn.Module):
    """Two 3x3 conv + batch norm + ReLU, then max pooling."""

    def __init__(self, in_channels: int, out_channels: int, pool: tuple[int, int]):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.norm1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(out_channels)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm1(self.conv1(x)))
        x = F.relu(self.norm2(self.conv2(x)))
        return F.max_pool2d(x, self.pool) if self.pool != (1, 1) else x


class AisfxNet(nn.Module):
    """(N, frames, mels) features -> (N, 512): mean over frequency, max over time."""

    def __init__(self, width: int = 64):
        super().__init__()
        widths = [width, width * 2, width * 4, width * 8]
        pools = [(2, 2), (2, 2), (2, 2), (1, 1)]
        ins = [1] + widths[:-1]
        self.blocks = nn.ModuleList(ConvBlock(i, o, p) for i, o, p in zip(ins, widths, pools))
        self.output_dim = widths[-1]
        # Channels-last convolutions run about 1.4x faster on CPU (oneDNN); results are the same.
        self.to(memory_format=torch.channels_last)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = features.unsqueeze(1).contiguous(memory_format=torch.channels_last)  # (N, 1, time, freq)
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=3).amax(dim=2)


def cut_blocks(features: torch.Tensor, block: int = BLOCK_FRAMES, hop: int = BLOCK_HOP) -> torch.Tensor:
    """(B, frames, mels) -> (B, n_blocks, block, mels); short inputs are zero-padded to one block.

    Like aisfx, an incomplete last block is dropped when at least one full block exists.
    """
    frames = features.shape[1]
    if frames < block:
        features = F.pad(features, (0, 0, 0, block - frames))
        frames = block
    n_blocks = 1 + (frames - block) // hop
    return features.unfold(1, block, hop)[:, :n_blocks].transpose(2, 3)


class AisfxTower(nn.Module):
    """Audio tower: (B, T) waves at 44.1 kHz -> (B, 512) aisfx embeddings."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.frontend = LogMelFrontEnd()
        self.net = AisfxNet(width)
        self.output_dim = self.net.output_dim

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        blocks = cut_blocks(self.frontend(waves))  # (B, n, block, mels)
        batch, n_blocks = blocks.shape[:2]
        embeddings = self.net(blocks.reshape(batch * n_blocks, *blocks.shape[2:]))
        return embeddings.reshape(batch, n_blocks, -1).amax(dim=1)


def build(width: int = 64) -> AisfxTower:
    return AisfxTower(width)


# --- converting the aisfx checkpoint -------------------------------------------------------

_LAYER_NAMES = {"conv1": "conv1", "conv2": "conv2", "bn1": "norm1", "bn2": "norm2"}


def convert_state_dict(original: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """aisfx's `embedding_net.conv_blockK.<layer>.<param>` -> our `net.blocks.{K-1}.<layer>.<param>`.

    The classifier heads (`fc.*`, one per training dataset) are not part of the embedding and
    are dropped.
    """
    converted = {}
    for name, tensor in original.items():
        if not name.startswith("embedding_net.conv_block"):
            continue
        block, layer, param = name[len("embedding_net.conv_block"):].split(".")
        converted[f"net.blocks.{int(block) - 1}.{_LAYER_NAMES[layer]}.{param}"] = tensor.clone()
    return converted


def read_aisfx_checkpoint(path: str) -> dict[str, torch.Tensor]:
    """The state dict in aisfx's `models/checkpoint.pth` ((state_dict, ds_dict) pickle).

    Loaded with weights_only=True; the only extra types allowed are the numpy scalar and dtypes
    its dataset-index dict holds.
    """
    import numpy
    from numpy._core import multiarray

    allowed = [(multiarray.scalar, "numpy.core.multiarray.scalar"), numpy.dtype,
               type(numpy.dtype("int64")), type(numpy.dtype("float64"))]
    with torch.serialization.safe_globals(allowed):
        state, _datasets = torch.load(path, map_location="cpu", weights_only=True)
    return dict(state)
