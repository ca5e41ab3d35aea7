"""The plain records the store hands out and takes in."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileRow:
    """One row of the `files` table (without its pooled vector)."""

    id: int
    path: str
    size: int | None
    mtime: float | None
    content_hash: str | None
    duration: float | None
    sample_rate: int | None
    channels: int | None
    format: str | None
    status: str
    error: str | None
    indexed_at: str | None
    warnings: tuple[str, ...] = ()  # what was odd about the audio, one line each


@dataclass(frozen=True)
class Hit:
    """One search result: a segment (or, at file level, the whole file: start=0, end=duration)."""

    path: str
    score: float
    start: float
    end: float
    duration: float | None
    file_id: int
    segment_id: int | None


@dataclass(frozen=True)
class Filters:
    """Restrictions on which files a search may return.

    under: an absolute, resolved folder; only files below it match.
    exts: file extensions such as ".wav" (case-insensitive, leading dot optional).
    """

    under: str | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    exts: tuple[str, ...] = field(default_factory=tuple)

    def is_empty(self) -> bool:
        return (self.under is None and self.min_duration is None
                and self.max_duration is None and not self.exts)
