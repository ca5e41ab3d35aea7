"""Clip embeddings for the benchmarks, cached on disk per (model fingerprint, file).

One vector per clip: clapsearch.audio.pipeline.embed_files' `pooled` vector (the mean of the
clip's deterministic windows, re-normalised), so the benchmarks see exactly what the search tool
indexes. The probes and cross-validation folds re-use the cache instead of re-embedding.

A cache entry is keyed by the model fingerprint, the window hop and the file's absolute path, size
and modification time: an edited file or another model never reads a stale vector.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence

import numpy as np


def default_cache_dir() -> Path:
    import platformdirs

    return Path(os.environ.get("CLAPSEARCH_EMBED_CACHE") or Path(platformdirs.user_cache_dir("clapsearch")) / "embeddings")


def _entry_name(path: str, hop_seconds: float | None) -> str:
    stat = os.stat(path)
    key = f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}|{hop_seconds}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + ".npy"


def _save(path: Path, vector: np.ndarray) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, vector.astype(np.float32))
    tmp.replace(path)


class EmbeddingResult:
    """Vectors for the files that embedded, and the one-line reason for each that did not."""

    def __init__(self, vectors: dict[str, np.ndarray], failures: dict[str, str]):
        self.vectors = vectors
        self.failures = failures

    def matrix(self, paths: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[p] for p in paths]) if paths else np.zeros((0, 0), np.float32)


def embed_clips(model, paths: Sequence[str], cache_dir: str | Path | None = None, *, hop_seconds: float | None = None,
                batch_size: int = 32, workers: int = 2, progress=None, cache: bool = True) -> EmbeddingResult:
    """Pooled, L2-normalised vectors for `paths`, embedding only those not yet in the cache.

    `cache=False` neither reads nor writes the cache (for a model that exists only in memory,
    such as a fine-tuned encoder).
    """
    from clapsearch.audio.pipeline import FileEmbedding, embed_files

    folder = Path(cache_dir or default_cache_dir()) / model.fingerprint
    if cache:
        folder.mkdir(parents=True, exist_ok=True)
    vectors, failures, todo = {}, {}, {}
    for path in dict.fromkeys(paths):  # unique, in order
        try:
            entry = folder / _entry_name(path, hop_seconds) if cache else None
        except OSError as exc:
            failures[path] = f"cannot read the file ({exc.strerror or exc})"
            continue
        if entry is not None and entry.is_file():
            vectors[path] = np.load(entry)
        else:
            todo[path] = entry
    if todo:
        for result in embed_files(model, list(todo), hop_seconds=hop_seconds, batch_size=batch_size,
                                  workers=workers, progress=progress):
            if isinstance(result, FileEmbedding):
                vectors[result.path] = np.asarray(result.pooled, dtype=np.float32)
                if todo[result.path] is not None:
                    _save(todo[result.path], vectors[result.path])
            else:
                failures[result.path] = result.error
    return EmbeddingResult(vectors, failures)


def embed_texts(model, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """(len(texts), dim) float32, L2-normalised, in order."""
    rows = [np.asarray(model.embed_text(list(texts[i : i + batch_size]))) for i in range(0, len(texts), batch_size)]
    return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, model.dim), np.float32)
