"""Registries of audio and text towers, keyed by the `kind` in a ClapConfig.

An audio tower is an nn.Module with an int attribute `output_dim` whose forward takes
(B, T) float32 mono waves at the config's sample rate and returns (B, output_dim).

A text tower builder returns a `TextTower` (see text.py): the transformers model (kept as the
`base` submodule so checkpoint names stay standard), its tokenizer and the pooling rule.

Entries are "module:function" strings, imported on first use.
"""

from __future__ import annotations

import importlib

AUDIO_TOWERS: dict[str, str] = {
    "cnn14": "clapsearch.models.cnn14:build",
    "htsat": "clapsearch.models.htsat:build",
    "aisfx": "clapsearch.models.aisfx:build",
}

TEXT_TOWERS: dict[str, str] = {
    "hf": "clapsearch.models.text:build_hf_text_tower",
}


def _resolve(table: dict[str, str], kind: str, what: str):
    if kind not in table:
        known = ", ".join(sorted(table))
        raise KeyError(f"Unknown {what} tower {kind!r}; known: {known}.")
    target = table[kind]
    if callable(target):
        return target
    module_name, _, func_name = target.partition(":")
    return getattr(importlib.import_module(module_name), func_name)


def build_audio_tower(kind: str, params: dict):
    return _resolve(AUDIO_TOWERS, kind, "audio")(**params)


def build_text_tower(config, load_pretrained: bool = True):
    return _resolve(TEXT_TOWERS, config.kind, "text")(config, load_pretrained=load_pretrained)
