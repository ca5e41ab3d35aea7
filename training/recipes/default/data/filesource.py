"""A source made of audio files inside one Debian package.

A FileSource names its package, the folders (globs below the unpacked
package) that hold its audio, what to leave out (music tracks by default:
long songs say nothing about everyday sounds), extra dictionary words, and
optionally a captioner for files whose names need a special rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from training.data.manifest import ManifestEntry

from . import captions as cap
from .clips import AUDIO_SUFFIXES, MIN_SECONDS, duration_of, item_key, readable_copy, spans
from .licenses import license_for, read_stanzas
from .split import split_for


@dataclass
class Caption:
    """What a captioner says about one file."""

    captions: list[str]
    labels: list[str]
    group: str | None = None  # the item below the source, when file-name numbering is not what groups takes


# (relpath below the audio root, the root folder) -> Caption, or None to drop the file
Captioner = Callable[[PurePosixPath, Path], "Caption | None"]


@dataclass
class FileSource:
    name: str
    package: str
    roots: list[str]
    exclude: str = r"(^|/)(music|musics|Music)(/|$)|(?i:theme)"
    extra: dict[str, str] = field(default_factory=dict)
    context: str = ""
    license: str = ""  # used where the copyright file is not machine-readable
    captioner: Captioner | None = None
    prepare: Callable[[Path, Path], None] | None = None  # (package_root, cache_dir): unpack archives

    def caption(self, rel: PurePosixPath, root: Path) -> Caption | None:
        if self.captioner:
            return self.captioner(rel, root)
        return default_caption(rel, self.extra, self.context)


# Folders whose files are spoken lines (announcers, taunts, radio talk): the
# file name is then what is said, and the caption says so.
VOICE_FOLDERS = {"voice", "voices", "announcer", "coms", "taunts", "taunt", "speech", "vo", "vtoltalk"}


def default_caption(rel: PurePosixPath, extra: dict[str, str], context: str = "") -> Caption | None:
    """Description from the file stem; context from the folders (and the source's context)."""
    words = cap.english_words()
    description = cap.describe(rel.stem, extra, words)
    if not description:
        return None
    if any(token in VOICE_FOLDERS for part in rel.parent.parts for token in cap.split_name(part)):
        action = cap.vocal_sound(description)
        if action:
            return Caption(cap.vocal_phrasings(action), [f"person {action}"])
        return Caption(cap.spoken_phrasings(description), ["speech"])
    folders = " ".join(w for part in rel.parent.parts for w in [cap.describe(part, extra, words)] if w)
    where = ", ".join(x for x in (folders, context) if x and x not in description)
    return Caption(cap.phrasings(description, where), [description])


@dataclass
class ScanReport:
    entries: list[ManifestEntry]
    files: int = 0
    no_words: int = 0
    too_short: int = 0
    unreadable: int = 0
    excluded: int = 0
    seconds: float = 0.0


def scan(source: FileSource, package_root: Path, cache_dir: Path) -> ScanReport:
    """Every usable clip of a source, with captions, license, item and split."""
    stanzas = read_stanzas(package_root, source.package)
    report = ScanReport([])
    for root in sorted({p for pattern in source.roots for p in package_root.glob(pattern) if p.is_dir()}):
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file():
                _add(source, report, stanzas, package_root, root, path, cache_dir)
    return report


def _add(source, report, stanzas, package_root, root, path, cache_dir):
    report.files += 1
    rel = PurePosixPath(path.relative_to(root).as_posix())
    installed = path.relative_to(package_root).as_posix()
    if re.search(source.exclude, installed):
        report.excluded += 1
        return
    caption = source.caption(rel, root)
    if caption is None:
        report.no_words += 1
        return
    audio, duration = path, duration_of(path)
    if duration is None:
        audio = readable_copy(path, cache_dir / "converted" / source.name / rel.parent)
        duration = duration_of(audio) if audio else None
    if duration is None:
        report.unreadable += 1
        return
    if duration < MIN_SECONDS:
        report.too_short += 1
        return
    item = f"{source.name}/{caption.group or item_key(installed)}"
    license_name = license_for(stanzas, installed, source.license)
    for start, end in spans(duration):
        report.entries.append(ManifestEntry(
            audio=str(audio), captions=caption.captions, labels=caption.labels, source=source.name,
            license=license_name, item=item, start=start, end=end, split=split_for(item)))
        report.seconds += (end - start) if start is not None else duration
