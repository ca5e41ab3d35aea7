"""Class vocabularies bundled with clapsearch (clapsearch/assets/labels), in index order."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import clapsearch

LABELS_DIR = Path(clapsearch.__file__).parent / "assets" / "labels"


@lru_cache(maxsize=None)
def bundled_classes(file_name: str) -> tuple[str, ...]:
    """Names of a `{name: index}` JSON vocabulary, sorted by index."""
    mapping = json.loads((LABELS_DIR / file_name).read_text(encoding="utf-8"))
    return tuple(name for name, _ in sorted(mapping.items(), key=lambda item: item[1]))
