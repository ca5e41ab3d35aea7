"""Build the manifests: one per source under cache/manifests, plus a merged one.

A source's manifest is written once and reused (delete it to rebuild); the
merged manifest is rewritten from all per-source manifests on every run.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from training.data.manifest import read_manifest, write_manifest

from .fetch import deb_size, unpack
from .filesource import scan


def default_cache() -> Path:
    return Path(os.environ.get("CLAPSEARCH_RECIPE_CACHE",
                               Path.home() / ".cache" / "clapsearch" / "recipe-default"))


def all_source_names() -> list[str]:
    from .generated import GENERATED
    from .sources import FILE_SOURCES

    return [s.name for s in FILE_SOURCES] + list(GENERATED)


def build_source(cache_dir: Path, name: str) -> Path:
    """Fetch, unpack and caption one source; returns its manifest path."""
    from .generated import GENERATED
    from .sources import BY_NAME

    out = cache_dir / "manifests" / f"{name}.jsonl"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    began = time.time()
    if name in GENERATED:
        entries, stats = GENERATED[name](cache_dir)
        stats["hours"] = round(_seconds(entries) / 3600, 3)
        package = name
    else:
        source = BY_NAME[name]
        root = unpack(cache_dir, source.package)
        if source.prepare:
            source.prepare(root, cache_dir)
        report = scan(source, root, cache_dir)
        entries, package = report.entries, source.package
        stats = {k: getattr(report, k) for k in ("files", "no_words", "too_short", "unreadable", "excluded")}
        stats["hours"] = round(report.seconds / 3600, 3)
    stats.update(_summary(entries), deb_bytes=deb_size(cache_dir, package), seconds_taken=round(time.time() - began, 1))
    write_manifest(out, entries)
    (cache_dir / "manifests" / f"{name}.stats.json").write_text(json.dumps(stats, indent=1))
    return out


def _seconds(entries) -> float:
    from .clips import duration_of

    total = 0.0
    for entry in entries:
        total += (entry.end - entry.start) if entry.start is not None else (duration_of(Path(entry.audio)) or 0.0)
    return total


def _summary(entries) -> dict:
    from collections import Counter

    return {"clips": len(entries), "licenses": dict(Counter(e.license for e in entries)),
            "splits": dict(Counter(e.split for e in entries))}


def merge(cache_dir: Path, names: list[str]) -> Path:
    """Concatenate the per-source manifests that exist into cache/manifest.jsonl."""
    def entries():
        for name in names:
            path = cache_dir / "manifests" / f"{name}.jsonl"
            if path.exists():
                yield from read_manifest(path)

    merged = cache_dir / "manifest.jsonl"
    # a per-process name first, so two builds merging at once never share a temp file
    mine = cache_dir / f"manifest.{os.getpid()}.jsonl"
    write_manifest(mine, entries())
    mine.replace(merged)
    return merged


def build_all(cache_dir: Path | None = None, sources: list[str] | None = None, jobs: int = 2) -> Path:
    """Build every (or the named) source, then merge every built source; returns the merged path.

    A source that fails is reported and left out; the others still merge.
    """
    from .captions import WORD_LIST, english_words

    if english_words() is None:
        raise RuntimeError(f"The caption rules need an English word list at {WORD_LIST}; "
                           "install it with `apt-get install wamerican`.")
    cache_dir = Path(cache_dir or default_cache())
    names = sources or all_source_names()
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        futures = {name: pool.submit(build_source, cache_dir, name) for name in names}
    for name, future in futures.items():
        if future.exception():
            print(f"source {name} failed: {future.exception()}")
    return merge(cache_dir, all_source_names())
