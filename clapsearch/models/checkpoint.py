"""Reading weights safely: safetensors, or torch.load(weights_only=True). Never full unpickling."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from ..errors import CheckpointError


def read_state_dict(path: str, key: str | None = None) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors file or a torch pickle that holds only safe types.

    `key` picks a sub-dict of a pickle (e.g. 'model' in the Microsoft checkpoints).
    """
    if not os.path.isfile(path):
        raise CheckpointError(f"Checkpoint {path!r} does not exist; check the path after the model prefix.")
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError (or others) for unsafe or broken files
        raise CheckpointError(
            f"Refusing to load {path!r}: it is not a plain weights file (it would need arbitrary "
            "unpickling, or it is damaged); convert it to safetensors with a trusted tool first."
        ) from exc
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            raise CheckpointError(f"Checkpoint {path!r} has no {key!r} entry; is it the right kind of checkpoint?")
        obj = obj[key]
    if not isinstance(obj, dict):
        raise CheckpointError(f"Checkpoint {path!r} does not hold a state dict.")
    return obj


def clean_state_dict(state: dict, drop_suffixes: tuple[str, ...] = ("position_ids",)) -> dict:
    """Strip DDP's `module.` prefix and drop buffers that transformers versions disagree on."""
    out = {}
    for name, value in state.items():
        if name.startswith("module."):
            name = name[len("module."):]
        if name.endswith(drop_suffixes):
            continue
        out[name] = value
    return out


@dataclass
class LoadReport:
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.missing)} missing keys, {len(self.unexpected)} unexpected keys"


def load_into(module: torch.nn.Module, state: dict, allowed_missing=(), allowed_unexpected=(), source="") -> LoadReport:
    """load_state_dict(strict=False), then fail unless every gap is one the caller expected.

    `allowed_*` are key prefixes (or exact names) that may be absent / left over.
    """
    result = module.load_state_dict(state, strict=False)
    report = LoadReport(list(result.missing_keys), list(result.unexpected_keys))
    bad_missing = [k for k in report.missing if not k.startswith(tuple(allowed_missing))]
    bad_unexpected = [k for k in report.unexpected if not k.startswith(tuple(allowed_unexpected))]
    if bad_missing or bad_unexpected:
        detail = (bad_missing + bad_unexpected)[:5]
        raise CheckpointError(
            f"Checkpoint {source or ''} does not fit this architecture "
            f"({len(bad_missing)} missing, {len(bad_unexpected)} unexpected keys, e.g. {detail}); "
            "check that the model prefix matches the checkpoint."
        )
    return report
