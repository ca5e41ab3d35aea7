"""The CLAP module: an audio tower and a text tower, each projected into one joint space.

Submodule names follow the Microsoft CLAP checkpoints (audio_encoder.base / .projection,
caption_encoder.base / .projection, logit_scale) so those state dicts load as they are.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .config import ClapConfig
from .projection import Projection
from .text import TextTower, pool, tokenize
from .towers import build_audio_tower, build_text_tower

LOGIT_SCALE_MAX = 100.0  # the paper clamps the scaled logits' multiplier at 100


class AudioEncoder(nn.Module):
    def __init__(self, base: nn.Module, embed_dim: int, dropout: float):
        super().__init__()
        self.base = base
        self.projection = Projection(base.output_dim, embed_dim, dropout)

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        return self.projection(self.base(waves))


class TextEncoder(nn.Module):
    def __init__(self, tower: TextTower, embed_dim: int, dropout: float):
        super().__init__()
        self.base = tower.base  # the transformers model
        self.tokenizer = tower.tokenizer
        self.pooling = tower.pooling
        self.max_length = tower.max_length
        self.projection = Projection(tower.output_dim, embed_dim, dropout)

    def tokenize(self, texts: list[str], device=None) -> dict[str, torch.Tensor]:
        return tokenize(self.tokenizer, texts, self.max_length, device)

    def forward(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        mask = tokens["attention_mask"]
        hidden = self.base(input_ids=tokens["input_ids"], attention_mask=mask).last_hidden_state
        return self.projection(pool(hidden, mask, self.pooling))


class Clap(nn.Module):
    def __init__(self, config: ClapConfig, load_pretrained_text: bool = True):
        super().__init__()
        self.config = config
        audio_tower = build_audio_tower(config.audio.kind, config.audio.params)
        text_tower = build_text_tower(config.text, load_pretrained=load_pretrained_text)
        self.audio_encoder = AudioEncoder(audio_tower, config.embed_dim, config.projection_dropout)
        self.caption_encoder = TextEncoder(text_tower, config.embed_dim, config.projection_dropout)
        self.logit_scale = nn.Parameter(torch.tensor(float(config.logit_scale_init)))

    def tokenize(self, texts: list[str], device=None) -> dict[str, torch.Tensor]:
        return self.caption_encoder.tokenize(texts, device=device)

    def encode_audio(self, waves: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        out = self.audio_encoder(waves)
        return F.normalize(out, dim=-1) if normalize else out

    def encode_text(self, tokens: dict[str, torch.Tensor], normalize: bool = True) -> torch.Tensor:
        out = self.caption_encoder(tokens)
        return F.normalize(out, dim=-1) if normalize else out

    def scale(self) -> torch.Tensor:
        """exp(logit_scale), clamped at 100 as in the paper."""
        return self.logit_scale.exp().clamp(max=LOGIT_SCALE_MAX)

    def forward(self, waves: torch.Tensor, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """Audio-by-text similarity logits, (B_audio, B_text)."""
        audio = self.encode_audio(waves)
        text = self.encode_text(tokens)
        return self.scale() * audio @ text.T
