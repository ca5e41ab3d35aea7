"""CNN14 (PANNs), the paper's audio tower, with names that match the Microsoft 2022 checkpoint.

    waves -> log-mel -> bn0 over mel bins -> 6 conv blocks (2x2 average pooling after 1-5)
          -> mean over frequency -> max + mean over time -> fc1 + ReLU = embedding

Channel widths, sample rate and mel settings are parameters, so the same code gives the
80 M-parameter paper model (the defaults) and small CPU-trainable variants, e.g.
build(widths=(8, 16, 32, 64, 64, 128), sample_rate=16000, hop=160, n_fft=512, fmax=8000).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .frontend import LogMel, Spectrogram

PAPER_WIDTHS = (64, 128, 256, 512, 1024, 2048)
AUDIOSET_CLASSES = 527
POOLS = ((2, 2),) * 5 + ((1, 1),)  # no pooling after the last block


class ConvBlock(nn.Module):
    """Two 3x3 convolutions (no bias), each followed by batch norm and ReLU, then average pooling."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, pool: tuple[int, int]) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.avg_pool2d(x, kernel_size=pool)


class Cnn14(nn.Module):
    """(B, T) waves at `sample_rate` -> (B, output_dim) embeddings (ReLU of fc1)."""

    def __init__(self, widths=PAPER_WIDTHS, sample_rate: int = 44100, n_fft: int = 1024, hop: int = 320,
                 n_mels: int = 64, fmin: float = 50.0, fmax: float = 14000.0, embed_dim: int | None = None,
                 classes_num: int = AUDIOSET_CLASSES, block_dropout: float = 0.2, embed_dropout: float = 0.5):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) != 6:
            raise ValueError(f"CNN14 has 6 conv blocks; got {len(widths)} widths.")
        self.spectrogram_extractor = Spectrogram(n_fft, hop)
        self.logmel_extractor = LogMel(sample_rate, n_fft, n_mels, fmin, fmax)
        self.bn0 = nn.BatchNorm2d(n_mels)
        ins = (1,) + widths[:-1]
        for index, (cin, cout) in enumerate(zip(ins, widths), start=1):
            self.add_module(f"conv_block{index}", ConvBlock(cin, cout))
        self.output_dim = int(embed_dim or widths[-1])
        self.fc1 = nn.Linear(widths[-1], self.output_dim)
        # Kept so the checkpoint's AudioSet head loads without "unexpected keys"; CLAP ignores it.
        self.fc_audioset = nn.Linear(self.output_dim, classes_num) if classes_num else None
        self.block_dropout, self.embed_dropout = block_dropout, embed_dropout

    def blocks(self) -> list[ConvBlock]:
        return [getattr(self, f"conv_block{i}") for i in range(1, 7)]

    def log_mel(self, waves: torch.Tensor) -> torch.Tensor:
        """(B, T) -> (B, 1, frames, n_mels) in dB."""
        return self.logmel_extractor(self.spectrogram_extractor(waves))

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        x = self.log_mel(waves)
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)  # normalise each mel bin
        for block, pool in zip(self.blocks(), POOLS):
            x = F.dropout(block(x, pool), p=self.block_dropout, training=self.training)
        x = x.mean(dim=3)  # over frequency -> (B, C, frames)
        x = x.amax(dim=2) + x.mean(dim=2)  # over time
        x = F.dropout(x, p=self.embed_dropout, training=self.training)
        return F.relu(self.fc1(x))


def build(**params) -> Cnn14:
    """AUDIO_TOWERS['cnn14'] builder; params are Cnn14's keyword arguments (JSON-friendly)."""
    return Cnn14(**params)
