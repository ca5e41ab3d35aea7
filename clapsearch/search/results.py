"""The result record the search package hands to the API, the CLI and the web app."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One passage of one file. `score` sorts the results (higher is better); `similarity` is the raw
    cosine of the passage with the query (None for a file found by its words alone)."""

    path: str
    score: float
    similarity: float | None
    start: float
    end: float
    duration: float | None
    file_id: int
    segment_id: int | None
    audio_rank: int | None = None  # the file's rank in the audio ranking (1 = best), None if absent
    text_rank: int | None = None  # ... in the word ranking
    words: tuple[str, ...] = ()  # the file's words that matched the query
