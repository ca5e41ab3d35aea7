"""An hf: (LAION-CLAP) model's audio path in ONNX Runtime: HTSAT + audio projection + L2 norm, fp32.

The log-mel input stays in torch (laion_features.py: `torch.stft` does not export to ONNX, and the
front end is a few percent of the work); the graph takes its (B, C, 1001, 64) features (C = 1, or 4
for fusion models) and returns the L2-normalised joint embedding. `is_longer` is always False in
clapsearch (laion.py), so the graph has no fusion branch: a fused model's extra channels are
computed by the front end and ignored, exactly as transformers ignores them for short clips.

Exported once from the torch model into the user cache, named by the model fingerprint (runtimes
that hold the quality bar share it), with an atomic write so two processes never see half a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio_export import INPUT, OUTPUT, export_features_graph
from .cache import cache_dir
from .session import open_session
from .side_by_side import SideBySide, unit_rows



def onnx_path(fingerprint: str) -> Path:
    return cache_dir() / "onnx" / f"laion-audio-{fingerprint}.onnx"


def _audio_graph(model):
    """The torch module exported: ClapModel.get_audio_features with is_longer all False."""
    import torch
    from torch.nn import functional as F

    class _Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.audio, self.projection = model.audio_model, model.audio_projection
            self.fusion = bool(model.config.audio_config.enable_fusion)

        def forward(self, features):
            # The tracer records the (always empty) is_longer selection as a constant: no fusion branch.
            is_longer = torch.zeros(features.shape[0], 1, dtype=torch.bool) if self.fusion else None
            pooled = self.audio(input_features=features, is_longer=is_longer).pooler_output
            return F.normalize(self.projection(pooled), dim=-1)

    return _Graph().eval()


def export_audio(model, example_features, path: Path) -> Path:
    """Write a ClapModel's audio path as ONNX (dynamic batch), atomically.

    `example_features` fixes every axis but the batch; two rows or more, so that no size traced
    from the batch can be mistaken for the constant 1.
    """
    import torch

    graph = _audio_graph(model)
    example = torch.as_tensor(example_features, dtype=torch.float32)  # on the model's device
    return export_features_graph(graph, example, path)


class LaionOnnxAudio:
    """(B, C, frames, mels) float32 features -> (B, dim) float32 L2-normalised embeddings in ORT.

    One row per session.run, on a one-thread session: measured on the full-size HTSAT (2-core EPYC,
    load 6-7), 1-row runs gave 4.6-6.2 windows/s on one thread against 4.4-5.6 for 4-row runs, and
    a row's vector then never depends on the batch it came in. The pipeline (call_rows = 1) runs
    such calls side by side on the free cores; a direct call of many rows spreads them over
    `threads` threads itself (a session may run from several threads at once).
    """

    def __init__(self, model_path: Path, threads: int | None = None):
        from .session import threads_from_env

        self.session = open_session(model_path, threads=1)
        self._runs = SideBySide(threads_from_env() if threads is None else threads)

    def _run(self, row: np.ndarray) -> np.ndarray:
        return self.session.run([OUTPUT], {INPUT: row[None]})[0]

    def embed_features(self, features) -> np.ndarray:
        rows = list(np.ascontiguousarray(features, dtype=np.float32))
        return unit_rows(self._runs.map(self._run, rows), self.session.get_outputs()[0].shape[1])


def load_audio(model, fingerprint: str, example_features, threads: int | None = None) -> LaionOnnxAudio:
    """The cached export for `fingerprint`, written first if missing (elsewhere if the cache is read-only)."""
    from .cache import export_somewhere

    path = onnx_path(fingerprint)
    if not path.is_file():
        path = export_somewhere(model, path, lambda m, p: export_audio(m, example_features, p))
    return LaionOnnxAudio(path, threads)
