"""One way to write an audio graph as ONNX, shared by the default model's tower and hf: models'.

Both take one features tensor and return the L2-normalised joint embedding, with a dynamic batch.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .cache import atomic_write

OPSET = 17
INPUT, OUTPUT = "features", "embedding"


def export_features_graph(graph, example, path: Path) -> Path:
    """torch.onnx.export of `graph` (features -> embedding) traced on `example`, written atomically.

    `example` should have two rows or more, so that no size traced from the batch is taken for 1.
    """
    import torch

    def write(temp):
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on constant shapes; parity tests guard the export
            torch.onnx.export(graph, (example,), temp, input_names=[INPUT], output_names=[OUTPUT],
                              dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}, opset_version=OPSET,
                              dynamo=False)

    return atomic_write(path, write)
