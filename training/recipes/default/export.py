"""Assemble the default model (converted tower + trained heads + MiniLM) and write it as an
exported model directory with only the weights the text package does not provide."""

from __future__ import annotations

from pathlib import Path

import torch

from clapsearch.models.clap import Clap
from clapsearch.models.exported import save_dir

from .heads import Heads, untrained_heads
from .settings import joint_dim, model_config


def assemble(tower_state: dict, heads: Heads, settings) -> Clap:
    module = Clap(model_config(joint_dim(settings), settings.dropout), load_pretrained_text=True)
    module.audio_encoder.base.load_state_dict(tower_state, strict=True)
    module.audio_encoder.projection.load_state_dict(heads.audio_projection.state_dict(), strict=True)
    module.caption_encoder.projection.load_state_dict(heads.text_projection.state_dict(), strict=True)
    with torch.no_grad():
        module.logit_scale.copy_(heads.logit_scale)
    return module.eval()


def export(tower_state: dict, heads: Heads, settings, out: Path) -> Path:
    return save_dir(assemble(tower_state, heads, settings), out, include_text_weights=False)


def heads_from_exported(path: Path, settings) -> Heads:
    """The trained heads read back from an exported directory (to re-run validation on it)."""
    from safetensors.torch import load_file

    state = load_file(str(Path(path) / "model.safetensors"))
    heads = untrained_heads(settings)
    mapping = {"audio_encoder.projection.": "audio_projection.", "caption_encoder.projection.": "text_projection."}
    own = {"logit_scale": state["logit_scale"]}
    for name, tensor in state.items():
        for theirs, ours in mapping.items():
            if name.startswith(theirs):
                own[ours + name[len(theirs):]] = tensor
    heads.load_state_dict(own, strict=True)
    return heads.eval()
