"""Model names -> loaders, keyed by prefix.

    default               the bundled model (clapsearch/assets), offline
    laion-general, ...    named presets of public checkpoints (clapsearch/hub.py), once pulled
    msclap-2022:PATH      Microsoft's CLAP 2022 checkpoint file (CNN14 + BERT)
    msclap-2023:PATH      Microsoft's CLAP 2023 checkpoint file (HTSAT + GPT-2)
    hf:ORG/NAME | hf:DIR  LAION-CLAP through transformers' ClapModel
    PATH                  a directory exported by training/ (config.json + model.safetensors)

A preset resolves to one of the forms below pointing into the hub cache, and a hub id
(`hf:ORG/NAME`) to its cached snapshot; neither ever downloads (`clapsearch models pull` does).
Built-in backends register exactly the way an outside one would (`register`). Loaders are
given as "module:function" strings and imported only when used, so importing the registry
costs nothing.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from dataclasses import dataclass
from typing import Callable

from ..errors import CheckpointError, UnknownModelError
from .base import AudioTextModel


@dataclass(frozen=True)
class Backend:
    prefix: str  # "" for the bare-name / PATH form
    loader: str | Callable[..., AudioTextModel]  # "module:function" or a callable(arg, device=...)
    description: str
    example: str
    hidden: bool = False  # test-only backends are never listed to users
    runtimes: tuple[str, ...] = ("torch",)  # audio runtimes it has; with more than torch, its loader takes runtime=


_BACKENDS: dict[str, Backend] = {}


def register(prefix: str, loader, description: str, example: str = "", hidden: bool = False,
             runtimes: tuple[str, ...] = ("torch",)) -> None:
    """Register a loader for names of the form `prefix:ARG` (or the bare name `prefix`)."""
    _BACKENDS[prefix] = Backend(prefix, loader, description, example or prefix, hidden, tuple(runtimes))


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


HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")  # ORG/NAME or a legacy NAME


def _preset_names() -> list[str]:
    from ..hub import PRESETS

    return list(PRESETS)


def known_names_sentence() -> str:
    forms = ", ".join(b.example for b in backends() if b.example != b.prefix)
    return f"Names: {', '.join(_preset_names())} (`clapsearch models` lists them); forms: {forms}."


def unknown_name_error(name: str) -> UnknownModelError:
    """One sentence with the closest real name ("did you mean") when there is one."""
    candidates = _preset_names() + [b.prefix for b in backends() if b.prefix != "path"]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {close[0]}? "
    elif HUB_ID.match(name) and "/" in name:
        hint = f"did you mean hf:{name}? "
    else:
        hint = ""
    return UnknownModelError(f"Unknown model {name!r}: not a model name nor an existing path; {hint}"
                             + known_names_sentence())


def resolve(name: str) -> tuple[str, str]:
    """A model name -> (prefix, argument) of the loader to call; presets and hub ids become local paths."""
    from .. import hub

    if name in hub.PRESETS:
        return parse_model_name(hub.local_model_name(name))
    prefix, arg = parse_model_name(name)
    if prefix == "hf" and arg and not os.path.exists(arg):
        if not HUB_ID.match(arg):
            raise CheckpointError(f"hf:{arg} is neither a directory nor a hub id (hf:ORG/NAME); check the path.")
        return prefix, hub.local_hf_dir(arg)
    if prefix == "path" and not os.path.exists(arg):
        raise unknown_name_error(name)
    return prefix, arg


def load_model(name: str | None = None, device: str | None = None, runtime: str | None = None) -> AudioTextModel:
    """Load a model by name ("default" when None) on `device` ("cpu", "cuda", or None = best).

    runtime: "torch", "onnx", "onnx-int8" or "torch-bf16" for the audio tower (else CLAPSEARCH_RUNTIME, else the
    model's default); a model refuses the runtimes its backend lacks (the default model has all but
    torch-bf16, hf: models all but onnx-int8, the others torch only).
    """
    from .runtime.choice import asked_runtime, refuse_onnx

    name = name or os.environ.get("CLAPSEARCH_MODEL") or "default"
    runtime = asked_runtime(runtime)
    prefix, arg = resolve(name)
    backend = _BACKENDS[prefix]
    loader = backend.loader
    if isinstance(loader, str):
        module_name, _, func_name = loader.partition(":")
        loader = getattr(importlib.import_module(module_name), func_name)
    refuse_onnx(runtime, name, has=backend.runtimes)
    if backend.runtimes != ("torch",):
        return loader(arg, name=name, device=device, runtime=runtime)
    return loader(arg, name=name, device=device)


def _register_builtins() -> None:
    from .runtime.choice import DEFAULT_MODEL_RUNTIMES, HF_RUNTIMES

    register("default", "clapsearch.models.default:load", "the bundled model, offline", "default",
             runtimes=DEFAULT_MODEL_RUNTIMES)
    register("msclap-2022", "clapsearch.models.msclap:load_2022",
             "Microsoft CLAP 2022 checkpoint (CNN14 + BERT)", "msclap-2022:PATH")
    register("msclap-2023", "clapsearch.models.msclap:load_2023",
             "Microsoft CLAP 2023 checkpoint (HTSAT + GPT-2)", "msclap-2023:PATH")
    register("hf", "clapsearch.models.laion:load",
             "LAION-CLAP through transformers: a hub id once pulled (hf:laion/clap-htsat-unfused) or a saved directory",
             "hf:ID_OR_DIR", runtimes=HF_RUNTIMES)
    register("path", "clapsearch.models.exported:load",
             "a model directory exported by training/ (config.json + model.safetensors)", "DIR")


_register_builtins()
