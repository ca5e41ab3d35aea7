"""Audio search: nearest windows from the store -> length-fair, non-overlapping passages per file."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from . import ranking
from .results import Result

NULL_SAMPLE = 4096  # windows used to estimate one query's null distribution
MIN_FETCH = 2000  # candidate windows asked of the store, at least


def fetch_size(allowed: int, k: int, per_file: int) -> int:
    """How many nearest windows to ask for: every window when all passages are wanted."""
    if per_file == 0:
        return allowed
    return min(allowed, max(MIN_FETCH, 20 * k * per_file))


def pick_passages(windows: list, per_file: int) -> list:
    """A file's windows, best first, keeping only ones that overlap no better one (per_file 0: all)."""
    ordered = sorted(windows, key=lambda w: (-w.score, w.start))
    if per_file == 0:
        return ordered
    kept = []
    for window in ordered:
        if all(window.end <= other.start or window.start >= other.end for other in kept):
            kept.append(window)
            if len(kept) == per_file:
                break
    return kept


def audio_passages(store, vector: np.ndarray, k: int, per_file: int = 1, filters=None,
                   method: str | None = None, penalty=None) -> list[Result]:
    """The k best passages for a query vector, ranked length-fairly (see ranking.py).

    penalty: optional function (hits) -> per-window amounts to subtract from the calibrated score
    (used by --not)."""
    allowed = store.allowed_count(filters)
    if allowed == 0 or k <= 0:
        return []
    method = method or ranking.DEFAULT_METHOD
    vector = np.asarray(vector, np.float32)
    windows = store.search(vector, fetch_size(allowed, k, per_file), filters, dedupe=False)
    stats = ranking.null_stats(store.sample_segment_vectors(NULL_SAMPLE) @ vector)
    files = {w.file_id for w in windows}
    counts = _independent_windows(store, store.segment_counts(files))
    file_z = _file_z(store, vector, files) if method == "blend" else {}
    cuts = penalty(windows) if penalty is not None else np.zeros(len(windows))
    by_file = defaultdict(list)
    for window, cut in zip(windows, cuts):
        by_file[window.file_id].append((window, float(cut)))
    results = []
    for file_id, items in by_file.items():
        cut_of = {w.segment_id: c for w, c in items}
        for window in pick_passages([w for w, _ in items], per_file):
            score = (ranking.file_score(window.score, counts.get(file_id, 1), stats, method, file_z.get(file_id))
                     - cut_of[window.segment_id])
            results.append(Result(window.path, score, float(window.score), window.start, window.end,
                                  window.duration, file_id, window.segment_id))
    results.sort(key=lambda r: (-r.score, -r.similarity, r.path, r.start))
    return results[:k] if per_file != 0 or k < len(results) else results


def _independent_windows(store, counts: dict[int, int]) -> dict[int, int]:
    """Windows that overlap are not independent chances: count whole windows (ranking.effective_windows)."""
    meta = store.model_meta() or {}
    window, hop = float(meta.get("window_seconds") or 0.0), float(meta.get("hop_seconds") or 0.0)
    return {file_id: ranking.effective_windows(n, window, hop) for file_id, n in counts.items()}


def _file_z(store, vector: np.ndarray, files) -> dict[int, float]:
    """Each file's pooled-vector score as a z against a sample of the index's pooled vectors."""
    pooled = store.pooled_vectors(files)
    if not pooled:
        return {}
    mean, deviation = ranking.null_stats(store.sample_pooled_vectors(NULL_SAMPLE) @ vector)
    scores = (np.stack(list(pooled.values())) @ vector - mean) / deviation  # one product, not one per file
    return dict(zip(pooled, scores.tolist()))
