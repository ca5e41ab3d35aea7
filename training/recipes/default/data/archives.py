"""Readers for the containers some games keep their audio in.

Zip (``.pk3``, ``.wz``, ``.zip``): only audio members are extracted, into
``<package root>/_archives/<archive file name>/``. Member names are checked
so nothing lands outside that folder.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from .clips import AUDIO_SUFFIXES


def extract_zip_audio(archive: Path, target: Path) -> int:
    """Extract the audio members of one zip into target; returns how many."""
    count = 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            if name.is_absolute() or ".." in name.parts:
                continue
            out = target.joinpath(*name.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(out, "wb") as dst:
                dst.write(src.read())
            count += 1
    return count


def _unpack_step(pattern: str, extract):
    """A prepare step: run extract(archive, target) once for every archive file matching pattern.

    Each archive unpacks into _archives/<name>/, marked done by an .extracted file so re-runs skip it.
    """

    def prepare(package_root: Path, cache_dir: Path) -> None:
        for archive in sorted(package_root.rglob(pattern)):
            if "_archives" in archive.parts or not archive.is_file():
                continue
            target = package_root / "_archives" / archive.name
            done = target / ".extracted"
            if not done.exists():
                target.mkdir(parents=True, exist_ok=True)
                extract(archive, target)
                done.write_text("ok\n")

    return prepare


def unpack_zips(pattern: str):
    """A prepare step: extract the audio of every zip matching pattern in the package."""
    return _unpack_step(pattern, extract_zip_audio)


def extract_ocg_audio(archive: Path, target: Path) -> int:
    """Extract the audio members of an OpenClonk .ocg group (see ocg.py) into target."""
    from .ocg import read_ocg

    count = 0
    for member in read_ocg(archive):
        name = PurePosixPath(member.name)
        if name.suffix.lower() not in AUDIO_SUFFIXES or ".." in name.parts:
            continue
        out = target.joinpath(*name.parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(member.data)
        count += 1
    return count


def unpack_ocgs(pattern: str):
    """A prepare step: extract the audio of every .ocg group file matching pattern."""
    return _unpack_step(pattern, extract_ocg_audio)
