"""The words that come with a file: its folder and file names, split, plus embedded metadata.

Names are split at separators, camelCase and letter/digit boundaries ("HCGameOver_2.wav" ->
hc game over 2); UCS-style category prefixes ("DOGBark_...", "AMBUrbn") are also expanded to their
category words. Metadata comes from mutagen: ID3 frames, Vorbis comments, RIFF INFO and the BWF
description; unreadable tags are simply absent.
"""

from __future__ import annotations

import os
import re

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# The most common Universal Category System category codes (sound-effects library naming).
UCS_CATEGORIES = {
    "AMB": "ambience", "ANML": "animals", "BELL": "bells", "BIRD": "birds", "BOAT": "boat", "CART": "cartoon",
    "CERM": "ceramics", "CHAIN": "chains", "CLOCK": "clock", "CLOTH": "cloth", "COMP": "computers",
    "CRWD": "crowd", "DOOR": "door", "DRWR": "drawer", "DSGN": "designed", "ELEC": "electricity",
    "EXPL": "explosion", "FIRE": "fire", "FOLY": "foley", "FOOD": "food", "FTSP": "footsteps",
    "GLAS": "glass", "GUNS": "guns", "HORN": "horn", "IMPCT": "impact", "INDST": "industrial",
    "LASR": "laser", "MACH": "machine", "MAGC": "magic", "METL": "metal", "MOTR": "motor", "MUSC": "music",
    "PAPR": "paper", "RAIN": "rain", "ROBO": "robot", "ROCK": "rock", "SCFI": "science fiction",
    "SWSH": "swoosh", "TOOL": "tools", "TRAN": "transport", "UI": "user interface", "VEH": "vehicle",
    "VOX": "voice", "WATR": "water", "WEAP": "weapons", "WHSH": "whoosh", "WIND": "wind", "WOOD": "wood",
}
_UCS_PREFIX = re.compile(r"^(%s)(?=[A-Z][a-z]|[_\-\s]|$)" % "|".join(sorted(UCS_CATEGORIES, key=len, reverse=True)))
_META_KEYS = ("title", "artist", "album", "genre", "comment", "description", "keywords", "subject",
              "tit2", "tit1", "tit3", "tpe1", "talb", "tcon", "comm", "inam", "icmt", "ikey", "isbj", "ignr",
              "iart", "iprd")


def split_words(text: str) -> list[str]:
    """Lower-case words of a name or phrase: separators, camelCase and digits split it."""
    words = []
    for chunk in re.split(r"[^0-9A-Za-z\u00C0-\uFFFF]+", text):
        match = _UCS_PREFIX.match(chunk)
        if match:
            words.extend(UCS_CATEGORIES[match.group(1)].split())
        words.extend(part.lower() for part in _CAMEL.findall(chunk) or ([chunk] if chunk else []))
    return [w for w in words if w]


def path_words(path: str, root_depth: int = 4) -> str:
    """The words of a file's name and its nearest folders (the last `root_depth` of them)."""
    stem, _ = os.path.splitext(os.path.basename(path))
    folders = os.path.dirname(path).split(os.sep)[-root_depth:]
    return " ".join(split_words(" ".join(folders + [stem])))


def metadata_words(path: str) -> str:
    """Text of the file's embedded tags (title, artist, comment, genre, description...), or ""."""
    return " ".join(split_words(" ".join(_mutagen_texts(path) + _riff_info(path))))


def _mutagen_texts(path: str) -> list[str]:
    try:
        import mutagen

        tags = getattr(mutagen.File(path), "tags", None)
        items = list(tags.items()) if tags else []
    except Exception:  # a tag reader must never fail indexing: no words is the honest answer
        return []
    texts = []
    for key, value in items:
        name = str(key).split(":")[0].lower()
        if name in _META_KEYS or name.startswith("comm"):
            values = value if isinstance(value, list) else getattr(value, "text", [value])
            texts.extend(str(v) for v in (values if isinstance(values, list) else [values]))
    return texts


def _riff_info(path: str) -> list[str]:
    """RIFF INFO and BWF description strings of a WAV file (mutagen's WAVE reader skips them)."""
    if not path.lower().endswith((".wav", ".wave", ".bwf")):
        return []
    found = []
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
            if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return []
            while True:
                chunk = handle.read(8)
                if len(chunk) < 8:
                    break
                kind, size = chunk[:4], int.from_bytes(chunk[4:], "little")
                if kind == b"LIST" and size < 1 << 20:
                    body = handle.read(size + (size & 1))
                    if body[:4] == b"INFO":
                        found.extend(_info_strings(body[4:]))
                elif kind == b"bext" and size < 1 << 20:
                    body = handle.read(size + (size & 1))
                    found.append(body[:256].split(b"\0")[0].decode("latin-1", "replace"))
                else:
                    handle.seek(size + (size & 1), 1)
    except OSError:
        return []
    return found


def _info_strings(body: bytes) -> list[str]:
    strings, offset = [], 0
    while offset + 8 <= len(body):
        size = int.from_bytes(body[offset + 4:offset + 8], "little")
        strings.append(body[offset + 8:offset + 8 + size].split(b"\0")[0].decode("latin-1", "replace"))
        offset += 8 + size + (size & 1)
    return strings


def file_words(path: str) -> tuple[str, str]:
    """(name words, tag words) of one file, for the lexical index."""
    return path_words(path), metadata_words(path)
