"""A small reader for OpenClonk's ``.ocg`` group files (C4Group format).

Layout, as found in openclonk-data's files:
- the file is one gzip stream whose two magic bytes are written as 1E 8C
  instead of 1F 8B;
- the decompressed group starts with a 204-byte header, scrambled: every
  byte XOR 0xED, then bytes i and i+2 swapped in each 3-byte step. Unscrambled
  it reads ``RedWolf Design GrpFolder``, padding to 28 bytes, then little-endian
  int32 version 1, version 2 and the entry count;
- then one 316-byte entry record per member (not scrambled): name (260 bytes,
  NUL-terminated), int32 packed, int32 is-child-group, int32 size, int32
  reserved, int32 offset, then time, CRC and padding;
- member data follows the records, at (records end + offset). A child group
  is stored in place as the same structure (scrambled header, records, data)
  without its own gzip layer.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

HEADER_SIZE = 204
ENTRY_SIZE = 316
MAGIC = b"RedWolf Design GrpFolder"


@dataclass
class OcgMember:
    name: str
    data: bytes


def scramble(block: bytes) -> bytes:
    """The header transform; it is its own inverse."""
    out = bytearray(b ^ 0xED for b in block)
    for i in range(0, len(out) - 2, 3):
        out[i], out[i + 2] = out[i + 2], out[i]
    return bytes(out)


def decompress(raw: bytes) -> bytes:
    if raw[:2] == b"\x1e\x8c":
        raw = b"\x1f\x8b" + raw[2:]
    return gzip.decompress(raw)


def walk(group: bytes, prefix: PurePosixPath = PurePosixPath()):
    """Yield every file member (recursing into child groups) as OcgMember."""
    header = scramble(group[:HEADER_SIZE])
    if not header.startswith(MAGIC):
        raise ValueError("not a C4Group (bad header)")
    (entries,) = struct.unpack_from("<i", header, 36)
    data_start = HEADER_SIZE + entries * ENTRY_SIZE
    for index in range(entries):
        record = group[HEADER_SIZE + index * ENTRY_SIZE: HEADER_SIZE + (index + 1) * ENTRY_SIZE]
        name = record[:260].split(b"\0", 1)[0].decode("latin-1")
        _packed, child, size, _reserved, offset = struct.unpack_from("<5i", record, 260)
        body = group[data_start + offset: data_start + offset + size]
        if not name or "/" in name or name in (".", ".."):
            continue
        if child:
            yield from walk(body, prefix / name)
        else:
            yield OcgMember(str(prefix / name), body)


def read_ocg(path: Path):
    """Every file member of an .ocg file."""
    return walk(decompress(path.read_bytes()))


def build_group(members: dict[str, bytes | dict]) -> bytes:
    """Write an (uncompressed) group; used by tests to make tiny archives."""
    bodies, records, offset = [], [], 0
    for name, content in members.items():
        body = build_group(content) if isinstance(content, dict) else content
        record = name.encode("latin-1").ljust(260, b"\0")
        record += struct.pack("<5i", 0, int(isinstance(content, dict)), len(body), 0, offset)
        records.append(record.ljust(ENTRY_SIZE, b"\0"))
        bodies.append(body)
        offset += len(body)
    header = (MAGIC.ljust(28, b"\0") + struct.pack("<3i", 1, 2, len(members))).ljust(HEADER_SIZE, b"\0")
    return scramble(header) + b"".join(records) + b"".join(bodies)


def compress(group: bytes) -> bytes:
    """Gzip with OpenClonk's altered magic bytes."""
    raw = gzip.compress(group, mtime=0)
    return b"\x1e\x8c" + raw[2:]
