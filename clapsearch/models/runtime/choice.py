"""Which engine runs a model's audio tower: torch (the reference), onnx (fp32) or onnx-int8.

The bundled default model has all three; hf: (LAION-CLAP) models have torch and onnx (their audio
path exported on first use, runtime/laion_onnx.py); every other model runs in torch only. Each
runtime a model has holds the quality bar against its torch fp32 (see MODEL_CARD.md), so they share
the model fingerprint: an index keeps working when the runtime changes, and records which runtimes
wrote its vectors.
"""

from __future__ import annotations

import os

from ...errors import RuntimeChoiceError

RUNTIMES = ("torch", "onnx", "onnx-int8")
# The fastest runtime that holds the whole bar: int8 holds the cosine bar but moves pool R@10 by
# -0.7 points (bar: 0.5; MODEL_CARD.md, Audio runtimes), so it is opt-in; fp32 ONNX matches torch.
DEFAULT_RUNTIME = "onnx"
ENV = "CLAPSEARCH_RUNTIME"
# hf: models: fp32 ONNX matches torch (cosine 1.000000) and ran the full-size HTSAT 1.1-1.5x faster
# one window per call on one thread (benchmarks/laion_runtime.py); there is no int8 graph for them.
HF_RUNTIMES = ("torch", "onnx")
WHO_HAS = {"onnx": "only the default model and hf: models have one", "onnx-int8": "only the default model has one"}


def check_runtime(value: str) -> str:
    if value not in RUNTIMES:
        raise RuntimeChoiceError(f"Unknown runtime {value!r}; choose one of {', '.join(RUNTIMES)} "
                                 f"(--runtime or {ENV}).")
    return value


def asked_runtime(runtime: str | None) -> str | None:
    """The runtime given, else CLAPSEARCH_RUNTIME, else None (the model's own default); checked."""
    value = runtime or os.environ.get(ENV) or None
    return check_runtime(value) if value else None


def refuse_onnx(runtime: str | None, model_name: str, has: tuple[str, ...] = ("torch",)) -> None:
    """A runtime the model lacks is an error, not a silent fallback; `has` lists the ones it runs."""
    if runtime not in (None, *has):
        who = WHO_HAS.get(runtime, "other models have one")
        raise RuntimeChoiceError(f"Model {model_name} has no {runtime} audio tower ({who}); "
                                 f"use --runtime {' or '.join(has)} or unset {ENV}.")
