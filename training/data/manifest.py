"""The training manifest: JSON Lines, one clip per line.

    {"audio": "/abs/path/clip.ogg",          # any format clapsearch.audio decodes
     "captions": ["a dog barks", "..."],     # one or more; training samples one per step
     "labels": ["dog"],                      # optional class names (zero-shot validation)
     "source": "0ad-data",                   # where it came from (Debian package, dataset name)
     "license": "CC-BY-SA-3.0",              # the clip's license
     "item": "0ad-data/audio/dog_bark",      # source item: splits never separate one item
     "start": null, "end": null,             # optional excerpt, seconds
     "split": "train"}                       # optional: "train" | "val" | "test"
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator


@dataclass
class ManifestEntry:
    audio: str
    captions: list[str]
    labels: list[str] = field(default_factory=list)
    source: str = ""
    license: str = ""
    item: str = ""
    start: float | None = None
    end: float | None = None
    split: str | None = None

    def __post_init__(self):
        if not self.captions:
            raise ValueError(f"Manifest entry for {self.audio!r} has no caption.")
        if not self.item:
            self.item = self.audio


def read_manifest(path: str | Path) -> Iterator[ManifestEntry]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield ManifestEntry(**json.loads(line))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: bad manifest line ({exc}).") from exc


def write_manifest(path: str | Path, entries: Iterable[ManifestEntry]) -> int:
    """Write entries atomically (temp file + rename); returns how many were written."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with open(tmp, "w", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count
