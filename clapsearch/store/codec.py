"""Conversions between Python values and what SQLite stores.

Paths are stored as TEXT holding the file system's raw bytes, so names that are not valid
UTF-8 survive a round trip: they are written as bytes cast to TEXT and read back with
surrogateescape (the same convention `os.fsdecode` uses on POSIX).
"""

import numpy as np


def path_to_sql(path: str) -> bytes:
    """Bytes for a `CAST(? AS TEXT)` parameter; lone surrogates become the original bytes."""
    return str(path).encode("utf-8", "surrogateescape")


def text_from_sql(raw: bytes) -> str:
    """The connection's text_factory: tolerate non-UTF-8 bytes in stored paths."""
    return raw.decode("utf-8", "surrogateescape")


def unit_rows(vectors, dim: int) -> np.ndarray:
    """(n, dim) float32 rows scaled to unit length, so inner product is cosine similarity."""
    array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if not np.all(np.isfinite(array)):
        raise ValueError("vectors contain NaN or infinite values")
    # A zero vector stays zero instead of turning into NaN.
    return np.ascontiguousarray(array / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def vector_to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def blobs_to_matrix(blobs, dim: int) -> np.ndarray:
    """Stack float32 blobs into one (n, dim) array with a single copy."""
    joined = b"".join(blobs)
    return np.frombuffer(joined, dtype="<f4").reshape(-1, dim).astype(np.float32, copy=True)
