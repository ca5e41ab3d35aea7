"""Incremental sync: bring the index in line with the files on disk, doing model work only where needed.

    scan (what is on disk) + the index (what was seen before) -> a plan:
      unchanged  same path, size and mtime as an indexed file          -> nothing
      touched    same path and content hash, new size or mtime          -> record the new stat
      moved      a new path whose content hash belongs to a vanished file -> re-path, no model work
      copied     a new path whose content hash belongs to an indexed file -> reuse its vectors
      embed      new or changed content, and earlier failures (retried) -> decode + model
      deleted    indexed paths under the scanned roots that are gone      -> remove
Results are written in batches, each batch one SQLite transaction (SQLite holds the vectors and is
the source of truth; the store brings its FAISS cache up to date when the run ends or the index is
next opened), so a run stopped at any point (Ctrl-C, kill -9) leaves every finished file indexed and
nothing half written; the next run finds those files unchanged and resumes with the rest.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .audio.decode import content_hash
from .errors import DecodeError
from .scan import FoundFile, ScanResult

BATCH_FILES = 16  # files per transaction
BATCH_SECONDS = 5.0  # ...or less, so little work is lost to a kill


@dataclass
class IndexSummary:
    indexed: int = 0  # files embedded in this run
    skipped: int = 0  # unchanged files (no work)
    moved: int = 0  # re-pathed by content hash (the old path is gone), without model work
    copied: int = 0  # new paths whose content is already indexed: its vectors are reused
    removed: int = 0  # entries of deleted files
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, one-line reason)
    warned: list[tuple[str, str]] = field(default_factory=list)  # (path, one-line warning): indexed all the same
    audio_seconds: float = 0.0  # audio embedded in this run
    wall_seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"indexed": self.indexed, "skipped": self.skipped, "moved": self.moved, "copied": self.copied,
                "removed": self.removed, "failed": [{"path": p, "error": e} for p, e in self.failed],
                "warnings": [{"path": p, "warning": w} for p, w in self.warned],
                "audio_seconds": round(self.audio_seconds, 3), "wall_seconds": round(self.wall_seconds, 3)}


@dataclass
class Plan:
    unchanged: int = 0
    touched: list[tuple[object, FoundFile]] = field(default_factory=list)  # (record, file)
    moved: list[tuple[object, FoundFile]] = field(default_factory=list)
    copied: list[tuple[object, FoundFile]] = field(default_factory=list)  # (source record, file)
    embed: list[tuple[FoundFile, str | None]] = field(default_factory=list)  # (file, content hash if known yet)
    deleted: list[object] = field(default_factory=list)


def make_plan(store, scan: ScanResult, workers: int = 2) -> Plan:
    plan = Plan()
    known = {record.path: record for record in store.iter_files()}
    on_disk = {found.path for found in scan.files} | {path for path, _ in scan.broken}
    vanished = {path: r for path, r in known.items() if path not in on_disk and scan.covers(path)}
    # A moved or copied file keeps its size, so only files with the size of an indexed one can be
    # twins: the others (every file of a first run) are not hashed here but when they are stored.
    indexed_sizes = {r.size for r in known.values() if r.status == "indexed"}
    candidates = []
    for found in scan.files:
        record = known.get(found.path)
        if record is not None and record.status == "indexed" and (record.size, record.mtime) == (found.size, found.mtime):
            plan.unchanged += 1
        elif found.size in indexed_sizes:
            candidates.append((found, record))
        else:
            plan.embed.append((found, None))
    hashes = _hash_all([found.path for found, _ in candidates], workers)
    for (found, record), digest in zip(candidates, hashes):
        _place(plan, store, found, record, digest, vanished)
    plan.deleted = list(vanished.values())
    return plan


def _place(plan: Plan, store, found: FoundFile, record, digest: str | None, vanished: dict) -> None:
    if digest is None:
        plan.embed.append((found, None))  # unreadable: the pipeline records why
        return
    if record is not None:
        if record.status == "indexed" and record.content_hash == digest:
            plan.touched.append((record, found))
        else:
            plan.embed.append((found, digest))
        return
    twins = [r for r in store.find_by_hash(digest) if r.status == "indexed"]
    gone = [r for r in twins if r.path in vanished]
    if gone:
        del vanished[gone[0].path]
        plan.moved.append((gone[0], found))
    elif twins:
        plan.copied.append((twins[0], found))
    else:
        plan.embed.append((found, digest))


def hash_or_none(path) -> str | None:
    try:
        return content_hash(path)
    except DecodeError:
        return None


def _hash_all(paths: list[str], workers: int) -> list[str | None]:
    if len(paths) < 8:
        return [hash_or_none(p) for p in paths]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(hash_or_none, paths))


class BatchWriter:
    """Collects finished files and writes them `BATCH_FILES` (or `BATCH_SECONDS`) at a time."""

    def __init__(self, store):
        self.store = store
        self.pending: list = []  # callables, each writing one file
        self.opened = time.monotonic()

    def add(self, write) -> None:
        self.pending.append(write)
        if len(self.pending) >= BATCH_FILES or time.monotonic() - self.opened > BATCH_SECONDS:
            self.commit()

    def commit(self) -> None:
        if self.pending:
            with self.store.batch():
                for write in self.pending:
                    write()
        self.pending = []
        self.opened = time.monotonic()
