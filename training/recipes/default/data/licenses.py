"""Per-file licenses from a Debian copyright file.

Machine-readable (DEP-5) files list stanzas ``Files: <globs>`` + ``License:
<name>``; the last stanza whose glob matches a file wins, as the format says.
Globs name paths in the upstream source tree, not where the package installs
them, so a glob matches when it matches any trailing part of the installed
path (``data/sounds/*`` matches ``usr/share/games/x/data/sounds/a.wav``).
Where the upstream tree's top folders differ from the install location
(``etc/samples/a.flac`` installed as ``usr/share/sonic-pi/samples/a.flac``,
``mtg/mods/tnt/sounds/*`` as ``.../minetest_game/mods/tnt/sounds/...``),
leading folders of a glob are dropped too: down to the file name for an
exact name, down to three parts (``tnt/sounds/*``) for a wildcard glob, so
that a bare ``sounds/*`` never matches.
A glob naming an archive (``drumkits/Kit.h2drumkit``, ``base.wz``) also
covers the folder it unpacks to (``drumkits/Kit/...``, ``drumkits/Kit v4/...``).
Copyright files that are not DEP-5 get the license the source declares.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path


@dataclass
class FilesStanza:
    patterns: list[str]
    license: str


def parse_copyright(text: str) -> list[FilesStanza]:
    """The ``Files`` stanzas of a DEP-5 copyright file, in order (empty if not DEP-5)."""
    stanzas = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = _fields(block)
        if "files" in fields and "license" in fields:
            name = fields["license"].split("\n")[0].strip()
            stanzas.append(FilesStanza(fields["files"].split(), name))
    return stanzas


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = None
    for line in block.split("\n"):
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            fields[key] = value.strip()
    return fields


ARCHIVE_SUFFIXES = (".h2drumkit", ".zip", ".pk3", ".wz", ".tar.gz", ".tgz", ".ocg")


def _expand_archive(pattern: str) -> list[str]:
    for suffix in ARCHIVE_SUFFIXES:
        if pattern.endswith(suffix):
            stem = pattern[: -len(suffix)]
            return [pattern, stem + "/*", stem + " */*", stem + suffix + "/*"]
    return [pattern]


def _tails(pattern: str) -> list[str]:
    return [tail for variant in _expand_archive(pattern) for tail in _tails_of(variant)]


def _tails_of(pattern: str) -> list[str]:
    parts = pattern.split("/")
    keep = 3 if any(c in pattern for c in "*?[") else 1
    return ["/".join(parts[i:]) for i in range(max(len(parts) - keep + 1, 1))]


def _matches(pattern: str, path: str) -> bool:
    parts = path.split("/")
    suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
    return any(fnmatch.fnmatchcase(s, p) for p in _tails(pattern) for s in suffixes)


def license_for(stanzas: list[FilesStanza], path: str, fallback: str) -> str:
    """The license of one installed path (relative, '/'-separated)."""
    chosen = fallback
    for stanza in stanzas:
        if any(_matches(p, path) for p in stanza.patterns):
            chosen = stanza.license
    return chosen or fallback


def read_stanzas(package_root: Path, package: str) -> list[FilesStanza]:
    path = package_root / "usr/share/doc" / package / "copyright"
    if not path.exists():
        return []
    return parse_copyright(path.read_text(encoding="utf-8", errors="replace"))
