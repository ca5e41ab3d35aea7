"""The one interface every model backend implements (see docs/architecture.md).

The search tool only ever talks to an `AudioTextModel`: it hands over fixed-length mono
windows at the model's own sample rate and gets back L2-normalised vectors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # torch is imported lazily so `clapsearch --help` stays instant
    import torch


@runtime_checkable
class AudioTextModel(Protocol):
    name: str  # the name it was loaded by, e.g. "default" or "hf:laion/clap-htsat-unfused"
    dim: int  # size of the joint embedding space
    sample_rate: int  # rate embed_audio expects, in Hz
    window_seconds: float  # length of one window embed_audio expects
    fingerprint: str  # identity of weights + front end + pooling; stored in an index
    logit_scale: float  # multiplies cosine similarity before softmax / sigmoid

    def embed_audio(self, waves: "torch.Tensor") -> "torch.Tensor":
        """(B, T) float32 mono windows, T = round(window_seconds * sample_rate) -> (B, dim), L2-normalised."""
        ...

    def embed_text(self, texts: list[str]) -> "torch.Tensor":
        """B strings -> (B, dim), L2-normalised: a CPU tensor or a numpy array (callers use np.asarray)."""
        ...


def window_samples(model: AudioTextModel) -> int:
    """Number of samples in one window of `model`."""
    return int(round(model.window_seconds * model.sample_rate))
