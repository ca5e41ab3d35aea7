"""Ranking, lexical words, fusion and query parsing: what turns "nearest vectors" and "matching
words" from the store into results a user can trust. The API calls `search`.

    ranking.py   length-fair file scores (calibrated against the index, corrected for length)
    passages.py  nearest windows -> non-overlapping passages per file
    words.py     the words that come with a file (names split, embedded tags)
    query.py     "dog -puppy" -> text to embed and words to exclude
    fusion.py    reciprocal-rank fusion of the audio and word rankings
    prompts.py   prompt ensembles for text queries
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .fusion import rrf
from .passages import audio_passages
from .prompts import ensemble_texts, mean_unit
from .query import Query, parse_query
from .results import Result

__all__ = ["search", "parse_query", "Query", "Result", "ensemble_texts", "mean_unit", "combine", "fts_query",
           "MODES"]

MODES = ("hybrid", "audio", "text")
WORD_LIMIT = 1000
FUSION_DEPTH = 500
TEXT_WEIGHT = 4.0  # weight of the word ranking in the fusion: measured best of 1, 2, 4 (docs/ranking.md)
NOT_WEIGHT = 1.0  # calibrated units (deviations) a passage loses per deviation of closeness to a --not text


def combine(text_vectors: list, example_vectors: list) -> np.ndarray | None:
    """One query vector from a description and example sounds: the mean of their unit vectors."""
    vectors = [np.asarray(v, np.float32) for v in list(text_vectors) + list(example_vectors)]
    return mean_unit(np.stack(vectors)) if vectors else None


def fts_query(words) -> str:
    """An FTS5 query matching any of the words (or words they start), each quoted so no word is syntax."""
    return " OR ".join(f'"{w}"*' for w in dict.fromkeys(words) if w)


def search(store, vector, query: Query, *, k: int = 10, per_file: int = 1, filters=None, mode: str = "hybrid",
           negatives=()) -> list[Result]:
    """The k best passages: audio (length-fair), words (bm25), or both fused by reciprocal rank."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    excluded = _excluded_files(store, query, filters)
    if vector is None:
        mode = "text"  # nothing to embed: only words can answer
    # Fusion needs the audio ranking well past k: a file 300th by sound may be 1st by name.
    wanted = _widen(k, per_file, excluded) if mode == "audio" else max(_widen(k, per_file, excluded), FUSION_DEPTH)
    audio = [] if mode == "text" else audio_passages(
        store, vector, wanted, per_file, filters, penalty=_penalty(store, negatives))
    audio = [r for r in audio if r.file_id not in excluded]
    if mode == "audio":
        return _with_ranks(audio, _file_order(audio), {}, {})[:k]
    words = [m for m in store.match_words(fts_query(query.words), filters, WORD_LIMIT) if m[0] not in excluded]
    if mode == "text":
        return _word_results(words, audio, per_file, k)
    return _fused(audio, words, per_file, k)


def _widen(k, per_file, excluded) -> int:
    return k + len(excluded) * max(per_file, 1) if excluded else k


def _excluded_files(store, query: Query, filters) -> set:
    if not query.excluded:
        return set()
    return {m[0] for m in store.match_words(fts_query(query.excluded), filters, 10**9)}


def _penalty(store, negatives):
    """--not: push down windows close to a negative description (calibrated like the query)."""
    if not negatives:
        return None
    from .ranking import null_stats

    sample = store.sample_segment_vectors()

    def cut(windows):
        if not windows:
            return np.zeros(0)
        vectors = store.segment_vectors([w.segment_id for w in windows])
        total = np.zeros(len(windows))
        for negative in negatives:
            mean, deviation = null_stats(sample @ negative)
            total += NOT_WEIGHT * np.maximum(0.0, (vectors @ negative - mean) / deviation)
        return total

    return cut


def _file_order(results: list[Result]) -> list[int]:
    return list(dict.fromkeys(r.file_id for r in results))


def _with_ranks(results, audio_order, text_ranks, matched) -> list[Result]:
    audio_ranks = {file_id: rank for rank, file_id in enumerate(audio_order, 1)}
    return [dataclasses.replace(r, audio_rank=audio_ranks.get(r.file_id), text_rank=text_ranks.get(r.file_id),
                                words=matched.get(r.file_id, ())) for r in results]


def _whole_file(match) -> Result:
    file_id, path, duration, _, words = match
    return Result(path, 0.0, None, 0.0, float(duration or 0.0), duration, file_id, None, words=words)


def _word_results(words, audio, per_file, k) -> list[Result]:
    """mode text: files in bm25 order; each shows its best audio passages when there are any."""
    by_file = {}
    for r in audio:
        by_file.setdefault(r.file_id, []).append(r)
    text_ranks = {m[0]: rank for rank, m in enumerate(words, 1)}
    matched = {m[0]: m[4] for m in words}
    results = []
    for match in words:
        score = -float(match[3])  # bm25: lower is better
        for passage in by_file.get(match[0]) or [_whole_file(match)]:
            results.append(dataclasses.replace(passage, score=score))
    return _with_ranks(results, _file_order(audio), text_ranks, matched)[:k]


def _fused(audio, words, per_file, k) -> list[Result]:
    """mode hybrid: each file's fused RRF score; its passages keep their audio order within it."""
    audio_order = _file_order(audio)
    word_order = [m[0] for m in words]
    fused = rrf([audio_order, word_order], [1.0, TEXT_WEIGHT])
    text_ranks = {file_id: rank for rank, file_id in enumerate(word_order, 1)}
    matched = {m[0]: m[4] for m in words}
    passages = {}
    for r in audio:
        passages.setdefault(r.file_id, []).append(r)
    for match in words:
        passages.setdefault(match[0], [_whole_file(match)])
    results = []
    for file_id in sorted(fused, key=lambda f: (-fused[f], f)):
        for index, passage in enumerate(passages[file_id]):
            # Later passages of a file rank just below its first, in audio order, never above another file's.
            results.append(dataclasses.replace(passage, score=fused[file_id] - 1e-9 * index))
    results.sort(key=lambda r: -r.score)
    return _with_ranks(results, audio_order, text_ranks, matched)[:k]
