"""What the tests may use from outside the repository, the temporary folders and the installed Python.

A fresh CI machine has only what `.ci/run` installs. A test that quietly reads a file or runs a
program that happens to be on a developer's machine passes there and fails on a new one. So
conftest.py installs an audit hook that records every file a test opens and every program it starts,
and fails the test when one lies outside the allowed places and is not declared below.

Each declaration names the Debian package that provides the path; tests/test_external_reads.py
checks that `.ci/run` installs every package named here.

What the hook sees: files opened from Python (open(), os.open(), io, zipfile, ...) and programs
started with subprocess or os.exec*/posix_spawn. Files opened inside C libraries (libsndfile,
FAISS, SQLite) and everything a child process does are not seen.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import tempfile

# path (file or folder prefix) -> (Debian package, why a test needs it)
DECLARED: dict[str, tuple[str, str]] = {
    "/usr/share/dict/words": ("wamerican", "the training recipe splits run-together names with this word list"),
    "/usr/share/dict/american-english": ("wamerican", "/usr/share/dict/words is a link to it"),
    "/usr/share/wordnet/": ("wordnet-base", "the training recipe widens captions with WordNet's nouns"),
    "/usr/bin/chromium": ("chromium", "the web app's browser tests drive Debian's Chromium with Playwright"),
    "/usr/lib/chromium/": ("chromium", "Chromium's own files, started by Playwright"),
}

# System places every Python process reads that say nothing about the test's own needs: the
# kernel's files, devices, the dynamic loader's and libc's configuration, time zones, locales,
# TLS certificates and MIME types (read by the standard library itself).
_SYSTEM_PREFIXES = ("/proc/", "/sys/", "/dev/", "/etc/", "/usr/share/zoneinfo/", "/usr/lib/locale/",
                    "/usr/share/locale/", "/usr/lib/ssl/", "/usr/share/ca-certificates/", "/run/")

# Programs the standard library itself runs (ctypes.util.find_library asks ldconfig), from
# Debian's essential libc-bin, on every machine.
_SYSTEM_PROGRAMS = ("/sbin/ldconfig", "/usr/sbin/ldconfig")

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _allowed_prefixes() -> tuple[str, ...]:
    places = {_REPO, tempfile.gettempdir(), sys.prefix, sys.base_prefix, sys.exec_prefix,
              os.path.dirname(os.path.realpath(sys.executable))}
    places.update(p for p in sysconfig.get_paths().values() if p)
    places.update(site.getsitepackages())
    places.add(os.path.realpath(tempfile.gettempdir()))
    return tuple(sorted({os.path.join(os.path.abspath(p), "") for p in places})) + _SYSTEM_PREFIXES


ALLOWED_PREFIXES = _allowed_prefixes()


def is_declared(path: str) -> bool:
    return any(path == known or (known.endswith("/") and path.startswith(known)) for known in DECLARED)


def is_outside(path) -> bool:
    """True when a test may not touch `path` without declaring it."""
    if isinstance(path, int):
        return False  # an already open descriptor
    if path in _SYSTEM_PROGRAMS:
        return False
    try:
        text = os.fsdecode(path)
    except (TypeError, ValueError):
        return False
    absolute = os.path.abspath(text)
    candidates = {absolute}
    if os.path.islink(absolute) or not absolute.startswith(ALLOWED_PREFIXES):
        candidates.add(os.path.realpath(absolute))  # a link into the allowed places is fine
    if any(c.startswith(ALLOWED_PREFIXES) or c + "/" in ALLOWED_PREFIXES for c in candidates):
        return False
    return not any(is_declared(c) for c in candidates)


def program_of(event: str, args: tuple):
    """The program a subprocess/exec audit event starts, or None."""
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        if executable:
            return executable
        if isinstance(argv, (list, tuple)) and argv:
            return argv[0]
        return argv if isinstance(argv, (str, bytes)) else None
    if event in ("os.exec", "os.posix_spawn"):
        return args[0]
    return None


def resolve_program(program) -> str:
    """An absolute path for a program named as on a command line (looked up on PATH)."""
    import shutil

    text = os.fsdecode(program)
    if os.sep in text:
        return os.path.abspath(text)
    found = shutil.which(text)
    return os.path.abspath(found) if found else text
