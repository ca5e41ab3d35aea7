"""Find the audio files under the paths a user asks to index.

Folders are walked recursively, following symbolic links safely: every folder is visited once,
identified by (st_dev, st_ino), so a link back to a parent cannot loop. A folder that cannot be
listed is reported with a reason and, because its files were not seen, nothing under it is pruned.
A file reached twice (a second link, a hard link) is indexed once, under the first path found.
Files named explicitly are taken whatever their extension; files found in folders must carry one
of the audio extensions (case-insensitive).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from .audio.formats import AUDIO_EXTENSIONS
from .audio.reasons import os_reason
from .errors import ClapsearchError


@dataclass(frozen=True)
class FoundFile:
    path: str  # absolute, as reached (not resolved through links)
    size: int
    mtime: float  # seconds since the epoch, as os.stat reports it


@dataclass
class ScanResult:
    roots: list[str]  # absolute folders and files that were asked for
    files: list[FoundFile] = field(default_factory=list)
    broken: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): audio names that cannot be stat'ed
    unlisted: list[tuple[str, str]] = field(default_factory=list)  # (folder, reason): folders not walked

    def covers(self, path: str) -> bool:
        """True when `path` lies under a root and under no folder that could not be walked."""
        return any(_is_under(path, root) for root in self.roots) and not any(
            _is_under(path, folder) for folder, _ in self.unlisted
        )


def has_audio_extension(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS


def scan(paths, found=None) -> ScanResult:
    """The audio files under `paths`; `found(n)` (if given) is told of every n files found."""
    found = found or (lambda count: None)
    roots = [os.path.abspath(os.fspath(p)) for p in paths]
    for root in roots:
        if not os.path.lexists(root):
            raise ClapsearchError(f"Cannot index '{root}': no such file or folder; check the path.")
    result = ScanResult(roots=roots)
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    for root in roots:
        if os.path.isdir(root):
            _walk(root, result, seen_dirs, seen_files, found)
        else:
            _add_file(root, result, seen_files)
            found(1)
    result.files.sort(key=lambda f: f.path)
    return result


def _walk(top: str, result: ScanResult, seen_dirs: set, seen_files: set, found) -> None:
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
        except OSError as error:
            result.unlisted.append((folder, os_reason(error)))
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            continue  # reached again through a link: a loop or a second way in, walked once already
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as entries:
                entries = sorted(entries, key=lambda e: e.name)
        except OSError as error:
            result.unlisted.append((folder, os_reason(error)))
            continue
        for entry in reversed(entries):  # reversed + stack pop = walk in name order
            if _is_dir(entry):
                stack.append(entry.path)
            elif has_audio_extension(entry.name):
                _add_file(entry.path, result, seen_files)
                found(1)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False  # a broken or looping link: treated as a file name, reported there if audio


def _add_file(path: str, result: ScanResult, seen_files: set) -> None:
    try:
        info = os.stat(path)
    except OSError as error:
        result.broken.append((path, os_reason(error)))
        return
    if not stat.S_ISREG(info.st_mode):
        result.broken.append((path, "not a regular file (a pipe, socket or device cannot be indexed)"))
        return
    key = (info.st_dev, info.st_ino)
    if key in seen_files:
        return
    seen_files.add(key)
    result.files.append(FoundFile(path, info.st_size, info.st_mtime))


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
