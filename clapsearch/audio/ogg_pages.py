"""Check that an Ogg file is an unbroken chain of pages, to find damage the decoder hides.

libvorbis and libopus skip pages they cannot use and carry on, and libsndfile reports no error,
so a file with garbage in the middle decodes to plausible audio with a gap or a glitch. An Ogg file
is a sequence of pages, each "OggS" + a header giving its length and a per-stream sequence number.
Walking the pages finds bytes that belong to no page and sequence numbers that skip, which is what
a damaged copy, a bad sector or a botched edit leaves. (Page checksums are not verified: that
would mean a CRC over every byte in Python; the structure alone catches overwritten stretches.)
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

_CAPTURE = b"OggS"
_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, segments


@dataclass(frozen=True)
class OggDamage:
    bad_bytes: int  # bytes that belong to no valid page
    first_offset: int  # where the first damage starts
    missing_pages: int  # pages whose sequence numbers were skipped


def find_damage(path) -> OggDamage | None:
    """The damage in an Ogg file's page structure, or None when the pages form an unbroken chain."""
    with open(path, "rb") as handle:
        try:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            return None
        with data:
            return _walk(data)


def _walk(data) -> OggDamage | None:
    position, bad, first, missing = 0, 0, None, 0
    next_sequence: dict[int, int] = {}
    while position < len(data):
        length = _page_length(data, position)
        if length is None:  # not a page here: skip to the next capture pattern
            resume = data.find(_CAPTURE, position + 1)
            resume = len(data) if resume < 0 else resume
            bad += resume - position
            first = position if first is None else first
            position = resume
            continue
        serial, sequence = _HEADER.unpack_from(data, position)[4:6]
        expected = next_sequence.get(serial)
        if expected is not None and sequence != expected:
            missing += max(0, sequence - expected)
            first = position if first is None else first
        next_sequence[serial] = sequence + 1
        position += length
    if bad == 0 and missing == 0:
        return None
    return OggDamage(bad, first, missing)


def _page_length(data, position: int) -> int | None:
    """The length of a whole, well-formed page at `position`, else None."""
    if position + _HEADER.size > len(data) or data[position:position + 4] != _CAPTURE:
        return None
    version, segments = data[position + 4], data[position + 26]
    table_end = position + _HEADER.size + segments
    if version != 0 or table_end > len(data):
        return None
    length = _HEADER.size + segments + sum(data[position + _HEADER.size:table_end])
    end = position + length
    if end > len(data) or (end < len(data) and data[end:end + 4] != _CAPTURE):
        return None  # cut short, or followed by something that is not a page
    return length
