"""Which engine runs a model's audio tower: torch (the reference), onnx (fp32), onnx-int8 or torch-bf16.

The bundled default model has torch, onnx and onnx-int8; hf: (LAION-CLAP) models have torch, onnx
(their audio path exported on first use, runtime/laion_onnx.py) and torch-bf16 (torch with the
audio tower's Linear layers in bf16 and leaner window blocks, on CPUs with bf16 instructions); every
other model runs in torch only. Each runtime a model has holds the cosine bar against its torch fp32
(see MODEL_CARD.md and benchmarks/laion_runtime.py), so they share the model fingerprint: an index
keeps working when the runtime changes, and records which runtimes wrote its vectors.
"""

from __future__ import annotations

import os

from ...errors import RuntimeChoiceError

RUNTIMES = ("torch", "onnx", "onnx-int8", "torch-bf16")
DEFAULT_MODEL_RUNTIMES = ("torch", "onnx", "onnx-int8")
# The default model's fastest runtime that holds the whole bar (MODEL_CARD.md, Audio runtimes): the
# int8 tower with its first block in float moves no validation figure by more than 0.5 points and
# runs about 1.9x fp32 ONNX. (Quantising the first block too ran 1.6x faster again but moved pool
# R@10 by -0.7.)
DEFAULT_RUNTIME = "onnx-int8"
ENV = "CLAPSEARCH_RUNTIME"
# hf: models (benchmarks/laion_runtime.py, full-size random-weight HTSAT, one window per call on one
# thread): fp32 ONNX matches torch (cosine 1.000000) and ran 1.1-1.5x faster. torch-bf16 (Linear
# layers in bf16, runtime/bf16_linear.py; window blocks of runtime/window_blocks.py) holds median
# cosine 0.999994 on 282 held-out real clips (0.99955 with their mean removed; plain bf16 autocast
# gave 0.99867, under the bar), and indexed 1.44x faster than ONNX end to end. Trained LAION
# weights cannot be fetched here; the same rounding on the trained text tower of the default model
# moved no validation figure by more than 0.24 points (benchmarks/bf16_trained_tower.py). So on a
# CPU with bf16 instructions torch-bf16 is their default, elsewhere onnx (laion.default_runtime);
# --runtime onnx gives vectors equal to torch float32's. There is no int8 graph for them.
HF_RUNTIMES = ("torch", "onnx", "torch-bf16")
WHO_HAS = {"onnx": "only the default model and hf: models have one", "onnx-int8": "only the default model has one",
           "torch-bf16": "only hf: models have one"}


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
        choices = " or ".join([", ".join(has[:-1]), has[-1]] if len(has) > 1 else has)
        raise RuntimeChoiceError(f"Model {model_name} has no {runtime} audio tower ({who}); "
                                 f"use --runtime {choices} or unset {ENV}.")
