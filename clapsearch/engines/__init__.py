"""Where the embedding work of `index` runs: threads on this machine, or a Ray cluster.

An engine has one method, `embed_files(model, paths, hop_seconds, batch_size, workers, progress)`,
with the contract of clapsearch.audio.pipeline.embed_files: one FileEmbedding or FileFailure per
path, in completion order. The caller (api._embed_planned) stays the single writer either way.
"""

from __future__ import annotations

ENGINES = ("local", "ray")


def make_engine(name: str = "local", address: str | None = None, model_source=None):
    """The engine called `name`; `address` and `model_source` apply to Ray only."""
    if name == "local":
        from .local import LocalEngine

        return LocalEngine()
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(address=address, model_source=model_source)
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {name!r}")
