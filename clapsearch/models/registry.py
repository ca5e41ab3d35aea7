"""Model names -> loaders, keyed by prefix.

    default               the bundled model (clapsearch/assets), offline
    msclap-2022:PATH      Microsoft's CLAP 2022 checkpoint file (CNN14 + BERT)
    msclap-2023:PATH      Microsoft's CLAP 2023 checkpoint file (HTSAT + GPT-2)
    hf:ORG/NAME | hf:DIR  LAION-CLAP through transformers' ClapModel
    PATH                  a directory exported by training/ (config.json + model.safetensors)

Built-in backends register exactly the way an outside one would (`register`). Loaders are
given as "module:function" strings and imported only when used, so importing the registry
costs nothing.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Callable

from ..errors import UnknownModelError
from .base import AudioTextModel


@dataclass(frozen=True)
class Backend:
    prefix: str  # "" for the bare-name / PATH form
    loader: str | Callable[..., AudioTextModel]  # "module:function" or a callable(arg, device=...)
    description: str
    example: str
    hidden: bool = False  # test-only backends are never listed to users


_BACKENDS: dict[str, Backend] = {}


def register(prefix: str, loader, description: str, example: str = "", hidden: bool = False) -> None:
    """Register a loader for names of the form `prefix:ARG` (or the bare name `prefix`)."""
    _BACKENDS[prefix] = Backend(prefix, loader, description, example or prefix, hidden)


def unregister(prefix: str) -> None:
    _BACKENDS.pop(prefix, None)


def backends(include_hidden: bool = False) -> list[Backend]:
    return [b for b in _BACKENDS.values() if include_hidden or not b.hidden]


def parse_model_name(name: str) -> tuple[str, str]:
    """Split a model name into (prefix, argument).

    "default" -> ("default", ""); "hf:laion/x" -> ("hf", "laion/x"); "/a/b" -> ("path", "/a/b").
    A Windows drive letter ("C:\\...") is a path, not a prefix.
    """
    if name in _BACKENDS:
        return name, ""
    prefix, sep, arg = name.partition(":")
    if sep and prefix in _BACKENDS and len(prefix) > 1:
        return prefix, arg
    return "path", name


def known_names_sentence() -> str:
    examples = ", ".join(b.example for b in backends())
    return f"Known model names: {examples}."


def load_model(name: str | None = None, device: str | None = None) -> AudioTextModel:
    """Load a model by name ("default" when None) on `device` ("cpu", "cuda", or None = best)."""
    name = name or os.environ.get("CLAPSEARCH_MODEL") or "default"
    prefix, arg = parse_model_name(name)
    if prefix == "path" and not os.path.exists(arg):
        raise UnknownModelError(
            f"Unknown model {name!r}: it is neither a known prefix nor an existing path. "
            + known_names_sentence()
        )
    backend = _BACKENDS[prefix]
    loader = backend.loader
    if isinstance(loader, str):
        module_name, _, func_name = loader.partition(":")
        loader = getattr(importlib.import_module(module_name), func_name)
    model = loader(arg, name=name, device=device)
    return model


def _register_builtins() -> None:
    register("default", "clapsearch.models.default:load", "the bundled model, offline", "default")
    register("msclap-2022", "clapsearch.models.msclap:load_2022",
             "Microsoft CLAP 2022 checkpoint (CNN14 + BERT)", "msclap-2022:PATH")
    register("msclap-2023", "clapsearch.models.msclap:load_2023",
             "Microsoft CLAP 2023 checkpoint (HTSAT + GPT-2)", "msclap-2023:PATH")
    register("hf", "clapsearch.models.laion:load",
             "LAION-CLAP through transformers (hub id or local directory)", "hf:laion/clap-htsat-unfused")
    register("path", "clapsearch.models.exported:load",
             "a model directory exported by training/ (config.json + model.safetensors)", "PATH")


_register_builtins()
