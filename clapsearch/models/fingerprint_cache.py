"""Model identities cached by the identity of their weight files, so loading never rehashes tensors.

A cache entry holds what the torch reference computed once (fingerprint, logit scale) for a set of
files. It is found by each file's (size, mtime); when those differ, the files' content hashes are
computed and compared (a reinstall that rewrote the same bytes keeps its entry); only new content
pays for the full computation again. The cache is one small JSON file written atomically.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from .runtime.cache import atomic_write, cache_dir

SCHEME = 1  # bump when the fingerprint rule itself changes, so old entries stop matching


def _stat_key(paths: list[Path]) -> list[list]:
    return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in paths]


def file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_identity(name: str, paths: list[Path], compute: Callable[[], dict]) -> dict:
    """compute()'s result for these files, from the cache when the files are the ones it saw."""
    paths = [Path(p).resolve() for p in paths]
    cache_file = cache_dir() / "identity" / f"{name}.json"
    entries = _read(cache_file)
    stats = _stat_key(paths)
    for entry in entries:
        if entry.get("scheme") == SCHEME and entry["stats"] == stats:
            return entry["value"]
    hashes = [file_hash(p) for p in paths]
    match = next((e for e in entries if e.get("scheme") == SCHEME and e["hashes"] == hashes), None)
    value = match["value"] if match else compute()
    kept = [e for e in entries if e is not match][-7:]  # a few other versions (other envs) stay
    kept.append({"scheme": SCHEME, "stats": stats, "hashes": hashes, "value": value})
    try:
        atomic_write(cache_file, lambda temp: Path(temp).write_text(json.dumps(kept, indent=1)))
    except OSError:
        pass  # an unwritable cache only costs the computation next time
    return value


def _read(cache_file: Path) -> list[dict]:
    try:
        entries = json.loads(cache_file.read_text())
        return [e for e in entries if isinstance(e, dict) and {"stats", "hashes", "value"} <= set(e)]
    except (OSError, ValueError, TypeError):
        return []

