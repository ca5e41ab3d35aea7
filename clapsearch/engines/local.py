"""The single-machine engine: decoding threads beside the model, in this process."""

from __future__ import annotations


class LocalEngine:
    name = "local"

    def embed_files(self, model, paths, *, hop_seconds=None, batch_size=32, workers=None, progress=None):
        from ..audio.pipeline import embed_files

        return embed_files(model, paths, hop_seconds=hop_seconds, batch_size=batch_size, workers=workers or 2,
                           progress=progress)
