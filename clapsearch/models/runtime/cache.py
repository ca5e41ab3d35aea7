"""The user cache folder and atomic writes into it (temp file + rename, so a reader never sees half a file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """CLAPSEARCH_CACHE_DIR, else the user cache folder (e.g. ~/.cache/clapsearch)."""
    if os.environ.get("CLAPSEARCH_CACHE_DIR"):
        return Path(os.environ["CLAPSEARCH_CACHE_DIR"])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("clapsearch", appauthor=False))


def atomic_write(path: Path, write) -> Path:
    """Call write(temp_path), then rename the temp file onto `path` (atomic on one file system)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return path


def export_somewhere(module, path: Path, export) -> Path:
    """export(module, path) into the cache; where it cannot be written, into a temporary folder for this process."""
    try:
        return export(module, path)
    except OSError:
        import atexit
        import shutil

        folder = tempfile.mkdtemp(prefix="clapsearch-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return export(module, Path(folder) / path.name)
