"""Shared helpers for the store tests: random unit vectors and file records."""

import hashlib

import numpy as np

DIM = 16


def unit(rng, n, dim=DIM):
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fake_hash(path):
    return hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()


def record(path, duration=4.0, content_hash=None, size=100, mtime=1.0):
    return {"path": str(path), "size": size, "mtime": mtime, "content_hash": content_hash or fake_hash(path),
            "duration": duration, "sample_rate": 16000, "channels": 1, "format": "WAV"}


def add_file(store, rng, path, segments=4, duration=None, content_hash=None):
    """Index one fake file with `segments` one-second windows; returns (file_id, vectors)."""
    vectors = unit(rng, segments)
    starts = np.arange(segments, dtype=float)
    file_id = store.put_file(record(path, duration or float(segments), content_hash), starts, starts + 1.0,
                             vectors, vectors.mean(axis=0))
    return file_id, vectors


def bind(store, fingerprint="fp-1", dim=DIM):
    store.bind_model("test-model", fingerprint, dim, 16000, 1.0, 1.0)
