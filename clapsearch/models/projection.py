"""The paper's projection head, used on both the audio and the text side."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Projection(nn.Module):
    """e1 = linear1(x); e2 = dropout(linear2(gelu(e1))); out = LayerNorm(e1 + e2).

    Parameter names (linear1, linear2, layer_norm) match the Microsoft CLAP checkpoints.
    """

    def __init__(self, in_dim: int, out_dim: int, dropout: float = 0.5):
        super().__init__()
        self.linear1 = nn.Linear(in_dim, out_dim, bias=False)
        self.linear2 = nn.Linear(out_dim, out_dim, bias=False)
        self.drop = nn.Dropout(dropout)
        self.layer_norm = nn.LayerNorm(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.linear1(x)
        e2 = self.drop(self.linear2(F.gelu(e1)))
        return self.layer_norm(e1 + e2)
