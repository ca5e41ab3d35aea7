"""A fast content identity for a file, so a moved or renamed file is recognised without decoding.

Files up to 3 MiB are hashed whole. Larger ones hash their size and three 1 MiB samples (start,
middle, end): constant time (three reads) even for multi-GB recordings. The trade-off: two files of
the same size that differ only outside those samples get the same hash. For move detection that is
an acceptable risk (an edit normally changes the size, the header or the tail); the store still
compares size and mtime first, and a false match would only re-path a file, never lose one.
"""

from __future__ import annotations

import hashlib
import os

from ..errors import DecodeError
from .reasons import os_reason

SAMPLE = 1 << 20  # bytes per sample region
WHOLE_FILE_LIMIT = 3 * SAMPLE


def content_hash(path) -> str:
    """32 hex characters (blake2b-128) of the size plus the content (or three samples); DecodeError if unreadable."""
    digest = hashlib.blake2b(digest_size=16)
    try:
        f = open(path, "rb")
    except OSError as error:
        raise DecodeError(os_reason(error)) from None
    with f:
        size = os.fstat(f.fileno()).st_size
        digest.update(size.to_bytes(8, "little"))
        if size <= WHOLE_FILE_LIMIT:
            digest.update(f.read())
        else:
            for offset in (0, size // 2 - SAMPLE // 2, size - SAMPLE):
                f.seek(offset)
                digest.update(f.read(SAMPLE))
    return digest.hexdigest()
