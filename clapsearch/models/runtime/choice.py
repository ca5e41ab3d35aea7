"""Which engine runs a model's audio tower: torch (the reference), onnx (fp32) or onnx-int8.

Only the bundled default model has ONNX audio towers; every other model runs in torch. All three
hold the quality bar against torch fp32 (see MODEL_CARD.md), so they share the model fingerprint:
an index keeps working when the runtime changes, and records which runtimes wrote its vectors.
"""

from __future__ import annotations

import os

from ...errors import RuntimeChoiceError

RUNTIMES = ("torch", "onnx", "onnx-int8")
# The fastest runtime that holds the whole bar (MODEL_CARD.md, Audio runtimes): the int8 tower with
# its first block in float moves no validation figure by more than 0.5 points and runs about 1.9x
# fp32 ONNX. (Quantising the first block too ran 1.6x faster again but moved pool R@10 by -0.7.)
DEFAULT_RUNTIME = "onnx-int8"
ENV = "CLAPSEARCH_RUNTIME"


def check_runtime(value: str) -> str:
    if value not in RUNTIMES:
        raise RuntimeChoiceError(f"Unknown runtime {value!r}; choose one of {', '.join(RUNTIMES)} "
                                 f"(--runtime or {ENV}).")
    return value


def asked_runtime(runtime: str | None) -> str | None:
    """The runtime given, else CLAPSEARCH_RUNTIME, else None (the model's own default); checked."""
    value = runtime or os.environ.get(ENV) or None
    return check_runtime(value) if value else None


def refuse_onnx(runtime: str | None, model_name: str) -> None:
    """Models without ONNX towers run in torch; asking for ONNX there is an error, not a silent fallback."""
    if runtime not in (None, "torch"):
        raise RuntimeChoiceError(f"Model {model_name} has no {runtime} audio tower (only the default model "
                                 f"has); use --runtime torch or unset {ENV}.")
