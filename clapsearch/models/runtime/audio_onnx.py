"""The default model's audio tower (aisfx CNN + projection + L2 norm) in ONNX Runtime, fp32 or int8.

The log-mel front end stays in torch (the reference module itself: `torch.stft` does not export to
ONNX, and the front end is a few percent of the work); the graph takes its (B, 100, 96) features,
one aisfx block per 2.3 s window, and returns the L2-normalised joint embedding.

fp32: exported once from the torch encoder into the user cache, named by the model fingerprint.
int8: the static (QDQ) quantisation of that graph, calibrated on real clips by
`training/recipes/default/quantize.py`, ships as clapsearch/assets/default/audio-int8.onnx with the
fingerprint it was made from (see `int8_path`): users never need calibration data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio_export import INPUT, OUTPUT, export_features_graph
from .cache import cache_dir
from .session import open_session
from .side_by_side import SideBySide, unit_rows



def fp32_path(fingerprint: str) -> Path:
    return cache_dir() / "onnx" / f"audio-{fingerprint}.onnx"


def _feature_graph(encoder):
    """The torch module the graph is exported from: features -> network -> projection -> L2 norm."""
    import torch
    from torch.nn import functional as F

    class _Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.projection = encoder.base.net, encoder.projection

        def forward(self, features):
            return F.normalize(self.projection(self.net(features)), dim=-1)

    return _Graph().eval()


def export_audio_tower(encoder, path: Path) -> Path:
    """Write the torch audio encoder (models.clap.AudioEncoder over an AisfxTower) as ONNX, atomically."""
    import torch

    from ..aisfx import BLOCK_FRAMES, N_MELS

    graph = _feature_graph(encoder)
    example = torch.zeros(2, BLOCK_FRAMES, N_MELS)
    return export_features_graph(graph, example, path)


def front_end_features(frontend, waves) -> np.ndarray:
    """(B, T) waves -> (B, 100, 96) float32 log-mel features through the torch front end."""
    import torch

    from ..aisfx import BLOCK_FRAMES

    with torch.inference_mode():
        features = frontend(torch.as_tensor(waves, dtype=torch.float32))
    if features.shape[1] != BLOCK_FRAMES:
        raise ValueError(f"the ONNX audio tower takes windows of {BLOCK_FRAMES} frames, got {features.shape[1]}")
    return features.numpy()


# Rows per session.run. ONNX Runtime keeps buffers sized for the largest batch it has seen (the
# first convolutions' activations and their im2col workspace: about 12 MB a row), so a batch of 32
# held ~390 MB more than a batch of 4, at no speed gain on CPU (measured: 4 rows ran 44-51
# windows/s against 40-44 for 32, load 4-6). Small runs bound the memory whatever --batch-size is.
ROWS_PER_RUN = 4


class OnnxAudioTower:
    """(B, T) waves -> (B, dim) float32 L2-normalised embeddings: torch front end, ONNX Runtime network.

    Only windows of exactly one aisfx block (the default model's 2.3 s) are accepted: the graph has
    no block cutting and max pooling over blocks.

    The session has one thread, and the runs of a batch go side by side on `threads` threads (a
    session may run from several threads at once). Measured on 2 quiet cores, int8: 112.7 windows/s
    against 101.1 for one 2-thread session; and while a decode thread takes a core for a moment,
    only one run waits instead of both of an operator's threads.
    """

    def __init__(self, model_path: Path, frontend, threads: int | None = None):
        from .session import threads_from_env

        self.frontend = frontend
        self.session = open_session(model_path, threads=1)
        self._runs = SideBySide(threads_from_env() if threads is None else threads, initializer=_one_torch_thread)

    def features(self, waves) -> np.ndarray:
        return front_end_features(self.frontend, waves)

    def embed(self, waves) -> np.ndarray:
        """Front end and network per run of ROWS_PER_RUN windows, the runs side by side: the front
        end's STFT buffers stay a few MB (26 MB for a batch of 32 at once) and run on every core."""
        return self._embed_parts(self._embed_waves, waves)

    def embed_features(self, features: np.ndarray) -> np.ndarray:
        return self._embed_parts(self._run, np.ascontiguousarray(features, dtype=np.float32))

    def _embed_parts(self, embed_part, rows) -> np.ndarray:
        parts = [rows[i : i + ROWS_PER_RUN] for i in range(0, len(rows), ROWS_PER_RUN)]
        return unit_rows(self._runs.map(embed_part, parts), self.session.get_outputs()[0].shape[1])

    def _embed_waves(self, waves) -> np.ndarray:
        return self._run(np.ascontiguousarray(self.features(waves), dtype=np.float32))

    def _run(self, part: np.ndarray) -> np.ndarray:
        return self.session.run([OUTPUT], {INPUT: part})[0]


def _one_torch_thread() -> None:
    """Each side-by-side run computes its own front end on one torch thread (a per-thread setting):
    the runs themselves are the parallelism."""
    import torch

    torch.set_num_threads(1)
