"""Adapts a torch `Clap` module to the AudioTextModel interface the search tool uses."""

from __future__ import annotations

import hashlib
import json

import torch
from torch.nn import functional as F


def pick_device(device: str | None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def fingerprint_module(module: torch.nn.Module, extra: dict) -> str:
    """A short hash of every parameter and buffer plus `extra` (front end, windowing, pooling).

    Two loads of the same weights give the same fingerprint; any changed weight changes it.
    """
    digest = hashlib.blake2b(digest_size=12)
    digest.update(json.dumps(extra, sort_keys=True).encode())
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()


class ClapAudioTextModel:
    """Inference wrapper: eval mode, no grad, fixed device, normalised float32 CPU outputs."""

    def __init__(self, module, name: str, device: str | None = None, fingerprint_extra: dict | None = None):
        config = module.config
        self.module = module.eval()
        self.device = pick_device(device)
        self.module.to(self.device)
        self.name = name
        self.dim = int(config.embed_dim)
        self.sample_rate = int(config.sample_rate)
        self.window_seconds = float(config.window_seconds)
        self.logit_scale = float(module.scale().item())
        extra = {"config": json.loads(config.to_json()), **(fingerprint_extra or {})}
        # Where the files came from is not identity: the same weights loaded from another path
        # (or from an export of this model) must match an index built with them.
        for key in ("name", "text_weights_external"):
            extra["config"].pop(key, None)
        extra["config"]["text"].pop("name_or_path", None)
        self.fingerprint = fingerprint_module(module, extra)

    @torch.inference_mode()
    def embed_audio(self, waves: torch.Tensor) -> torch.Tensor:
        waves = torch.as_tensor(waves, dtype=torch.float32).to(self.device)
        return F.normalize(self.module.encode_audio(waves, normalize=False).float(), dim=-1).cpu()

    @torch.inference_mode()
    def embed_text(self, texts: list[str]) -> torch.Tensor:
        tokens = self.module.tokenize(list(texts), device=self.device)
        return F.normalize(self.module.encode_text(tokens, normalize=False).float(), dim=-1).cpu()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim} {self.sample_rate} Hz {self.window_seconds} s>"
