"""MACS (Martin Morato & Mesaros 2021) -> manifest entries.

Layout as distributed (Zenodo 5114771): `MACS.yaml`, a list under `files:` of
`{filename: <TAU 2019 file>.wav, annotations: [{annotator_id, sentence, tags: [...]}, ...]}`; the
audio is the TAU Urban Acoustic Scenes 2019 development set,
`TAU-urban-acoustic-scenes-2019-development/audio/<filename>` (or `audio/<filename>` beside the
YAML). Every annotator's sentence is a caption; the union of their tags are the labels. The YAML
gives no per-clip license, so the entries carry none (see the TAU 2019 and MACS terms).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from training.benchmarks.base import DatasetLayoutError, first_existing, human, missing_files_error
from training.data.manifest import ManifestEntry

SOURCE = "macs"
WHAT = "MACS"
AUDIO_DIRS = ("TAU-urban-acoustic-scenes-2019-development/audio", "audio")


def read_yaml(path: Path) -> list[dict]:
    import yaml

    try:
        files = yaml.safe_load(path.read_text(encoding="utf-8"))["files"]
        return [{"filename": f["filename"], "annotations": list(f["annotations"])} for f in files]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise DatasetLayoutError(f"{WHAT}: {path} is not MACS.yaml with files: [{{filename, annotations}}] ({exc}).") from None


def entries(data_dir, splits=None) -> Iterator[ManifestEntry]:
    root = Path(data_dir)
    meta = root / "MACS.yaml"
    if not meta.is_file():
        raise DatasetLayoutError(f"{WHAT}: no MACS.yaml in {root}; point the adapter at the MACS directory.")
    audio = first_existing(root / d for d in AUDIO_DIRS)
    if audio is None:
        raise DatasetLayoutError(f"{WHAT}: no {AUDIO_DIRS[0]}/ under {root}; extract the TAU 2019 development audio there.")
    records = read_yaml(meta)
    missing = [r["filename"] for r in records if not (audio / r["filename"]).is_file()]
    if missing:
        raise missing_files_error(WHAT, audio, len(missing), missing[0])
    for record in records:
        captions = [str(a["sentence"]).strip() for a in record["annotations"] if str(a.get("sentence", "")).strip()]
        tags = sorted({human(str(tag)) for a in record["annotations"] for tag in (a.get("tags") or [])})
        if captions:
            path = (audio / record["filename"]).resolve()
            yield ManifestEntry(audio=str(path), captions=captions, labels=tags, source=SOURCE,
                                item=f"{SOURCE}:{record['filename']}")


DEFAULT_SPLITS = None
ALL_SPLITS = None
