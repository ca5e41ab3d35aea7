"""Which file the browser gets for an indexed file: the file itself when browsers play its format,
else a WAV decoded once into the server's cache folder (e.g. AIFF, or WAV with an unusual codec)."""

from __future__ import annotations

import os
import threading

# soundfile "FORMAT/SUBTYPE" of files that Chrome and Firefox play as they are, and their MIME type.
BROWSER_FORMATS = {
    "WAV": ("audio/wav", {"PCM_16", "PCM_24", "PCM_U8", "FLOAT"}),
    "FLAC": ("audio/flac", None),
    "OGG": ("audio/ogg", {"VORBIS", "OPUS"}),
    "MP3": ("audio/mpeg", None),
}


def browser_type(stored_format: str | None) -> str | None:
    """The MIME type to serve a file of this stored format as, or None if a browser cannot play it."""
    container, _, subtype = (stored_format or "").partition("/")
    mime, subtypes = BROWSER_FORMATS.get(container, (None, None))
    if mime is None or (subtypes is not None and subtype not in subtypes):
        return None
    return mime


class WavCache:
    """WAV copies of files browsers cannot play, keyed by file id, size and mtime (a changed file is redone)."""

    def __init__(self, folder: str, write_wav):
        self.folder = folder
        self._write_wav = write_wav
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path_for(self, record) -> str:
        name = f"{record.id}-{record.size}-{int((record.mtime or 0) * 1e6)}.wav"
        target = os.path.join(self.folder, name)
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:  # two requests for the same new file decode it once
            if not os.path.exists(target):
                self._write_wav(record.path, target)
        return target
