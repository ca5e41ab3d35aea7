"""Text towers through transformers: BERT ([CLS]), GPT-2 (end-of-text token), MiniLM (mean).

Tokenizers and weights come from local files when `name_or_path` is a directory or a
`package:MODULE` reference; a hub id works only where the hub is reachable (or cached).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import CheckpointError
from .text_source import resolve_text_source  # noqa: F401  (re-exported)


@dataclass
class TextTower:
    """A transformers model (`base`) + its tokenizer + the pooling rule.

    Not an nn.Module itself: TextEncoder keeps `base` as its own submodule so checkpoint names
    stay `caption_encoder.base.*`, as in the Microsoft checkpoints.
    """

    base: nn.Module
    tokenizer: object
    pooling: str
    max_length: int

    def __post_init__(self):
        if self.pooling not in ("cls", "eos", "mean"):
            raise ValueError(f"Unknown text pooling {self.pooling!r}; use cls, eos or mean.")
        cfg = self.base.config
        self.output_dim = int(getattr(cfg, "hidden_size", None) or cfg.n_embd)
        # Never feed more tokens than the model has positions for (a small BERT under a
        # config asking for 100 tokens would otherwise crash on long texts).
        positions = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
        if positions:
            self.max_length = min(int(self.max_length), int(positions))


def tokenize(tokenizer, texts: list[str], max_length: int, device=None) -> dict[str, torch.Tensor]:
    # Always truncate: the reference wrapper forgot to, and long captions crashed it.
    tokens = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return {k: v.to(device) if device is not None else v for k, v in tokens.items() if k in ("input_ids", "attention_mask")}


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """(B, L, H) last hidden states -> (B, H) by the tower's pooling rule."""
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "mean":
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    # "eos": the hidden state of the last real (non-padding) token; tokenizers pad on the right.
    last = mask.sum(1).clamp(min=1) - 1
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]


def build_hf_text_tower(config, load_pretrained: bool = True) -> TextTower:
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from .quiet import quiet_transformers

    quiet_transformers()
    source = resolve_text_source(config.name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        if load_pretrained:
            base = AutoModel.from_pretrained(source)
        else:
            base = AutoModel.from_config(AutoConfig.from_pretrained(source))
    except OSError as exc:
        hint = "a local directory with config.json and tokenizer files"
        if not os.path.isdir(source):
            hint += " (the hub is not reachable offline; pass a local copy)"
        raise CheckpointError(f"Cannot load text model {source!r}: use {hint}.") from exc
    if tokenizer.pad_token is None:  # GPT-2 has none; the 2023 MS model pads with '!' (id 0)
        tokenizer.pad_token = config.params.get("pad_token", tokenizer.eos_token)
    if config.params.get("append_eos") and tokenizer.eos_token:
        tokenizer = _EosAppendingTokenizer(tokenizer, config.params.get("eos_separator", ""))
    return TextTower(base, tokenizer, config.pooling, config.max_length)


class _EosAppendingTokenizer:
    """Wraps a GPT-2 tokenizer so each text ends with the end-of-text token (MS CLAP 2023).

    The MS reference appends " <|endoftext|>" (separator " "). Truncation cuts the text, never
    the end-of-text token, because "eos" pooling reads that token's hidden state.
    """

    def __init__(self, tokenizer, separator: str = ""):
        self._tok = tokenizer
        self.separator = separator

    def __getattr__(self, name):
        return getattr(self._tok, name)

    def __call__(self, texts, max_length=None, return_tensors=None, **kwargs):
        limit = max_length - 1 if max_length else None
        bodies = self._tok([t + self.separator for t in texts], truncation=limit is not None, max_length=limit,
                           add_special_tokens=False)["input_ids"]
        ids = [body + [self._tok.eos_token_id] for body in bodies]
        return self._tok.pad({"input_ids": ids}, padding=True, return_tensors=return_tensors)
